"""HX-1: constant-effectiveness water/air exchanger against Modelica Buildings' reference run.

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

import jax.numpy as jnp

from twin.components.boundaries import Source, Stack
from twin.components.effectiveness_exchanger import ConstantEffectivenessExchanger
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.thermo.fluids import BUILDINGS_AIR, WATER
from twin.validation import Case, funnel, load_dymola, reference_file

REF = "modelica-buildings/reference_results/Buildings_Fluid_HeatExchangers_Validation_ConstantEffectiveness.txt"
EPS = 0.8  # Buildings.Fluid.HeatExchangers.ConstantEffectiveness, default eps
M_SMALL = 1e-3  # samples with less flow are not judged (zero-flow regularisation) [kg/s]


def run():
    ref = load_dymola(reference_file(REF))
    t = ref.time

    def series(name):  # the reference's own boundary signal, linear between its samples
        return Schedule(jnp.asarray(t), jnp.asarray(ref[name]), kind="linear")

    comps = {
        "hex": ConstantEffectivenessExchanger(effectiveness_value=jnp.asarray(EPS), hot_fluid=WATER,
                                              cold_fluid=BUILDINGS_AIR),
        "water": Source(m_flow=series("hex.m1_flow"), T=series("T_a1.T"), Y=jnp.zeros(0), fluid=WATER),
        "air": Source(m_flow=series("hex.m2_flow"), T=series("T_a2.T"), Y=jnp.zeros(0), fluid=BUILDINGS_AIR),
        "water_out": Stack(fluid=WATER),
        "air_out": Stack(fluid=BUILDINGS_AIR),
    }
    conns = [("water.outlet", "hex.hot_in"), ("hex.hot_out", "water_out.inlet"),
             ("air.outlet", "hex.cold_in"), ("hex.cold_out", "air_out.inlet")]
    plant = build_plant(comps, conns, Schedule.constant(293.15))
    sol = simulate(plant, float(t[-1]), float(t[1] - t[0]), SolverConfig())
    if not sol.success:
        raise RuntimeError(sol.message)
    s, m1, m2 = sol.signals, ref["hex.m1_flow"], ref["hex.m2_flow"]
    why_T = ("VALIDATION_CASES.md HX-1 (an algebraic model driven by the reference's own inputs must "
             "reproduce it); samples with m < 1e-3 kg/s skipped (zero-flow regularisation)")
    return [
        funnel("T_b1.T (water out)", t, ref["T_b1.T"], sol.ts, s["hex.hot_out.T"], atol=0.05, unit="K",
               why=why_T, mask=m1 >= M_SMALL),
        funnel("T_b2.T (air out)", t, ref["T_b2.T"], sol.ts, s["hex.cold_out.T"], atol=0.05, unit="K",
               why=why_T, mask=m2 >= M_SMALL),
        # Q1_flow is the heat into medium 1 (the water): minus twin's hot-to-cold heat flow
        funnel("hex.Q1_flow", t, ref["hex.Q1_flow"], sol.ts, -s["hex.Q_flow"], atol=0.0, rtol=0.005, unit="W",
               why="VALIDATION_CASES.md HX-1: 0.5 % of the largest |Q1_flow| (BuildingsPy funnel "
                   "normalisation); samples where either flow is below 1e-3 kg/s skipped",
               mask=(m1 >= M_SMALL) & (m2 >= M_SMALL)),
    ]


CASE = Case(
    id="HX-1", title="constant-effectiveness water/air heat exchanger (open loop)",
    source="Modelica Buildings 12, Buildings.Fluid.HeatExchangers.Validation.ConstantEffectiveness "
           "(reference_results/Buildings_Fluid_HeatExchangers_Validation_ConstantEffectiveness.txt)",
    run=run, fast=True, components=("effectiveness_exchanger", "source", "stack"),
)
