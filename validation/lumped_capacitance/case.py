"""Lumped-capacitance cooling (analytic): a mould oven with no throughput cooling to ambient.

See README.md beside this file for the set-up, the reference and the tolerance.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from twin.components.boundaries import Source, Stack
from twin.components.consumer import MouldPreheater
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.thermo.fluids import WATER
from twin.validation import Case, funnel

M, CP, UA_LOSS, T_START, T_AMB = 8000.0, 460.0, 40.0, 450.0, 293.15
TAU = M * CP / UA_LOSS  # 92 000 s


def run():
    a = lambda v: jnp.asarray(v, dtype=float)  # noqa: E731
    oven = MouldPreheater(
        UA=a(5000.0), M_moulds=a(M), cp_moulds=a(CP), mould_rate=a(0.0), schedule=Schedule.constant(1.0),
        UA_loss=a(UA_LOSS), T_target=a(523.15), T_initial=a(T_START), M_fluid=a(0.0), fluid=WATER)
    no_flow = Source(m_flow=Schedule.constant(0.0), T=Schedule.constant(350.0), Y=jnp.zeros(0), fluid=WATER)
    plant = build_plant({"oven": oven, "src": no_flow, "drain": Stack(fluid=WATER)},
                        [("src.outlet", "oven.supply"), ("oven.return", "drain.inlet")],
                        Schedule.constant(T_AMB))
    sol = simulate(plant, 3 * TAU, TAU / 20, SolverConfig(rtol=1e-10, atol=1e-10))
    if not sol.success:
        raise RuntimeError(sol.message)
    t_ref = np.asarray(sol.ts)  # an analytic reference is judged at the twin's own output times
    exact = T_AMB + (T_START - T_AMB) * np.exp(-t_ref / TAU)
    return [funnel("oven.T_moulds", t_ref, exact, sol.ts, sol.signals["oven.T_moulds"], atol=1e-6, unit="K",
                   why="analytic solution; the solver runs at rtol 1e-10 on a ~400 K state, so its global "
                       "error is ~1e-8 K: 1e-6 K leaves two orders of margin")]


CASE = Case(
    id="LUMP", title="lumped-capacitance cooling of a mould oven",
    source="analytic: T = T_amb + (T0 - T_amb) exp(-t/tau), tau = M cp / UA (Incropera, sec. 5.2)",
    run=run, fast=True, components=("mould_preheater", "source", "stack"),
)
