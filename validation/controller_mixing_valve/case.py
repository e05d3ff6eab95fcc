"""CTRL-1: PI controller on a mixing valve (splitter + mixer), analytic settled states and
exact junction balances.

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.core.solve import simulate
from twin.scenario.build import load_scenario
from twin.validation import Case, funnel

HERE = Path(__file__).resolve().parent
SETTLE = 2700.0  # judged from 45 min after each set-point change (closed loop settled) [s]


def run():
    sc = load_scenario(HERE / "plant.yaml")
    c = sc.plant.components
    sol = simulate(sc.plant, sc.duration, sc.output_interval, sc.solver)
    if not sol.success:
        raise RuntimeError(sol.message)
    t, s = sol.ts, sol.signals
    m_h, T_h = float(c["hot"].m_flow(0.0)), float(c["hot"].T(0.0))
    m_c, T_c = float(c["cold"].m_flow(0.0)), float(c["cold"].T(0.0))
    T_set = np.asarray([float(c["ctrl"].T_set(x)) for x in t])
    # constant cp: T_mix(f) = (f m_h T_h + m_c T_c) / (f m_h + m_c); the set point needs
    # f* = m_c (T_set - T_c) / (m_h (T_h - T_set)), reachable while f* <= 1, else f = 1
    f_star = np.minimum(m_c * (T_set - T_c) / (m_h * (T_h - T_set)), 1.0)
    T_reach = (f_star * m_h * T_h + m_c * T_c) / (f_star * m_h + m_c)
    since = t - np.asarray([max(b for b in (0.0, 3600.0, 7200.0) if b <= x) for x in t])
    settled = (since >= SETTLE) & (t > 0)
    out = [
        funnel("merge.outlet.T (settled)", t, T_reach, t, s["merge.outlet.T"], atol=0.01, unit="K", mask=settled,
               why="integral action removes the offset: at the set point (50 degC), or at the mix of the fully "
                   "open valve (60 degC) while 70 degC is out of reach; the output's smooth clip at 1 "
                   "(width 0.01) leaves < 2e-3 of the valve, ~5 mK: 0.01 K"),
        funnel("valve.fraction (settled)", t, f_star, t, s["valve.fraction"], atol=2e-3, unit="1", mask=settled,
               why="analytic valve share f* = m_c (T_set - T_c) / (m_h (T_h - T_set)) = 0.5, or 1 when "
                   "saturated; the clip's smoothing (width 0.01) keeps the saturated output ~1e-3 below 1"),
    ]
    # junctions at every output time: adiabatic mixing (mass-weighted mean for constant cp) and
    # the split by the controller's output
    m_a, m_b = s["valve.outlet_a.m_flow"], s["cold.outlet.m_flow"]
    T_mix = (m_a * s["valve.outlet_a.T"] + m_b * s["cold.outlet.T"]) / (m_a + m_b)
    out += [
        funnel("merge.outlet.T = mass-weighted mean", t, T_mix, t, s["merge.outlet.T"], atol=1e-10, unit="K",
               why="adiabatic mixing of one liquid with constant cp is exact: round-off"),
        funnel("merge.outlet.m_flow", t, m_a + m_b, t, s["merge.outlet.m_flow"], atol=1e-14, unit="kg/s",
               why="mass balance of the mixer: round-off"),
        funnel("valve.outlet_a.m_flow = u m", t, s["ctrl.output"] * m_h, t, s["valve.outlet_a.m_flow"],
               atol=1e-14, unit="kg/s", why="the splitter passes the controller's output share: round-off"),
        funnel("valve.outlet_a + outlet_b", t, np.full(t.shape, m_h), t,
               s["valve.outlet_a.m_flow"] + s["valve.outlet_b.m_flow"], atol=1e-14, unit="kg/s",
               why="mass balance of the splitter: round-off"),
    ]
    return out


CASE = Case(
    id="CTRL-1", title="PI-controlled mixing valve: settled states, split and mixing balances",
    source="analytic: steady state of a PI loop (zero offset, saturation with anti-windup; Astrom & "
           "Hagglund, Advanced PID Control, sec. 3.5) and adiabatic mixing / splitting balances",
    run=run, fast=True, components=("controller", "splitter", "mixer", "source", "stack"),
)
