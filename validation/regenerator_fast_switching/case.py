"""REGEN-1: a fast-switched regenerator against the counterflow recuperator of the same
NTU (Hausen's limit, analytic).

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.core.solve import simulate
from twin.scenario.build import load_scenario
from twin.validation import Case, funnel

HERE = Path(__file__).resolve().parent
SETTLED = 4 * 3600.0  # the checkers' profile settles with ~35 min: judged after ~7 of those [s]


def run():
    sc = load_scenario(HERE / "plant.yaml")
    c = sc.plant.components
    r = c["regen"]
    sol = simulate(sc.plant, sc.duration, sc.output_interval, sc.solver)
    if not sol.success:
        raise RuntimeError(sol.message)
    t = sol.ts
    C = float(c["hot"].m_flow(0.0)) * float(c["hot"].fluid.cp_a)  # balanced: C_min = C_max
    dT_max = float(c["hot"].T(0.0)) - float(c["cold"].T(0.0))
    ntu = float(r.UA) / C
    eps_cf = ntu / (1.0 + ntu)  # counterflow, C_r = 1 (Incropera eq. 11.29b limit)
    # the finite-C_r* correction of Kays & London (eq. 2-34: 1 - 1/(9 C_r*^1.93)) is 8e-5 here
    period = float(r.phase.period)
    # period-mean effectiveness from the integrated heat passed (audit tally), over each whole
    # period ending at an output time (two outputs per period)
    H = np.asarray(sol.ys["audit"]["regen"]["heat_recovered"])
    k = round(period / (t[1] - t[0]))
    eps = np.full(t.shape, np.nan)
    eps[k:] = (H[k:] - H[:-k]) / (C * dT_max * period)
    judged = t >= SETTLED
    eps[~np.isfinite(eps)] = 0.0
    out = [funnel("regen: period-mean effectiveness", t, np.full(t.shape, eps_cf), t, eps, atol=0.002, unit="1",
                  mask=judged,
                  why="Hausen's fast-switching limit = counterflow recuperator with NTU_0 = UA/C_min (2/3 here); "
                      "the 40-cell march's first-order cell error and C_r* = 40 (8e-5) leave a few 1e-4: 0.002 "
                      "(tighter than the 0.005 of tests/test_regenerator.py, which samples outlet temperatures)")]
    s = sol.signals
    # symmetry: balanced streams at 50 +- 40 degC and beds started at 50 degC, so the hot
    # stream's cooling mirrors the cold stream's heating at every instant
    gave = s["regen.hot_out.T"] - float(c["hot"].T(0.0))
    got = s["regen.cold_out.T"] - float(c["cold"].T(0.0))
    out.append(funnel("regen: hot-side cooling = cold-side heating", t, -got, t, gave, atol=1e-9, unit="K",
                      why="the set-up is symmetric about 50 degC (balanced water streams, beds started at the "
                          "mean), and so is the model: round-off"))
    return out


CASE = Case(
    id="REGEN-1", title="regenerator in the fast-switching limit = counterflow recuperator",
    source="analytic: Hausen's limit (Kays & London, Compact Heat Exchangers, sec. 2.4; Shah & Sekulic, "
           "sec. 5.2) with eps = NTU / (1 + NTU) for C_r = 1 (Incropera eq. 11.29b)",
    run=run, fast=False, components=("regenerator", "source", "stack"),
)
