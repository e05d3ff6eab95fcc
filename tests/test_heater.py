"""Backup heater: reaches its set point within capacity, saturates at capacity, draws Q/η
(electricity, or fuel with its CO2), and balances energy exactly."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import solve_yaml

from twin.audit import audit
from twin.thermo import combustion

PLANT = textwrap.dedent("""\
    name: backup
    duration: 2 h
    output_interval: 10 min
    solver: {method: tsit5, rtol: 1.0e-8, atol: 1.0e-8}
    components:
      cold: {type: source, fluid: water, mass_flow: 1 kg/s, temperature: 40 degC}
      boost: {type: heater, fluid: water, energy: electric, nominal_power: 200 kW, efficiency: 0.98,
              set_point: {kind: step, times: [0 h, 1 h], values: [70 degC, 95 degC]}}
      gas_boost: {type: heater, fluid: water, energy: natural_gas, nominal_power: 100 kW, efficiency: 0.9, set_point: 70 degC}
      drain: {type: stack}
      cold2: {type: source, fluid: water, mass_flow: 1 kg/s, temperature: 40 degC}
      drain2: {type: stack}
    connections:
      - [cold.outlet, boost.inlet]
      - [boost.outlet, drain.inlet]
      - [cold2.outlet, gas_boost.inlet]
      - [gas_boost.outlet, drain2.inlet]
    """)
CP = 4184.0  # Buildings.Media.Water [J/(kg K)]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return solve_yaml(PLANT, tmp_path_factory.mktemp("heater"))


def test_set_point_then_capacity(run):
    _, sol = run
    s, t = sol.signals, sol.ts
    # within capacity (1 kg/s x 4184 x 30 K = 125.5 kW < 200 kW): the set point, to the
    # smoothing width (0.1 K of water)
    np.testing.assert_allclose(s["boost.outlet.T"][t < 3600], 343.15, atol=0.01)
    # 95 degC needs 230 kW: capped at 200 kW -> 40 + 200e3 / 4184 = 87.80 degC
    np.testing.assert_allclose(s["boost.outlet.T"][t > 3600], 313.15 + 200e3 / CP, atol=0.01)
    # the 100 kW boiler cannot reach 70 degC either: 40 + 100e3 / 4184 = 63.90 degC
    np.testing.assert_allclose(s["gas_boost.outlet.T"], 313.15 + 100e3 / CP, atol=0.01)


def test_energy_drawn_and_co2(run):
    plant, sol = run
    rep = audit(plant, plant.initial_state(), sol.y_final)
    assert rep.plant.closure < 1e-12
    e = rep.components["boost"]
    Q = rep.tallies["boost"]["heat_supplied"]
    assert e.flows["electricity"] == pytest.approx(Q / 0.98, rel=1e-12)
    assert e.flows["conversion_loss"] == pytest.approx(-(Q / 0.98 - Q), rel=1e-9)
    g = rep.components["gas_boost"]
    fuel = g.flows["fuel"]
    assert fuel == pytest.approx(100e3 * 7200 / 0.9, rel=1e-4)  # at capacity all the run
    ng = combustion.FUELS["natural_gas"]
    co2 = fuel / float(combustion.lower_heating_value(ng)) * float(combustion.flue_gas(ng, 0.0).co2_per_kg_fuel)
    assert rep.tallies["gas_boost"]["co2"] == pytest.approx(co2, rel=1e-12)


def test_without_a_grid_factor_co2_counts_fuel_only(run):
    """No ``economics.grid_co2``: the grid's CO2 is unknown (NaN), not zero, and the total
    counts what is known (the boiler's fuel) rather than turning NaN."""
    from twin.kpi import kpis

    plant, sol = run
    k = kpis(audit(plant, plant.initial_state(), sol.y_final))
    assert k["electricity"] > 0 and np.isnan(k["co2_grid"])
    assert k["co2_mass"] == pytest.approx(k["co2_fuel"], rel=0) and k["co2_fuel"] > 0
