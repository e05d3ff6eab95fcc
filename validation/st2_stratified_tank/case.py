"""Stratified 3 m3 tank charged, left standing and discharged under a sinusoidal ambient
(Buildings ``Fluid.Storage.Examples.Stratified``, 1st-order tank ``tanSim``).

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from twin.components.boundaries import Source, Stack
from twin.components.tank import StratifiedTank
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.thermo.fluids import WATER
from twin.validation import Case, MissingReference, funnel, load_dymola, reference_file
from twin.validation.compare import noise_floor

REF = "modelica-buildings/reference_results/Buildings_Fluid_Storage_Examples_Stratified.txt"
NOISE = "modelica-ibpsa/reference_results/IBPSA_Fluid_Storage_Examples_Stratified.txt"
N_SEG, V_TAN, H_TAN, D_INS, K_INS = 10, 3.0, 3.0, 0.3, 0.04  # tanSim; kIns is the model's default
K_WATER = 0.598  # Buildings.Media.Water thermal conductivity [W/(m K)]
M_FLOW = 0.1  # m_flow_nominal at dp_nominal = 5 kPa, the pressure difference that drives it [kg/s]
T_START, T_END = 293.15, 10800.0
TOL = 0.5


def ambient() -> Schedule:
    """The model's Sine(f = 1/86400, amplitude = 10, offset = 20 degC), linear between
    breakpoints 60 s apart (interpolation error below 3e-5 K). [K]"""
    t = np.arange(0.0, T_END + 60.0, 60.0)
    return Schedule(jnp.asarray(t), jnp.asarray(293.15 + 10.0 * np.sin(2.0 * math.pi * t / 86400.0)), kind="linear")


def run():
    ref = load_dymola(reference_file(REF))
    a = lambda v: jnp.asarray(v, dtype=float)
    # flows of the pressure table P: +0.1 kg/s top to bottom until 4200 s, none until 7200 s,
    # then 0.1 kg/s bottom to top (the sink's 20 degC water enters at port_b)
    down = Schedule(a([0.0, 4200.0]), a([M_FLOW, 0.0]))
    up = Schedule(a([0.0, 7200.0]), a([0.0, M_FLOW]))
    m_model = np.asarray(jax.vmap(down)(jnp.asarray(ref.time)) - jax.vmap(up)(jnp.asarray(ref.time)))
    if np.max(np.abs(m_model - ref["tanSim.m_flow"])) > 1e-6:
        raise ValueError("the flow schedule does not reproduce the reference's tanSim.m_flow")
    # TimeTable TWat: 40 degC until 3600 s, then 20 degC
    T_in = Schedule(a([0.0, 3600.0]), a([313.15, 293.15]))
    tank = StratifiedTank(volume=a(V_TAN), height=a(H_TAN), U_loss=a(0.0), k_fluid=a(K_WATER),
                          tau_buoyancy=a(1.0), T_initial=a(T_START), fluid=WATER, n_layers=N_SEG,
                          buoyancy="quadratic", d_insulation=a(D_INS), k_insulation=a(K_INS), floor_loss=False)
    plant = build_plant(
        {"tank": tank,
         "top_source": Source(m_flow=down, T=T_in, Y=jnp.zeros(0), fluid=WATER),
         "bottom_source": Source(m_flow=up, T=Schedule.constant(293.15), Y=jnp.zeros(0), fluid=WATER),
         "bottom_out": Stack(fluid=WATER), "top_out": Stack(fluid=WATER)},
        [("top_source.outlet", "tank.hot_in"), ("tank.cold_out", "bottom_out.inlet"),
         ("bottom_source.outlet", "tank.cold_in"), ("tank.hot_out", "top_out.inlet")],
        ambient())
    sol = simulate(plant, T_END, 36.0, SolverConfig(rtol=1e-8, atol=1e-8))
    if not sol.success:
        raise RuntimeError(sol.message)

    out = []
    T = sol.signals["tank.T"]
    for i in range(N_SEG):
        out.append(funnel(f"tank.T[{i}] vs tanSim.vol[{i + 1}].T", ref.time, ref[f"tanSim.vol[{i + 1}].T"],
                          sol.ts, T[:, i], atol=TOL, unit="K",
                          why="VALIDATION_CASES.md ST-2: node temperatures within 0.5 K"))
    try:
        ibpsa = load_dymola(reference_file(NOISE))
    except MissingReference:
        return out
    out.append(noise_floor("IBPSA vs Buildings", ref, ibpsa, [f"tanSim.vol[{i}].T" for i in range(1, N_SEG + 1)],
                           atol=TOL, unit="K",
                           why="two reference runs of the same model (largest over the 10 layers) may differ "
                               "by no more than the tightest tolerance used here, else it is below the noise"))
    return out


CASE = Case(
    id="ST-2", title="stratified 3 m3 tank, 10 segments, sinusoidal ambient",
    source="Modelica Buildings Fluid.Storage.Examples.Stratified, Dymola reference "
           "Buildings_Fluid_Storage_Examples_Stratified.txt (tanSim, 1st-order upwind); IBPSA copy as noise floor",
    run=run, fast=False, components=("stratified_tank", "source", "stack"),
)
