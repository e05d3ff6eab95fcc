"""GH-1: greenhouse RC model, unheated transient and heated steady state (analytic).

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy.linalg import expm
from scipy.optimize import brentq

from twin.core.solve import simulate
from twin.scenario.build import load_scenario
from twin.validation import Case, funnel

HERE = Path(__file__).resolve().parent


def unheated(g, T_amb: float, t: np.ndarray) -> np.ndarray:
    """Air and soil temperatures of the unheated two-node network, ``x' = A x + b``, exactly:
    ``x(t) = x_ss + expm(A t) (x0 - x_ss)``, ``x_ss = -A^-1 b``. Shape (len(t), 2). [K]"""
    Ca, Cs, UA, Gs, Gg = (float(v) for v in (g.C_air, g.C_soil, g.UA_envelope, g.G_soil, g.G_ground))
    A = np.array([[-(UA + Gs) / Ca, Gs / Ca], [Gs / Cs, -(Gs + Gg) / Cs]])
    b = np.array([UA * T_amb / Ca, Gg * float(g.T_ground) / Cs])
    x_ss = -np.linalg.solve(A, b)
    x0 = np.full(2, float(g.T_initial))
    return np.array([x_ss + expm(A * ti) @ (x0 - x_ss) for ti in t])


def heated_steady_state(g, T_amb: float, m: float, T_in: float, cp: float) -> tuple[float, float, float]:
    """(T_air, T_soil, valve share) at steady state with the ideal (unsmoothed) P valve
    u = clip(k_p (T_set - T_air), 0, 1) and the pipe coil Q = u eps m cp (T_in - T_air),
    eps = 1 - exp(-UA_pipe / (m cp)); soil in series with the ground. [K], [K], [-]"""
    UA, Gs, Gg, Tg = float(g.UA_envelope), float(g.G_soil), float(g.G_ground), float(g.T_ground)
    kp, T_set = float(g.k_p), float(g.T_set(0.0))
    eps = 1.0 - math.exp(-float(g.UA_pipe) / (m * cp))
    G_series = 1.0 / (1.0 / Gs + 1.0 / Gg)
    u = lambda T: min(max(kp * (T_set - T), 0.0), 1.0)

    def balance(T):
        return u(T) * eps * m * cp * (T_in - T) - UA * (T - T_amb) - G_series * (T - Tg)

    T_air = brentq(balance, T_amb, T_set, xtol=1e-13)
    return T_air, (Gs * T_air + Gg * Tg) / (Gs + Gg), u(T_air)


def run():
    sc = load_scenario(HERE / "greenhouse.yaml")
    p = sc.plant
    T_amb = float(p.T_ambient(0.0))
    sol = simulate(p, sc.duration, sc.output_interval, sc.solver)
    if not sol.success:
        raise RuntimeError(sol.message)
    t, s = sol.ts, sol.signals
    exact = unheated(p.components["cold"], T_amb, t)
    why_tr = ("exact solution of the linear two-node ODE (matrix exponential); the solver runs at rtol 1e-10 "
              "on ~290 K states (global error ~1e-7 K): 1e-5 K")
    out = [funnel("cold.T_air", t, exact[:, 0], t, s["cold.T_air"], atol=1e-5, unit="K", why=why_tr),
           funnel("cold.T_soil", t, exact[:, 1], t, s["cold.T_soil"], atol=1e-5, unit="K", why=why_tr)]
    src = p.components["boiler_loop"]
    T_air, T_soil, u = heated_steady_state(p.components["warm"], T_amb, float(src.m_flow(0.0)), float(src.T(0.0)),
                                           float(src.fluid.cp(float(src.T(0.0)))))
    last = t >= t[-1] - 86400.0  # slowest mode (soil) ~1 d: settled to << 1e-3 K after 9 days
    why_ss = ("analytic steady state (brentq on the air balance with the ideal clip); the valve's clip is "
              "smoothed over 0.02 (away from its corners: ~3e-4 of u, ~1e-3 K) and the start's offset has "
              "decayed: 0.005 K")
    ones = np.ones_like(t)
    out += [funnel("warm.T_air", t, T_air * ones, t, s["warm.T_air"], atol=0.005, unit="K", why=why_ss, mask=last),
            funnel("warm.T_soil", t, T_soil * ones, t, s["warm.T_soil"], atol=0.005, unit="K", why=why_ss,
                   mask=last),
            funnel("warm.valve", t, u * ones, t, s["warm.valve"], atol=0.003, unit="1", mask=last,
                   why="u = k_p (T_set - T_air): 0.5 1/K x 0.005 K, plus the clip smoothing ~3e-4")]
    return out


CASE = Case(
    id="GH-1", title="greenhouse RC model: unheated transient and heated steady state",
    source="analytic: linear 2R2C network (ISO 13790-style) by matrix exponential; steady state of the "
           "pipe-rail heating with a P valve by brentq",
    run=run, fast=True, components=("greenhouse", "source", "stack"),
)
