"""Pipe: the transport delay and the steady heat loss of the plug-flow reference (van der
Heijde et al. 2017), a front that stays sharp, exact energy closure and the second law."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
from conftest import solve_yaml

from twin.audit import audit

PLANT = textwrap.dedent("""\
    name: pipe
    duration: 3 h
    output_interval: 30 s
    solver: {method: tsit5, rtol: 1.0e-7, atol: 1.0e-7}
    components:
      plant_side: {type: source, fluid: water, mass_flow: 2 kg/s,
                   temperature: {kind: step, times: [0 h, 1 h], values: [60 degC, 80 degC]}}
      line: {type: pipe, fluid: water, length: 400 m, diameter: 150 mm, U_loss: 0.25 W/m/K,
             surroundings: 10 degC, cells: 40, initial_temperature: 60 degC}
      user: {type: stack}
    connections:
      - [plant_side.outlet, line.inlet]
      - [line.outlet, user.inlet]
    """)
RHO, CP, M_FLOW = 995.586, 4184.0, 2.0
TAU = RHO * math.pi / 4 * 0.15**2 * 400.0 / M_FLOW  # plug-flow transport time, ~3518 s
NTU = 0.25 * 400.0 / (M_FLOW * CP)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return solve_yaml(PLANT, tmp_path_factory.mktemp("pipe"))


def _plug(T_in):
    """Outlet of the plug-flow pipe at steady state, eq. (1) of twin.components.pipe. [K]"""
    return 283.15 + (T_in - 283.15) * math.exp(-NTU)


def test_steady_loss_matches_plug_flow(run):
    _, sol = run
    T_out = sol.signals["line.outlet.T"]
    assert T_out[-1] == pytest.approx(_plug(353.15), abs=2e-3)  # 0.83 K below the inlet
    np.testing.assert_allclose(sol.signals["line.delay"], TAU, rtol=1e-12)


def test_front_arrives_after_the_transport_time_and_stays_sharp(run):
    _, sol = run
    t, T_out = sol.ts, sol.signals["line.outlet.T"]
    lo, hi = _plug(333.15), _plug(353.15)
    frac = (T_out - lo) / (hi - lo)

    def crossing(level):
        k = int(np.argmax(frac > level))
        return t[k - 1] + (level - frac[k - 1]) / (frac[k] - frac[k - 1]) * (t[k] - t[k - 1])

    assert crossing(0.5) - 3600.0 == pytest.approx(TAU, rel=0.02)
    # a first-order cascade of 40 cells would rise 10 -> 90 % in about 0.4 tau
    assert crossing(0.9) - crossing(0.1) < 0.2 * TAU
    assert frac.min() > -0.02 and frac.max() < 1.02  # limited: no over- or undershoot


def test_energy_closes_and_the_pipe_destroys_exergy(run):
    plant, sol = run
    rep = audit(plant, plant.initial_state(), sol.y_final)
    assert rep.components["line"].closure < 1e-12
    assert rep.components["line"].flows["heat_loss"] < 0
    assert rep.exergy["line"].destruction > 0 and not rep.second_law_violations()
