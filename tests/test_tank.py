"""Stratified tank: energy and mass to round-off, a thermocline while charging, buoyancy
mixing of an inversion to the mass-weighted mean temperature, and the lumped loss time
constant of a uniform tank (Duffie & Beckman sec. 8.4; Modelica Buildings Stratified)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import solve_yaml

from twin.audit import audit

YAML = textwrap.dedent("""\
    name: tank
    duration: 6 h
    output_interval: 5 min
    solver: {method: tsit5, rtol: 1.0e-8, atol: 1.0e-8}
    schedules:
      charge: {kind: step, times: [0 h, 3 h], values: [1.0, 0.0]}
      load:   {kind: step, times: [0 h, 3 h], values: [0.0, 1.0]}
    components:
      heater: {type: source, fluid: water, mass_flow: {nominal: 0.5 kg/s, schedule: charge}, temperature: 70 degC}
      user:   {type: source, fluid: water, mass_flow: {nominal: 0.3 kg/s, schedule: load}, temperature: 20 degC}
      tank:
        type: stratified_tank
        fluid: water
        volume: 5 m^3
        height: 3 m
        layers: 12
        U_loss: 0.5 W/m^2/K
        initial_temperature: 20 degC
      to_heater: {type: stack}
      to_user: {type: stack}
    connections:
      - [heater.outlet, tank.hot_in]
      - [tank.cold_out, to_heater.inlet]
      - [user.outlet, tank.cold_in]
      - [tank.hot_out, to_user.inlet]
    """)


@pytest.fixture(scope="module")
def charged(tmp_path_factory):
    return solve_yaml(YAML, tmp_path_factory.mktemp("tank"), "tank.yaml")


def test_energy_closes_to_round_off(charged):
    plant, sol = charged
    rep = audit(plant, plant.initial_state(), sol.y_final)
    assert rep.components["tank"].closure < 1e-12 and rep.plant.closure < 1e-12
    assert rep.components["tank"].flows["envelope_loss"] < 0  # a warm tank loses heat


def test_thermocline_while_charging_and_hot_supply_when_discharging(charged):
    _, sol = charged
    T = sol.signals["tank.T"]
    i = np.searchsorted(sol.ts, 1.5 * 3600)  # mid-charge: 2.7 m^3 of 5 m^3 replaced
    # hot on top, cold at the bottom, monotone in between (stable stratification)
    assert np.all(np.diff(T[i]) <= 1e-6)
    assert T[i, 0] > 340.0 and T[i, -1] < 300.0
    # while discharging, the load gets the hot top layer while the bottom refills cold
    j = np.searchsorted(sol.ts, 4 * 3600)
    assert sol.signals["tank.hot_out.T"][j] > 335.0
    assert sol.signals["tank.stratification"][j] > 20.0


def test_inversion_mixes_to_the_mean(tmp_path):
    """Cold over hot, no flows, no losses: buoyancy mixes to the mean temperature (a uniform
    tank), and energy stays constant."""
    text = YAML.replace("initial_temperature: 20 degC",
                        "initial_temperature: [20 degC, 20 degC, 20 degC, 20 degC, 20 degC, 20 degC, "
                        "60 degC, 60 degC, 60 degC, 60 degC, 60 degC, 60 degC]")
    text = text.replace("U_loss: 0.5 W/m^2/K", "U_loss: 0 W/m^2/K")
    text = text.replace("values: [1.0, 0.0]", "values: [0.0, 0.0]").replace("values: [0.0, 1.0]", "values: [0.0, 0.0]")
    plant, sol = solve_yaml(text, tmp_path, "inv.yaml")
    T = sol.signals["tank.T"]
    # equal layer masses and constant cp: the mean stays exactly 40 degC (energy) ...
    np.testing.assert_allclose(T.mean(axis=1), 313.15, rtol=0, atol=1e-9)
    # ... while buoyancy (300 s per inverted pair, diffusion-like across 12 layers, about
    # N^2 tau / pi^2 = 1.2 h) brings the 40 K inversion down to a fraction of a kelvin in 6 h
    spread = T.max(axis=1) - T.min(axis=1)
    assert spread[0] == pytest.approx(40.0) and spread[-1] < 0.5
    assert np.all(np.diff(spread) <= 1e-9)  # mixing never re-separates
    rep = audit(plant, plant.initial_state(), sol.y_final)
    assert abs(rep.components["tank"].dE_stored) < 1e-9 * 5 * 995.586 * 4184 * 40
