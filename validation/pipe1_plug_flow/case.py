"""Plug-flow pipe: transport delay and heat loss of a 100 m insulated steel pipe after an
inlet step, with and without the wall's heat capacity (Buildings
``Fluid.FixedResistances.Examples.PlugFlowPipe``).

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from twin.components.boundaries import Source, Stack
from twin.components.pipe import Pipe, insulation_conductance, wall_heat_capacity
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.thermo.fluids import WATER
from twin.validation import (
    Case,
    Comparison,
    MissingReference,
    funnel,
    load_dymola,
    reference_file,
)

REF = "modelica-buildings/reference_results/Buildings_Fluid_FixedResistances_Examples_PlugFlowPipe.txt"
NOISE = "modelica-ibpsa/reference_results/IBPSA_Fluid_FixedResistances_Examples_PlugFlowPipe.txt"
LENGTH, DH, THICKNESS, D_INS, K_INS = 100.0, 0.1, 0.0032, 0.05, 0.028
RHO_PIP, C_PIP, M_FLOW = 8000.0, 500.0, 3.0
T_START, T_STEP, T_BOU, T_END = 323.15, 343.15, 283.15, 1000.0
CELLS_WALL, CELLS_NOMIX = 100, 400
ATOL, DT = 0.01, 10.0


def _mid_time(t, y, lo, hi) -> float:
    """When ``y`` first crosses the middle of ``lo`` and ``hi`` (linear between samples). [s]"""
    mid = 0.5 * (lo + hi)
    k = int(np.argmax(y > mid))
    return float(t[k - 1] + (mid - y[k - 1]) / (y[k] - y[k - 1]) * (t[k] - t[k - 1]))


def run():
    ref = load_dymola(reference_file(REF))
    a = lambda v: jnp.asarray(v, dtype=float)
    U = insulation_conductance(DH + 2 * THICKNESS, D_INS, K_INS)  # Buildings' default R
    inlet = Schedule(a([0.0, 100.0]), a([T_START, T_STEP]))  # Ramp(height 20 K, duration 0, startTime 100 s)

    def pipe(n, C_wall):
        # initDelay = true: the pipe starts in the steady state of the constant flow, the
        # plug-flow profile T_bou + (T_start - T_bou) exp(-U x / (m cp)) (cell averages)
        edges = np.linspace(0.0, LENGTH, n + 1)
        k = U / (M_FLOW * WATER.cp_a)
        T0 = T_BOU + (T_START - T_BOU) * (np.exp(-k * edges[:-1]) - np.exp(-k * edges[1:])) / (k * np.diff(edges))
        return Pipe(length=a(LENGTH), diameter=a(DH), U_loss=a(U), T_surroundings=Schedule.constant(T_BOU),
                    T_initial=a(T0), fluid=WATER, n_cells=n, C_wall=C_wall)

    src = lambda: Source(m_flow=Schedule.constant(M_FLOW), T=inlet, Y=jnp.zeros(0), fluid=WATER)
    C_wall = a(wall_heat_capacity(DH, THICKNESS, LENGTH, RHO_PIP, C_PIP))
    plant = build_plant(
        {"pip": pipe(CELLS_WALL, C_wall), "pipNoMix": pipe(CELLS_NOMIX, None),
         "sou": src(), "souNoMix": src(), "sin": Stack(fluid=WATER), "sinNoMix": Stack(fluid=WATER)},
        [("sou.outlet", "pip.inlet"), ("pip.outlet", "sin.inlet"),
         ("souNoMix.outlet", "pipNoMix.inlet"), ("pipNoMix.outlet", "sinNoMix.inlet")],
        Schedule.constant(T_BOU))
    y0 = plant.initial_state()
    # both wall volumes start at T_start_out = 50 degC, as Buildings' vol_a and vol_b
    y0["components"]["pip"] = eqx.tree_at(lambda s: s.h_wall, y0["components"]["pip"],
                                          jnp.full(2, WATER.h(a(T_START))))
    sol = simulate(plant, T_END, 1.0, SolverConfig(rtol=1e-8, atol=1e-8), y0=y0)
    if not sol.success:
        raise RuntimeError(sol.message)

    out = []
    for comp, name, what in (("pip", "senTemOut.T", "with the wall's capacity"),
                             ("pipNoMix", "senTemOutNoMix.T", "without wall capacity: a sharp step")):
        y, y_ref = sol.signals[f"{comp}.outlet.T"], ref[name]
        out.append(funnel(f"{comp}.outlet.T vs {name}", ref.time, y_ref, sol.ts, y, atol=ATOL, dt=DT, unit="K",
                          why=f"{what}; VALIDATION_CASES.md PIPE-1: front within +-10 s (the tube's time "
                              "half-width) and the levels within 0.01 K (steady 69.873 degC)"))
        lo, hi = float(y_ref[20]), float(y_ref[-1])  # before the front (200 s) and at the end
        t_twin = _mid_time(sol.ts, y, lo, hi)
        if comp == "pip":
            t_ref, how = _mid_time(ref.time, y_ref, lo, hi), "read between its 10 s samples"
        else:
            # the reference's step falls between two 10 s samples; its time is the plug-flow
            # arrival 100 s + rho A L / m (checked to lie between those samples)
            t_ref, how = 100.0 + float(plant.components["pipNoMix"].mass) / M_FLOW, "plug-flow arrival"
            k = int(np.searchsorted(ref.time, t_ref))
            if not (y_ref[k - 1] < 0.5 * (lo + hi) < y_ref[k]):
                raise ValueError(f"{name} does not step between {ref.time[k - 1]} and {ref.time[k]} s")
        out.append(Comparison(f"{comp} front mid-point time vs {name}", "time", abs(t_twin - t_ref), DT, "s",
                              abs(t_twin - t_ref) <= DT,
                              f"VALIDATION_CASES.md PIPE-1: +-10 s (twin {t_twin:.1f} s, reference {t_ref:.1f} s, "
                              f"{how})", ref.time, y_ref, np.asarray(sol.ts), np.asarray(y)))
    try:
        ibpsa = load_dymola(reference_file(NOISE))
    except MissingReference:
        return out
    out.append(funnel("noise floor: IBPSA senTemOut.T vs Buildings", ref.time, ref["senTemOut.T"], ibpsa.time,
                      ibpsa["senTemOut.T"], atol=ATOL, unit="K",
                      why="two reference runs of the same model may differ by no more than the 0.01 K tolerance"))
    return out


CASE = Case(
    id="PIPE-1", title="plug-flow pipe: transport delay and loss after an inlet step, with and without wall capacity",
    source="Modelica Buildings Fluid.FixedResistances.Examples.PlugFlowPipe, Dymola reference "
           "Buildings_Fluid_FixedResistances_Examples_PlugFlowPipe.txt; IBPSA copy as noise floor",
    run=run, fast=True, components=("pipe", "source", "stack"),
)
