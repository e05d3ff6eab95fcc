"""HX-3: water/water counterflow plate exchanger (ε-NTU, hA ∝ m^0.8) fed open loop with the
inlet flows and temperatures of Modelica Buildings' closed-loop reference run.

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

import jax.numpy as jnp

from twin.components.boundaries import Source, Stack
from twin.components.effectiveness_exchanger import (
    EffectivenessNTUExchanger,
    ua_for_effectiveness,
)
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.thermo.fluids import WATER
from twin.validation import Case, funnel, load_dymola, reference_file

REF = ("modelica-buildings/reference_results/"
       "Buildings_Fluid_HeatExchangers_Examples_PlateHeatExchangerEffectivenessNTUPControl.txt")
CP = WATER.cp_a  # 4184 J/(kg K), Buildings.Media.Water
M1_NOM = 0.01  # hot side (60 -> 50 degC) [kg/s]
M2_NOM = M1_NOM * (60.0 - 50.0) / (40.0 - 20.0)  # cold side (20 -> 40 degC): 0.005 kg/s
EPS_NOM = 0.5
N = 0.8  # hA ∝ m^0.8 on both sides
# PlateHeatExchangerEffectivenessNTU's default r_nominal = hA1/hA2 at the nominal flows, from
# h ∝ k (m/η)^n Pr^(1/3) with the same medium and properties on both sides
R_NOMINAL = (M1_NOM / M2_NOM) ** N


def run():
    ref = load_dymola(reference_file(REF))
    t = ref.time

    def series(name):  # the reference's own inlet signals, linear between its samples
        return Schedule(jnp.asarray(t), jnp.asarray(ref[name]), kind="linear")

    UA = ua_for_effectiveness(EPS_NOM, M1_NOM * CP, M2_NOM * CP, "counterflow")
    comps = {
        "hex": EffectivenessNTUExchanger(
            UA_nominal=jnp.asarray(UA), hA_ratio=jnp.asarray(R_NOMINAL), m_hot_nominal=jnp.asarray(M1_NOM),
            m_cold_nominal=jnp.asarray(M2_NOM), n_hot=jnp.asarray(N), n_cold=jnp.asarray(N),
            hot_fluid=WATER, cold_fluid=WATER, arrangement="counterflow"),
        "hot": Source(m_flow=series("hex.m1_flow"), T=series("hex.sta_a1.T"), Y=jnp.zeros(0), fluid=WATER),
        "cold": Source(m_flow=series("hex.m2_flow"), T=series("hex.sta_a2.T"), Y=jnp.zeros(0), fluid=WATER),
        "hot_out": Stack(fluid=WATER),
        "cold_out": Stack(fluid=WATER),
    }
    conns = [("hot.outlet", "hex.hot_in"), ("hex.hot_out", "hot_out.inlet"),
             ("cold.outlet", "hex.cold_in"), ("hex.cold_out", "cold_out.inlet")]
    plant = build_plant(comps, conns, Schedule.constant(293.15))
    sol = simulate(plant, float(t[-1]), float(t[1] - t[0]), SolverConfig())
    if not sol.success:
        raise RuntimeError(sol.message)
    s = sol.signals
    why_T = "VALIDATION_CASES.md HX-3 (open-loop check of an algebraic model fed the reference's inputs)"
    return [
        funnel("hex.sta_b1.T (hot out)", t, ref["hex.sta_b1.T"], sol.ts, s["hex.hot_out.T"], atol=0.1,
               unit="K", why=why_T),
        funnel("hex.sta_b2.T (cold out)", t, ref["hex.sta_b2.T"], sol.ts, s["hex.cold_out.T"], atol=0.1,
               unit="K", why=why_T),
        # Q1_flow is the heat into medium 1 (the hot side): minus twin's hot-to-cold heat flow
        funnel("hex.Q1_flow", t, ref["hex.Q1_flow"], sol.ts, -s["hex.Q_flow"], atol=0.0, rtol=0.01, unit="W",
               why="VALIDATION_CASES.md HX-3: 1 % of the largest |Q1_flow| (BuildingsPy funnel normalisation)"),
    ]


CASE = Case(
    id="HX-3", title="water/water counterflow plate heat exchanger, ε-NTU (open loop)",
    source="Modelica Buildings 12, Buildings.Fluid.HeatExchangers.Examples.PlateHeatExchangerEffectivenessNTUPControl "
           "(reference_results/Buildings_Fluid_HeatExchangers_Examples_PlateHeatExchangerEffectivenessNTUPControl.txt)",
    run=run, fast=True, components=("effectiveness_exchanger", "source", "stack"),
)
