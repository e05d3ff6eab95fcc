"""HX-NTU: steady-state effectiveness over a grid of NTU and C_r against the textbook ε-NTU
relations (analytic), for the finite-volume exchanger (counterflow, parallel flow) and the
algebraic ε-NTU exchanger (all five arrangements).

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from twin.components.boundaries import Source, Stack
from twin.components.effectiveness_exchanger import EffectivenessNTUExchanger
from twin.components.exchanger import CounterflowExchanger
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.thermo.fluids import WATER
from twin.validation import Case, funnel

NTUS = (0.25, 0.5, 1.0, 2.0, 4.0)
C_RS = (0.0, 0.25, 0.5, 0.75, 1.0)
C_R_ZERO = 1e-6  # C_r = 0 is run as C_max = 1e6 C_min; the formulas are evaluated there too
CP = WATER.cp_a  # [J/(kg K)]
UA = CP  # [W/K]: NTU = UA / (m_hot cp) = 1 / m_hot, the hot side being C_min
T_HOT, T_COLD = 353.15, 293.15  # inlets [K]
N_CELLS = 40
TAU = 1.0  # wall time constant of a cell, C_wall / (hA_hot + hA_cold) [s]
SEGMENT, SETTLE = 400.0, 300.0  # each grid point is held SEGMENT s and read SETTLE s into it
FINITE_VOLUME = ("counterflow", "parallel_flow")
ALGEBRAIC = ("counterflow", "parallel_flow", "crossflow_unmixed", "crossflow_hot_mixed", "crossflow_cold_mixed")


def textbook(ntu, c_r, relation):
    """Incropera et al. (2007), table 11.3, as printed;
    the hot side is C_min, so 'hot mixed' is C_min mixed and 'cold mixed' C_max mixed."""
    e = np.exp
    if relation == "counterflow":
        if c_r == 1.0:
            return ntu / (1.0 + ntu)
        x = e(-ntu * (1.0 - c_r))
        return (1.0 - x) / (1.0 - c_r * x)
    if relation == "parallel_flow":
        return (1.0 - e(-ntu * (1.0 + c_r))) / (1.0 + c_r)
    if relation == "crossflow_unmixed":
        return 1.0 - e(ntu ** 0.22 / c_r * np.expm1(-c_r * ntu ** 0.78))
    if relation == "crossflow_cold_mixed":  # C_max mixed, C_min unmixed
        return -np.expm1(-c_r * (1.0 - e(-ntu))) / c_r
    if relation == "crossflow_hot_mixed":  # C_min mixed, C_max unmixed
        return 1.0 - e(np.expm1(-c_r * ntu) / c_r)
    raise ValueError(relation)


def grid():
    """(NTU, C_r as run) of every grid point, in the order they are run."""
    return [(ntu, c_r if c_r > 0.0 else C_R_ZERO) for ntu in NTUS for c_r in C_RS]


def _step(values):
    k = len(values)
    return Schedule(jnp.arange(k) * SEGMENT, jnp.asarray(values, dtype=float))


def _plant():
    pts = grid()
    m_hot = [1.0 / ntu for ntu, _ in pts]  # [kg/s]
    m_cold = [1.0 / ntu / c_r for ntu, c_r in pts]
    a = lambda v: jnp.asarray(v, dtype=float)
    comps, conns = {}, []
    hexes = {f"fv_{arr}": CounterflowExchanger(
        UA=a(UA), hA_ratio=a(1.0), C_wall=a(TAU * 4.0 * UA), M_hot=a(0.0), M_cold=a(0.0),
        T_initial=a(0.5 * (T_HOT + T_COLD)), hot_fluid=WATER, cold_fluid=WATER, n_cells=N_CELLS,
        hot_dynamics="quasi_steady", cold_dynamics="quasi_steady", arrangement=arr) for arr in FINITE_VOLUME}
    hexes |= {f"ntu_{arr}": EffectivenessNTUExchanger(
        UA_nominal=a(UA), hA_ratio=a(1.0), m_hot_nominal=a(1.0), m_cold_nominal=a(1.0), n_hot=a(0.0),
        n_cold=a(0.0), hot_fluid=WATER, cold_fluid=WATER, arrangement=arr) for arr in ALGEBRAIC}
    for name, hx in hexes.items():
        comps[name] = hx
        comps[f"{name}_hot"] = Source(m_flow=_step(m_hot), T=Schedule.constant(T_HOT), Y=jnp.zeros(0), fluid=WATER)
        comps[f"{name}_cold"] = Source(m_flow=_step(m_cold), T=Schedule.constant(T_COLD), Y=jnp.zeros(0),
                                       fluid=WATER)
        comps[f"{name}_hot_out"] = Stack(fluid=WATER)
        comps[f"{name}_cold_out"] = Stack(fluid=WATER)
        conns += [(f"{name}_hot.outlet", f"{name}.hot_in"), (f"{name}.hot_out", f"{name}_hot_out.inlet"),
                  (f"{name}_cold.outlet", f"{name}.cold_in"), (f"{name}.cold_out", f"{name}_cold_out.inlet")]
    return build_plant(comps, conns, Schedule.constant(T_COLD))


def run():
    pts = grid()
    plant = _plant()
    sol = simulate(plant, len(pts) * SEGMENT, SEGMENT - SETTLE, SolverConfig(rtol=1e-10, atol=1e-10))
    if not sol.success:
        raise RuntimeError(sol.message)
    per = round(SEGMENT / (SEGMENT - SETTLE))
    read = np.arange(len(pts)) * per + per - 1  # SETTLE s into each segment
    index = np.arange(len(pts), dtype=float)  # the grid point, as the comparison's abscissa
    out = []
    for kind, arrangements in (("fv", FINITE_VOLUME), ("ntu", ALGEBRAIC)):
        for arr in arrangements:
            T_out = sol.signals[f"{kind}_{arr}.hot_out.T"]
            drift = float(np.max(np.abs(T_out[read] - T_out[read - 1])))
            if drift > 1e-6:  # SEGMENT - SETTLE s earlier: the point must be steady
                raise RuntimeError(f"{kind}_{arr} not steady at the read-out ({drift:.2e} K drift)")
            eps = (T_HOT - T_out[read]) / (T_HOT - T_COLD)  # the hot side is C_min
            exact = np.array([textbook(ntu, c_r, arr) for ntu, c_r in pts])
            if kind == "fv":
                tol, why = 1e-3, (f"{N_CELLS} finite-volume cells per side, both sides quasi-steady: a "
                                  "second-order discretisation error, largest at NTU = 4, C_r = 1; "
                                  "0.1 percentage point of effectiveness")
                name = f"finite-volume {arr} ε"
            else:
                tol, why = 1e-9, ("the algebraic relation against the textbook formula coded "
                                  "independently: round-off, with the textbook form's cancellation "
                                  "at C_r = 1e-6 (~1e-10)")
                name = f"effectiveness_exchanger {arr} ε"
            out.append(funnel(name, index, exact, index, eps, atol=tol, unit="1", why=why
                              + "; abscissa: grid point 5 i_NTU + i_Cr, NTU in (0.25, 0.5, 1, 2, 4), "
                                "C_r in (0, 0.25, 0.5, 0.75, 1)"))
    return out


CASE = Case(
    id="HX-NTU", title="ε-NTU relations over a grid of NTU and C_r (analytic, steady state)",
    source="analytic: Incropera, DeWitt, Bergman & Lavine, Fundamentals of Heat and Mass Transfer, "
           "6th ed., table 11.3",
    run=run, fast=False,
    components=("counterflow_exchanger", "effectiveness_exchanger", "source", "stack"),
)
