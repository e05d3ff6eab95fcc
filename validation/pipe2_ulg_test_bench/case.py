"""Insulated steel pipe of the Université de Liège test bench against MEASURED outlet
temperatures (data and set-up of Buildings ``Fluid.FixedResistances.Validation.
PlugFlowPipes.PlugFlowULg``), on the seven ULg runs.

See README.md beside this file for the set-up, the data and the tolerances.
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
from twin.validation import Case, load_combitimetable, reference_file, statistics

DATA = "modelica-buildings/measured/PlugFlowPipes/PipeDataULg{}.mos"
#: run: (T_start_in, T_start_out) [degC] of Buildings' Data.PipeDataULg<run> records (each is
#: the first measured inlet and outlet water temperature); 151202 is the run PlugFlowULg uses
RUNS = {"151202": (18.8, 18.2), "150801": (16.6, 16.8), "151204_1": (14.0, 14.0), "151204_2": (14.7, 14.3),
        "151204_4": (31.2, 27.7), "160104_2": (17.9, 15.0), "160118_1": (17.9, 18.2)}
LENGTH, DH, THICKNESS, D_OUT = 39.0, 0.05248, 3.9e-3, 0.0603
D_INS, K_INS, H_OUT = 0.013, 0.04, 5.0
RHO_PIP, C_PIP, T_AMB = 8000.0, 500.0, 273.15 + 18.0
CELLS = 50  # a cell's transit time at 0.589 kg/s (2.9 s) is about the data's 3 s sampling interval
RMSE_MAX, BIAS_MAX = 0.8, 0.3
N_BREAKPOINTS, N_OUT = 2048, 2000  # the same array shapes for every run: one compiled solver


def same_shape_inputs(t, *columns, n: int = N_BREAKPOINTS):
    """The piecewise-linear inputs ``columns(t)`` on ``n`` breakpoints: the midpoint of the
    longest interval is inserted until there are ``n`` (a linear interpolant is unchanged by
    it), so that every run's schedules, and so its solver, have the same shapes."""
    if t.size > n:
        raise ValueError(f"{t.size} samples, more than the {n} breakpoints")
    t, cols = np.asarray(t, dtype=float), [np.asarray(c, dtype=float) for c in columns]
    while t.size < n:
        k = int(np.argmax(np.diff(t)))
        mid = 0.5 * (t[k] + t[k + 1])
        cols = [np.insert(c, k + 1, 0.5 * (c[k] + c[k + 1])) for c in cols]
        t = np.insert(t, k + 1, mid)
    return t, *cols


def simulate_run(run_id: str):
    """Twin of one ULg run: (measured table, solution)."""
    dat = load_combitimetable(reference_file(DATA.format(run_id)))["dat"]
    t, m, T_out, T_in = dat[:, 0], dat[:, 1], dat[:, 3] + 273.15, dat[:, 5] + 273.15
    T_start_in, T_start_out = (v + 273.15 for v in RUNS[run_id])
    if abs(T_start_in - T_in[0]) > 1e-9 or abs(T_start_out - T_out[0]) > 1e-9:
        raise ValueError(f"ULg{run_id}: the record's start values are not the first measured temperatures")
    a = lambda v: jnp.asarray(v, dtype=float)
    pipe = Pipe(length=a(LENGTH), diameter=a(DH), U_loss=insulation_conductance(D_OUT, D_INS, K_INS, H_OUT),
                T_surroundings=None, fluid=WATER, n_cells=CELLS,
                T_initial=a(np.linspace(T_start_in, T_start_out, CELLS)),  # spatialDistribution's {0, 1} points
                C_wall=a(wall_heat_capacity(DH, THICKNESS, LENGTH, RHO_PIP, C_PIP)))
    # measured flow (col 2) and inlet water temperature (col 6), linear between samples
    t_s, m_s, T_in_s = same_shape_inputs(t, m, T_in)
    src = Source(m_flow=Schedule(a(t_s), a(m_s), kind="linear"), T=Schedule(a(t_s), a(T_in_s), kind="linear"),
                 Y=jnp.zeros(0), fluid=WATER)
    plant = build_plant({"pipe": pipe, "boiler": src, "sewer": Stack(fluid=WATER)},
                        [("boiler.outlet", "pipe.inlet"), ("pipe.outlet", "sewer.inlet")], Schedule.constant(T_AMB))
    y0 = plant.initial_state()
    # both wall volumes start at T_start_out, as Buildings' vol_a and vol_b
    y0["components"]["pipe"] = eqx.tree_at(lambda s: s.h_wall, y0["components"]["pipe"],
                                           jnp.full(2, WATER.h(a(T_start_out))))
    sol = simulate(plant, float(t[-1]), float(t[-1]) / N_OUT, SolverConfig(rtol=1e-7, atol=1e-7), y0=y0)
    if not sol.success:
        raise RuntimeError(f"ULg{run_id}: {sol.message}")
    return dat, sol


def run():
    out = []
    for run_id in RUNS:
        dat, sol = simulate_run(run_id)
        note = " (the run of Buildings' PlugFlowULg; Dymola: RMSE 0.51 K, bias -0.11 K)" if run_id == "151202" else ""
        out += statistics(f"ULg{run_id} outlet water T (col 4)", dat[:, 0], dat[:, 3] + 273.15, sol.ts,
                          sol.signals["pipe.outlet.T"], rmse_max=RMSE_MAX, bias_max=BIAS_MAX, unit="K",
                          why="VALIDATION_CASES.md PIPE-2: RMSE <= 0.8 K, |bias| <= 0.3 K over every measured "
                              f"sample{note}")
    return out


CASE = Case(
    id="PIPE-2", title="ULg pipe test bench (39 m insulated steel pipe), measured outlet temperature, 7 runs",
    source="measured: Université de Liège test bench, Buildings Resources/Data/Fluid/FixedResistances/Validation/"
           "PlugFlowPipes/PipeDataULg*.mos; set-up of Buildings PlugFlowULg (van der Heijde et al. 2017)",
    run=run, fast=False, components=("pipe", "source", "stack"),
)
