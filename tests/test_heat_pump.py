"""Heat pump: COP from the Carnot efficiency, exact energy balance (Q_cond = W + Q_evap), the
source-side limit, and a "post-Carnot" efficiency rejected as an impossible input."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import solve_yaml

from twin.audit import audit
from twin.scenario.build import load_scenario
from twin.scenario.errors import ScenarioError

PLANT = textwrap.dedent("""\
    name: lift
    duration: 1 h
    output_interval: 10 min
    solver: {method: tsit5, rtol: 1.0e-8, atol: 1.0e-8}
    components:
      sink: {type: source, fluid: water, mass_flow: 1 kg/s, temperature: 40 degC}
      waste: {type: source, fluid: water, mass_flow: 2 kg/s, temperature: 20 degC}
      hp: {type: heat_pump, sink_fluid: water, source_fluid: water, nominal_power: 200 kW,
           carnot_efficiency: 0.5, approach: 5 K, source_max_cooling: 10 K, set_point: 60 degC}
      sink2: {type: source, fluid: water, mass_flow: 1 kg/s, temperature: 40 degC}
      waste2: {type: source, fluid: water, mass_flow: 0.5 kg/s, temperature: 20 degC}
      hp2: {type: heat_pump, sink_fluid: water, source_fluid: water, nominal_power: 200 kW,
            carnot_efficiency: 0.5, approach: 5 K, source_max_cooling: 10 K, set_point: 60 degC}
      d1: {type: stack}
      d2: {type: stack}
      d3: {type: stack}
      d4: {type: stack}
    connections:
      - [sink.outlet, hp.sink_in]
      - [hp.sink_out, d1.inlet]
      - [waste.outlet, hp.source_in]
      - [hp.source_out, d2.inlet]
      - [sink2.outlet, hp2.sink_in]
      - [hp2.sink_out, d3.inlet]
      - [waste2.outlet, hp2.source_in]
      - [hp2.source_out, d4.inlet]
    """)
CP = 4184.0


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return solve_yaml(PLANT, tmp_path_factory.mktemp("hp"))


def test_cop_and_outlet_temperatures(run):
    _, sol = run
    s = sol.signals
    Q = 1.0 * CP * 20.0  # to the 60 degC set point (smoothing: ~0.1 K)
    T_cond, T_evap = 333.15 + 5.0, 293.15 - 5.0
    cop = 0.5 * T_cond / (T_cond - T_evap)
    # the lift is bounded below by a smooth 1 K (width 0.5 K): at a 50 K lift it adds
    # 0.5^2 / (4 * 49) = 1.3e-3 K, i.e. 2.6e-5 of the COP
    np.testing.assert_allclose(s["hp.COP"], cop, rtol=1e-4)
    np.testing.assert_allclose(s["hp.Q_flow_condenser"], Q, rtol=1e-3)
    np.testing.assert_allclose(s["hp.sink_out.T"], 333.15, atol=0.01)
    np.testing.assert_allclose(s["hp.source_out.T"], 293.15 - Q * (1 - 1 / cop) / (2.0 * CP), atol=0.01)


def test_source_limit(run):
    _, sol = run
    s = sol.signals
    # 0.5 kg/s cooled by at most 10 K gives 20.9 kW: the condenser gets Q_evap / (1 - 1/COP)
    Q_evap = 0.5 * CP * 10.0
    np.testing.assert_allclose(s["hp2.Q_flow_evaporator"], Q_evap, rtol=2e-3)
    assert np.all(s["hp2.sink_out.T"] < 333.15 - 5.0)  # the set point is out of reach
    np.testing.assert_allclose(s["hp2.source_out.T"], 283.15, atol=0.05)


def test_energy_balance(run):
    plant, sol = run
    rep = audit(plant, plant.initial_state(), sol.y_final)
    assert rep.plant.closure < 1e-12
    for name in ("hp", "hp2"):
        t = rep.tallies[name]
        W = rep.components[name].flows["electricity"]
        assert t["heat_supplied"] == pytest.approx(W + t["heat_recovered"], rel=1e-12)


def test_post_carnot_efficiency_is_rejected(tmp_path):
    path = tmp_path / "magic.yaml"
    path.write_text(PLANT.replace("carnot_efficiency: 0.5, approach", "carnot_efficiency: 1.2, approach", 1))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "components.hp.carnot_efficiency" in str(info.value)


def test_post_carnot_heat_pump_is_caught_by_the_exergy_audit(run):
    """Built through the Python API (the schema would refuse it), a heat pump with η_C = 1.6
    creates exergy; the audit names it and nothing else."""
    import equinox as eqx

    from twin.core import solve

    plant, _ = run
    fake = eqx.tree_at(lambda p: p.components["hp"].eta_carnot, plant, np.float64(1.6))
    n0 = solve.COMPILE_COUNT
    # the scenario's own duration, output interval and solver: the fixture's compile is reused
    sol = solve.simulate(fake, 3600.0, 600.0, solve.SolverConfig(rtol=1e-8, atol=1e-8))
    assert solve.COMPILE_COUNT == n0
    rep = audit(fake, fake.initial_state(), sol.y_final)
    assert rep.exergy["hp"].destruction < 0
    msgs = rep.second_law_violations()
    assert len(msgs) == 1 and msgs[0].startswith("hp: exergy destruction")
    # the honest plant destroys exergy in both heat pumps
    honest = audit(plant, plant.initial_state(), run[1].y_final)
    assert not honest.second_law_violations()
    assert honest.exergy["hp"].destruction > 0 and honest.exergy["hp2"].destruction > 0
