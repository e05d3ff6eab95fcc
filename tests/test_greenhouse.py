"""Greenhouse RC model: the steady state of the proportional valve against the analytic
balance, and exact energy bookkeeping (envelope, ground and pipe heat)."""

from __future__ import annotations

import math
import textwrap

import pytest
from conftest import solve_yaml
from scipy.optimize import brentq

from twin.audit import audit

PLANT = textwrap.dedent("""\
    name: greenhouse
    duration: 10 d
    output_interval: 1 h
    ambient: {temperature: 5 degC}
    solver: {method: tsit5, rtol: 1.0e-9, atol: 1.0e-9}
    components:
      boiler_loop: {type: source, fluid: water, mass_flow: 5 kg/s, temperature: 60 degC}
      house: {type: greenhouse, fluid: water, air_heat_capacity: 50 MJ/K, soil_heat_capacity: 500 MJ/K,
              envelope_UA: 40 kW/K, soil_conductance: 20 kW/K, ground_conductance: 5 kW/K,
              ground_temperature: 10 degC, pipe_UA: 60 kW/K, valve_gain: 0.5, set_point: 18 degC,
              initial_temperature: 12 degC}
      drain: {type: stack}
    connections:
      - [boiler_loop.outlet, house.supply]
      - [house.return, drain.inlet]
    """)
CP, M = 4184.0, 5.0


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return solve_yaml(PLANT, tmp_path_factory.mktemp("greenhouse"))


def test_steady_state_matches_the_analytic_balance(run):
    _, sol = run
    T_amb, T_g, T_in, T_set = 278.15, 283.15, 333.15, 291.15
    G_series = 1.0 / (1.0 / 20e3 + 1.0 / 5e3)  # air -> soil -> deep ground at steady state
    eps = 1.0 - math.exp(-60e3 / (M * CP))

    def balance(T):  # heat from the pipes minus losses, with the P valve u = 0.5 (T_set - T)
        u = min(max(0.5 * (T_set - T), 0.0), 1.0)
        return u * eps * M * CP * (T_in - T) - 40e3 * (T - T_amb) - G_series * (T - T_g)

    T_star = brentq(balance, T_amb, T_set)
    # 10 days against a slowest time constant of ~1 day (soil): steady to << 0.01 K; the
    # smoothed valve clip (width 0.02) is far from its corners here
    assert sol.signals["house.T_air"][-1] == pytest.approx(T_star, abs=0.01)
    assert 0.0 < sol.signals["house.valve"][-1] < 1.0
    assert sol.signals["house.T_deficit"][-1] > 0.0  # a P controller leaves an offset


def test_energy_closes(run):
    plant, sol = run
    rep = audit(plant, plant.initial_state(), sol.y_final)
    assert rep.plant.closure < 1e-12 and rep.components["house"].closure < 1e-12
    f = rep.components["house"].flows
    assert f["envelope_loss"] < 0 and f["solar_gain"] == 0.0
