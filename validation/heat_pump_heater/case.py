"""HP-1: heat pump against the Carnot-efficiency COP and its energy balance; set-point heater
at its set point and at its capacity (analytic).

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.core.solve import simulate
from twin.scenario.build import load_scenario
from twin.validation import Case, funnel

HERE = Path(__file__).resolve().parent
CP = 4184.0  # Buildings.Media.Water [J/(kg K)]


def run():
    sc = load_scenario(HERE / "plant.yaml")
    c = sc.plant.components
    sol = simulate(sc.plant, sc.duration, sc.output_interval, sc.solver)
    if not sol.success:
        raise RuntimeError(sol.message)
    t, s = sol.ts, sol.signals
    ones = np.ones_like(t)
    hp = c["hp"]
    eta, dTa = float(hp.eta_carnot), float(hp.dT_approach)
    T_set, T_sink, T_src = float(hp.T_set(0.0)), float(c["sink"].T(0.0)), float(c["waste"].T(0.0))
    T_cond, T_evap = T_set + dTa, T_src - dTa
    cop = eta * T_cond / (T_cond - T_evap)
    m_sink, m_src = float(c["sink"].m_flow(0.0)), float(c["waste"].m_flow(0.0))
    Q_cond = m_sink * CP * (T_set - T_sink)
    out = [
        funnel("hp.COP", t, cop * ones, t, s["hp.COP"], atol=0.0, rtol=1e-4, unit="1",
               why="COP = eta_C T_cond / (T_cond - T_evap); the lift's smooth 1 K floor adds 0.5^2/(4 x 49 K) "
                   "= 1.3e-3 K to a 50 K lift (2.6e-5 of the COP): 1e-4"),
        funnel("hp.sink_out.T", t, T_set * ones, t, s["hp.sink_out.T"], atol=0.01, unit="K",
               why="condenser reaches its set point; the capacity clip is smoothed over 0.1 K of water "
                   "(error ~1e-4 K): 0.01 K"),
        funnel("hp.source_out.T", t, (T_src - Q_cond * (1.0 - 1.0 / cop) / (m_src * CP)) * ones, t,
               s["hp.source_out.T"], atol=0.01, unit="K",
               why="evaporator gives Q_cond - W = Q_cond (1 - 1/COP): same smoothing as the sink side"),
    ]
    # first law from the streams alone: m_sink cp dT_sink = m_src cp dT_src + P_electric
    resid = (m_sink * CP * (s["hp.sink_out.T"] - T_sink) - m_src * CP * (T_src - s["hp.source_out.T"])
             - s["hp.P_electric"]) / s["hp.Q_flow_condenser"]
    out.append(funnel("hp: (Q_cond - Q_evap - W) / Q_cond from the streams", t, 0.0 * ones, t, resid,
                      atol=1e-12, unit="1", why="exact by construction (constant cp): round-off"))
    b = c["boost"]
    P = float(b.P_nominal)  # fed by the heat pump's sink outlet, at T_set of the heat pump
    T_boost = np.where(t < 3600.0, float(b.T_set(0.0)), min(float(b.T_set(3601.0)), T_set + P / (m_sink * CP)))
    out.append(funnel("boost.outlet.T", t, T_boost, t, s["boost.outlet.T"], atol=0.01, unit="K",
                      mask=np.abs(t - 3600.0) > 1.0,
                      why="set point (70 degC) within capacity, then capacity: 60 degC + P/(m cp) = 83.90 degC "
                          "below the 95 degC set point; clip smoothed over 0.1 K of water: 0.01 K"))
    return out


CASE = Case(
    id="HP-1", title="heat pump Carnot COP and energy balance; set-point heater capacity",
    source="analytic: COP = eta_C T_cond / (T_cond - T_evap) (Arpagaus et al., Energy 152 (2018); Buildings "
           "Fluid.HeatPumps.Carnot_TCon); heater Q = min(m cp (T_set - T_in), P_nominal) (Buildings Heater_T)",
    run=run, fast=True, components=("heat_pump", "heater", "source", "stack"),
)
