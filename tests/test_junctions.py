"""Splitter and mixer: exact mass and energy bookkeeping, the adiabatic mixing temperature,
and a loop made only of stateless parts rejected as an algebraic loop."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import solve_yaml

from twin.audit import audit
from twin.scenario.build import load_scenario
from twin.scenario.errors import ScenarioError

BYPASS = textwrap.dedent("""\
    name: bypass
    duration: 2 h
    output_interval: 5 min
    solver: {method: tsit5, rtol: 1.0e-8, atol: 1.0e-8}
    schedules:
      share: {kind: step, times: [0 h, 1 h], values: [0.3, 0.8]}
    components:
      supply: {type: source, fluid: water, mass_flow: 2 kg/s, temperature: 80 degC}
      valve: {type: splitter, fluid: water, fraction: share}
      user: {type: heat_demand, fluid: water, demand: 60 kW, fluid_holdup: 200 kg, min_temperature: 30 degC, initial_temperature: 60 degC}
      merge: {type: mixer, fluid: water}
      drain: {type: stack}
    connections:
      - [supply.outlet, valve.inlet]
      - [valve.outlet_a, user.supply]
      - [valve.outlet_b, merge.inlet_b]
      - [user.return, merge.inlet_a]
      - [merge.outlet, drain.inlet]
    """)


@pytest.fixture(scope="module")
def bypass(tmp_path_factory):
    return solve_yaml(BYPASS, tmp_path_factory.mktemp("junctions"), "bypass.yaml")


def test_split_fractions_and_mass(bypass):
    _, sol = bypass
    s, t = sol.signals, sol.ts
    m_a, m_b = s["valve.outlet_a.m_flow"], s["valve.outlet_b.m_flow"]
    np.testing.assert_allclose(m_a + m_b, 2.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(m_a[t < 3600], 0.6, rtol=1e-15)
    np.testing.assert_allclose(m_a[t > 3600], 1.6, rtol=1e-15)
    np.testing.assert_allclose(s["merge.outlet.m_flow"], 2.0, rtol=1e-15)


def test_mixing_temperature_is_the_mass_weighted_mean(bypass):
    _, sol = bypass
    s = sol.signals
    # water has constant cp, so adiabatic mixing gives the mass-weighted mean temperature
    T_mix = (s["valve.outlet_a.m_flow"] * s["user.return.T"] + s["valve.outlet_b.m_flow"] * s["valve.outlet_b.T"]) / 2.0
    np.testing.assert_allclose(s["merge.outlet.T"], T_mix, rtol=0, atol=1e-10)
    assert np.all(s["merge.outlet.T"] < 353.15)  # the user cooled its share


def test_energy_closes(bypass):
    plant, sol = bypass
    rep = audit(plant, plant.initial_state(), sol.y_final)
    assert rep.plant.closure < 1e-12
    for name in ("valve", "merge"):
        bal = rep.components[name]  # no storage: what enters leaves
        assert abs(bal.E_in - bal.E_out) <= 1e-12 * bal.E_in


def test_loop_of_stateless_parts_is_an_algebraic_loop(tmp_path):
    text = textwrap.dedent("""\
        name: loop
        duration: 1 h
        components:
          pump: {type: pump, fluid: water, mass_flow: 1 kg/s, pressure_rise: 1 bar}
          valve: {type: splitter, fluid: water, fraction: 0.5}
          merge: {type: mixer, fluid: water}
        connections:
          - [pump.outlet, valve.inlet]
          - [valve.outlet_a, merge.inlet_a]
          - [valve.outlet_b, merge.inlet_b]
          - [merge.outlet, pump.inlet]
        """)
    path = tmp_path / "loop.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "algebraic loop" in str(info.value)
