"""FUR-1: fuel-fired boiler at a prescribed firing ratio against Modelica Buildings'
``Fluid.Boilers.Examples.BoilerPolynomial`` (Dymola reference result).

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

import jax.numpy as jnp

from twin.components.boundaries import Source, Stack
from twin.components.heater import FiredHeater
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.thermo.combustion import FUELS
from twin.thermo.fluids import WATER
from twin.validation import Case, funnel, load_dymola, reference_file

REFERENCE = "modelica-buildings/reference_results/Buildings_Fluid_Boilers_Examples_BoilerPolynomial.txt"
Q_NOMINAL = 3000.0  # [W]
M_FLOW = Q_NOMINAL / 20.0 / 4200.0  # m_flow_nominal of the example (its 4200, not cp) [kg/s]
T_IN, T_ROOM, T_START = 303.15, 288.15, 293.15  # [K]
UA = 0.05 * Q_NOMINAL / 30.0  # PartialBoiler's default, 5 W/K
G_REF = 2.0 * UA  # the reference counts UAOve twice (README): 10 W/K
V_WATER = 1.5e-6 * Q_NOMINAL  # [m^3]
C_DRY = 500.0 * 1.5e-3 * Q_NOMINAL  # heaCapDry.C = 500 mDry [J/K]
RHO_BUILDINGS = 995.586  # Buildings.Media.Water density [kg/m^3]
JUMP = 1e-6  # the TimeTable's jumps, as 1 us ramps of a linear schedule [s]


def _boiler(dynamics: str) -> FiredHeater:
    a = lambda v: jnp.asarray(v, dtype=float)
    # y: ramp 0 -> 1 over 0-1800 s, 0 until 2400 s, then 1 (the example's TimeTable)
    y = Schedule(a([0.0, 1800.0, 1800.0 + JUMP, 2400.0, 2400.0 + JUMP]), a([0.0, 1.0, 0.0, 0.0, 1.0]),
                 kind="linear")
    return FiredHeater(P_nominal=a(Q_NOMINAL), efficiency=a(0.9), firing=y, UA_loss=a(G_REF),
                       M_water=a(V_WATER * RHO_BUILDINGS), C_dry=a(C_DRY), T_initial=a(T_START),
                       fluid=WATER, fuel=FUELS["natural_gas"], dynamics=dynamics)


def run():
    ref = load_dymola(reference_file(REFERENCE))
    feed = lambda: Source(m_flow=Schedule.constant(M_FLOW), T=Schedule.constant(T_IN),
                          Y=jnp.zeros(0), fluid=WATER)
    plant = build_plant(
        {"boi1": _boiler("dynamic"), "boi2": _boiler("steady_state"), "sou1": feed(), "sou2": feed(),
         "sin1": Stack(fluid=WATER), "sin2": Stack(fluid=WATER)},
        [("sou1.outlet", "boi1.inlet"), ("boi1.outlet", "sin1.inlet"),
         ("sou2.outlet", "boi2.inlet"), ("boi2.outlet", "sin2.inlet")],
        Schedule.constant(T_ROOM))
    sol = simulate(plant, 3600.0, 36.0, SolverConfig(rtol=1e-9, atol=1e-9))
    if not sol.success:
        raise RuntimeError(sol.message)
    s = sol.signals
    return [
        funnel("boi2.T", ref.time, ref["boi2.T"], sol.ts, s["boi2.T"], atol=0.02, unit="K",
               why="VALIDATION_CASES.md FUR-1: steady boiler, an algebraic balance; 0.02 K is ~1e-3 of "
                   "the 19 K range, BuildingsPy's own funnel width"),
        funnel("boi1.T", ref.time, ref["boi1.T"], sol.ts, s["boi1.T"], atol=0.3, unit="K",
               why="VALIDATION_CASES.md FUR-1: dynamic boiler (4.5 L water + 4.5 kg metal, tau ~ 130 s) "
                   "through a ramp and two firing steps"),
    ]


CASE = Case(
    id="FUR-1", title="boiler at a prescribed firing ratio, steady and dynamic",
    source="Modelica Buildings Fluid.Boilers.Examples.BoilerPolynomial, Dymola reference "
           "Buildings_Fluid_Boilers_Examples_BoilerPolynomial.txt",
    run=run, fast=False, components=("heater", "source", "stack"),
)
