"""Stratified tank charged and discharged through its ports (Buildings
``Fluid.Storage.Validation.StratifiedLoadingUnloading``, 1st-order tank ``tan``).

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from twin.audit import audit
from twin.components.boundaries import Source, Stack
from twin.components.tank import StratifiedTank
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.thermo.fluids import WATER
from twin.validation import (
    Case,
    MissingReference,
    funnel,
    load_dymola,
    reference_file,
    statistics,
)
from twin.validation.compare import noise_floor

REF = "modelica-buildings/reference_results/Buildings_Fluid_Storage_Validation_StratifiedLoadingUnloading.txt"
NOISE = "modelica-ibpsa/reference_results/IBPSA_Fluid_Storage_Validation_StratifiedLoadingUnloading.txt"
N_SEG, V_TAN, H_TAN = 7, 0.1, 3.0
M_FLOW = 1000.0 / 3600.0 / 4.0  # m_flow_nominal of the reference model [kg/s]
T_HOT, T_COLD, T_START = 313.15, 293.15, 293.15  # sou_1 40 degC, sin_2 20 degC, Medium.T_default
PERIOD, T_END = 7200.0, 14400.0
K_WATER = 0.598  # Buildings.Media.Water thermal conductivity [W/(m K)]
RMS_TOL, MAX_TOL, CLOSURE_TOL = 0.3, 1.0, 1e-6


def run():
    ref = load_dymola(reference_file(REF))
    a = lambda v: jnp.asarray(v, dtype=float)
    # Modelica Pulse(amplitude=2 m, offset=-m, period=7200): +m (20 degC pushed into the
    # bottom, port_b) for the first half period, -m (40 degC drawn in at the top) after
    load = Schedule(a([0.0, PERIOD / 2]), a([M_FLOW, 0.0]), period=PERIOD)
    charge = Schedule(a([0.0, PERIOD / 2]), a([0.0, M_FLOW]), period=PERIOD)
    tank = StratifiedTank(volume=a(V_TAN), height=a(H_TAN), U_loss=a(0.0), k_fluid=a(K_WATER),
                          tau_buoyancy=a(1.0), T_initial=a(T_START), fluid=WATER, n_layers=N_SEG,
                          buoyancy="quadratic")
    plant = build_plant(
        {"tank": tank,
         "hot": Source(m_flow=charge, T=Schedule.constant(T_HOT), Y=jnp.zeros(0), fluid=WATER),
         "cold": Source(m_flow=load, T=Schedule.constant(T_COLD), Y=jnp.zeros(0), fluid=WATER),
         "bottom_out": Stack(fluid=WATER), "top_out": Stack(fluid=WATER)},
        [("hot.outlet", "tank.hot_in"), ("tank.cold_out", "bottom_out.inlet"),
         ("cold.outlet", "tank.cold_in"), ("tank.hot_out", "top_out.inlet")],
        Schedule.constant(T_START))
    y0 = plant.initial_state()
    sol = simulate(plant, T_END, 36.0, SolverConfig(rtol=1e-8, atol=1e-8), y0=y0)
    if not sol.success:
        raise RuntimeError(sol.message)

    out = []
    T = sol.signals["tank.T"]
    for i in range(N_SEG):
        name, y_ref = f"tank.T[{i}] vs tan.vol[{i + 1}].T", ref[f"tan.vol[{i + 1}].T"]
        out += statistics(name, ref.time, y_ref, sol.ts, T[:, i], rmse_max=RMS_TOL, unit="K",
                          why="VALIDATION_CASES.md ST-1: 0.3 K RMS; both models are 1st-order upwind "
                              "with 7 segments, so only solver error remains")
        out.append(funnel(name, ref.time, y_ref, sol.ts, T[:, i], atol=MAX_TOL, unit="K",
                          why="VALIDATION_CASES.md ST-1: 1 K at every sample"))

    # energy: twin's own first-law closure along the run, and the net enthalpy inflow
    # (Buildings' dHTan.y, which with no losses is the change of stored energy)
    acc = sol.ys["audit"]["tank"]
    net_in = np.asarray(acc["stream_in"]) - np.asarray(acc["stream_out"]) + np.asarray(acc["envelope_loss"])
    residual = net_in - (sol.signals["tank.E_stored"] - sol.signals["tank.E_stored"][0])
    rep = audit(plant, y0, sol.y_final).components["tank"]
    out.append(funnel("tank energy residual / E_in", sol.ts, np.zeros_like(sol.ts), sol.ts, residual / rep.E_in,
                      atol=CLOSURE_TOL, unit="-",
                      why=f"VALIDATION_CASES.md ST-1: the twin's integrated enthalpy imbalance below 1e-6 of "
                          f"the enthalpy carried in (E_in = {rep.E_in / 1e6:.3g} MJ, twin's audit)"))
    C_tank = V_TAN * WATER.rho * WATER.cp_a
    out.append(funnel("net enthalpy in vs dHTan.y", ref.time, ref["dHTan.y"], sol.ts, net_in, atol=RMS_TOL * C_tank,
                      unit="J", why="the 0.3 K RMS tolerance as tank energy: |mean layer error| <= RMS error, "
                                    "times the tank's heat capacity (0.1 m3 water)"))

    # noise floor: the IBPSA copy of the same model against the Buildings result
    try:
        ibpsa = load_dymola(reference_file(NOISE))
    except MissingReference:
        return out
    out.append(noise_floor("IBPSA vs Buildings", ref, ibpsa, [f"tan.vol[{i}].T" for i in range(1, N_SEG + 1)],
                           atol=RMS_TOL, unit="K",
                           why="two reference runs of the same model (largest over the 7 layers) may differ "
                               "by no more than the tightest tolerance used here, else it is below the noise"))
    return out


CASE = Case(
    id="ST-1", title="stratified tank charged and discharged (7 segments, buoyancy tau 1 s)",
    source="Modelica Buildings Fluid.Storage.Validation.StratifiedLoadingUnloading, Dymola reference "
           "Buildings_Fluid_Storage_Validation_StratifiedLoadingUnloading.txt (tan, 1st-order upwind); "
           "IBPSA copy as noise floor",
    run=run, fast=True, components=("stratified_tank", "source", "stack"),
)
