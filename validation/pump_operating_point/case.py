"""PUMP-1: pump operating points (curve = system curve, affinity laws) and the heat users
they drive (analytic).

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.optimize import brentq

from twin.core.solve import simulate
from twin.scenario.build import load_scenario
from twin.thermo.fluids import WATER
from twin.validation import Case, funnel

HERE = Path(__file__).resolve().parent
M3H, BAR = 1.0 / 3600.0, 1e5
FLOW, PRESSURE = np.array([0.0, 100.0, 160.0]) * M3H, np.array([2.2, 1.8, 1.2]) * BAR
ETA_BEP, ETA_MOTOR = 0.72, 0.9


def parabola():
    """(a, c, b) of dp = a - c V - b V^2 through the three curve points (exact: three points). """
    A = np.stack([np.ones(3), -FLOW, -FLOW**2], axis=1)
    return np.linalg.solve(A, PRESSURE)


def intersection(s, V_sys, dp_sys, p_static):
    """Volume flow where the pump curve at speed s (affinity: s^2 a - s c V - b V^2) meets the
    system curve p_static + (dp_sys - p_static) (V / V_sys)^2, by brentq. [m^3/s]"""
    a, c, b = parabola()
    k = (dp_sys - p_static) / V_sys**2
    return brentq(lambda V: (s * s * a - s * c * V - b * V * V) - (p_static + k * V * V), 0.0, 2.0 * s * FLOW[-1],
                  xtol=1e-18, rtol=4 * np.finfo(float).eps)


def user_temperature(t, P_before, P_after, t_step, Q_demand, M, T0):
    """Mixed hold-up of a closed loop whose pump's work all ends in the water (Buildings'
    convention): M cp dT/dt = P_pump - Q_demand with the pump power stepping from
    ``P_before`` to ``P_after`` at ``t_step``, integrated exactly. [K]"""
    E = (P_before - Q_demand) * np.minimum(t, t_step) + (P_after - Q_demand) * np.maximum(t - t_step, 0.0)
    return T0 + E / (M * WATER.cp_a)


def run():
    sc = load_scenario(HERE / "plant.yaml")
    c = sc.plant.components
    sol = simulate(sc.plant, sc.duration, sc.output_interval, sc.solver)
    if not sol.success:
        raise RuntimeError(sol.message)
    t, s = sol.ts, sol.signals
    speed = np.where(t < 3600.0, 1.0, 0.7)
    # 1. through the BEP: similar points, V = s V_bep, dp = s^2 dp_bep, eta = eta_bep, P ~ s^3
    V_bep, dp_bep = 100.0 * M3H, 1.8 * BAR
    P_bep = speed**3 * V_bep * dp_bep / (ETA_BEP * ETA_MOTOR)
    out = [
        funnel("bep_pump.V_flow", t, speed * V_bep, t, s["bep_pump.V_flow"], atol=0.0, rtol=1e-12, unit="m^3/s",
               why="affinity laws on a system curve without static head: V = s V_BEP (closed-form root vs "
                   "exact algebra: round-off)"),
        funnel("bep_pump.P_electric", t, P_bep, t, s["bep_pump.P_electric"], atol=0.0, rtol=1e-12, unit="W",
               why="P = s^3 V dp / (eta_BEP eta_motor) at the best-efficiency point: round-off"),
    ]
    # 2. with static head: the operating point moves off the similar point; brentq reference
    V_lift = np.array([intersection(x, 120.0 * M3H, 1.5 * BAR, 0.3 * BAR) for x in speed])
    dp_lift = 0.3 * BAR + (1.2 * BAR) * (V_lift / (120.0 * M3H)) ** 2
    out += [
        funnel("lift_pump.V_flow", t, V_lift, t, s["lift_pump.V_flow"], atol=0.0, rtol=1e-10, unit="m^3/s",
               why="pump curve = system curve by brentq (xtol 1e-18); the margin above the static head is "
                   ">150 smoothing widths, so the softplus is exact: 1e-10"),
        funnel("lift_pump.dp", t, dp_lift, t, s["lift_pump.dp"], atol=0.0, rtol=1e-10, unit="Pa",
               why="on the system curve at that flow: 1e-10"),
    ]
    # 3. fixed-flow pump: W = m dp / (rho eta)
    fp = c["fixed_pump"]
    P_fixed = float(fp.m_flow_nominal) * float(fp.pressure_rise) / (WATER.rho * float(fp.efficiency))
    out.append(funnel("fixed_pump.P_electric", t, np.full(t.shape, P_fixed), t, s["fixed_pump.P_electric"],
                      atol=0.0, rtol=1e-12, unit="W", why="W = m dp / (rho eta): round-off"))
    # 4. the heat users: the pump's work heats the loop, the demand cools it
    why_T = ("M cp dT/dt = P_pump - Q_demand exactly integrated; the demand's fade-out (smoothed over 0.05 of "
             "its 5 K width, 25 K away) draws ~1.3e-4 less: < 1e-3 K over 2 h; 5e-3 K")
    P_bep1 = V_bep * dp_bep / (ETA_BEP * ETA_MOTOR)
    for user, (P0, P1) in (("bep_user", (P_bep1, 0.7**3 * P_bep1)), ("fixed_user", (P_fixed, P_fixed))):
        u = c[user]
        exact = user_temperature(t, P0, P1, 3600.0, float(u.Q_demand(0.0)), float(u.M_fluid), float(u.T_initial))
        out.append(funnel(f"{user}.T", t, exact, t, s[f"{user}.T"], atol=5e-3, unit="K", why=why_T))
    return out


CASE = Case(
    id="PUMP-1", title="pump operating points and affinity laws; heat users on the loop",
    source="analytic: pump curve = system curve (brentq), affinity laws (Guelich, Centrifugal Pumps, ch. 3 "
           "and 11); loop energy balance M cp dT/dt = W - Q",
    run=run, fast=False, components=("pump", "heat_demand"),
)
