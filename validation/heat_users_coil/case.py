"""USERS-1: district substation and fab make-up-air reheat against the counterflow ε-NTU
relation, in series on one heating-water stream (analytic).

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from twin.components.heat_users import CP_AIR
from twin.core.solve import simulate
from twin.scenario.build import load_scenario
from twin.validation import Case, funnel

HERE = Path(__file__).resolve().parent
CP = 4184.0  # Buildings.Media.Water [J/(kg K)]


def eps_counterflow(ntu: float, cr: float) -> float:
    """Counterflow effectiveness (Incropera et al., 6th ed., eq. 11.29b). [-]"""
    if abs(1.0 - cr) < 1e-9:
        return ntu / (1.0 + ntu)
    e = math.exp(-ntu * (1.0 - cr))
    return (1.0 - e) / (1.0 - cr * e)


def coil(T_prim, C_prim, UA, C_sec, T_sec_in, Q_req):
    """Heat a coil gives, min(Q_req, eps C_min (T_prim - T_sec_in)), and the primary's outlet
    temperature. [W], [K]"""
    C_min, C_max = min(C_prim, C_sec), max(C_prim, C_sec)
    Q = min(Q_req, eps_counterflow(UA / C_min, C_min / C_max) * C_min * (T_prim - T_sec_in))
    return Q, T_prim - Q / C_prim


def chain(t_phase_demand, c, T_amb):
    """Every user's analytic heat flows, down the stream, for one substation demand."""
    loop = c["loop"]
    C_w, T = float(loop.m_flow(0.0)) * CP, float(loop.T(0.0))
    b = c["building"]
    Q_dem = t_phase_demand
    T_sup, T_ret = float(b.T_sec_supply(0.0)), float(b.T_sec_return)
    Q_b, T = coil(T, C_w, float(b.UA), Q_dem / (T_sup - T_ret), T_ret, Q_dem)
    out = {"building.Q_flow": Q_b, "building.unmet_demand": Q_dem - Q_b, "building.return.T": T}
    for name in ("fab", "small_fab"):
        f = c[name]
        C_a = float(f.air_flow(0.0)) * CP_AIR
        T_air_in = min(T_amb, float(f.T_dehum))  # outside air cooled to the dehumidifier's outlet
        Q_req = C_a * (float(f.T_set(0.0)) - T_air_in)
        Q, T = coil(T, C_w, float(f.UA), C_a, T_air_in, Q_req)
        out |= {f"{name}.Q_flow_required": Q_req, f"{name}.Q_flow": Q, f"{name}.Q_flow_backup": Q_req - Q,
                f"{name}.return.T": T}
    return out


def run():
    sc = load_scenario(HERE / "plant.yaml")
    c = sc.plant.components
    T_amb = float(sc.plant.T_ambient(0.0))
    sol = simulate(sc.plant, sc.duration, sc.output_interval, sc.solver)
    if not sol.success:
        raise RuntimeError(sol.message)
    t, s = sol.ts, sol.signals
    phases = [chain(float(c["building"].Q_demand(x)), c, T_amb) for x in (0.0, 3600.0)]
    ref = {k: np.where(t < 3600.0, phases[0][k], phases[1][k]) for k in phases[0]}
    why_q = ("eps-NTU counterflow (Incropera eq. 11.29b); the coils' smooth min/max (width 1e-3 of the "
             "nominal heat) and the smooth min of outside air and dehumidifier outlet (0.2 K wide, "
             "7.7e-4 K off at a 13 K gap, 1e-4 of an 8 K reheat) err by <= 1e-4 relative, carried down "
             "the stream: 3e-4")
    out = []
    for k in ("building.Q_flow", "building.unmet_demand", "fab.Q_flow_required", "fab.Q_flow",
              "small_fab.Q_flow", "small_fab.Q_flow_backup"):
        out.append(funnel(k, t, ref[k], t, s[k], atol=0.0, rtol=3e-4, unit="W", why=why_q))
    for k in ("building.return.T", "fab.return.T", "small_fab.return.T"):
        out.append(funnel(k, t, ref[k], t, s[k], atol=0.01, unit="K",
                          why="primary outlet T_in - Q / (m cp): 3e-4 of <= 300 kW over 12.6 kW/K is < 0.01 K"))
    return out


CASE = Case(
    id="USERS-1", title="district substation and fab reheat coils against eps-NTU",
    source="analytic: counterflow eps(NTU, C_r) (Incropera et al., Fundamentals of Heat and Mass Transfer, "
           "eq. 11.29b) with the users' demand caps",
    run=run, fast=False, components=("district_substation", "fab_hvac", "source", "stack"),
)
