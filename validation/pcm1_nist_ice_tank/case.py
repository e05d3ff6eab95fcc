"""PCM-1: a PCM bank of ice against the NIST ice-tank measurements (charge and discharges).

See README.md beside this file for the set-up, the calibration, the reference and the
tolerances. ``calibrate.py`` beside this file reproduces the two calibrated parameters with
``twin calibrate``'s machinery.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from scipy.optimize import brentq

from twin.components.boundaries import Source, Stack
from twin.components.pcm_bank import PCMBank
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.thermo.fluids import PROPYLENE_GLYCOL_30
from twin.thermo.pcm import load_material
from twin.validation import (
    Case,
    load_combitimetable,
    load_dymola,
    reference_file,
    statistics,
)

MEASURED = "modelica-buildings/measured/IceStorageNIST/{}.txt"
DYMOLA = "modelica-buildings/reference_results/Buildings_Fluid_Storage_Ice_Validation_ExperimentNIST_{}.txt"
#: experiment -> (start time of the model run [s], role, outlet-T RMSE bound [K], SOC RMSE bound or None)
EXPERIMENTS = {
    "Discharging1": (0.0, "calibration", 1.0, 0.05),
    "Discharging2": (0.0, "calibration", 1.0, 0.05),
    "Charging": (15000.0, "validation", 1.0, 0.05),
    "Discharging3": (0.0, "validation (runs out of ice)", 2.5, None),
}
M_ICE = 2846.35  # ice capacity of the tank record (mIce_max), 264 kWh latent [kg]
#: calibrated on Discharging1 + Discharging2 by twin's calibration (calibrate.py beside this file,
#: or `twin calibrate`: data/plant_logs/nist_ice_tank/README.md): 22.12 +- 0.07 mm, 84.9 +- 0.8 W/(m2 K)
THICKNESS, H_CONV = 0.02212, 84.87  # [m], [W/(m2 K)]
N_CHANNEL, N_NODES = 6, 8
N_GRID = 4600  # every experiment on one grid size (>= its 10 s samples): one compile for all four
SKIP = 60.0  # the first minute is the sensors' start-up (the first sample reads 20 degC) [s]

#: 30 % propylene glycol, the tank's heat-transfer fluid, with constant properties at 0 degC as
#: Buildings.Media.Antifreeze.PropyleneGlycolWater(property_T = 273.15 K, X_a = 0.30) of the
#: reference model (Melinder 2010; twin's ``propylene_glycol_30``)
GLYCOL = PROPYLENE_GLYCOL_30


def measured(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Time since the model's start [s] and the table rows (time, T_in [degC], T_out [degC],
    m_flow [kg/s], SOC [-]) from that start on."""
    d = load_combitimetable(reference_file(MEASURED.format(name.lower())))["tab"]
    d = d[d[:, 0] >= EXPERIMENTS[name][0]]
    return d[:, 0] - d[0, 0], d


def tank(thickness: float, h_conv: float, soc0: float) -> PCMBank:
    """The ice bank, uniformly at the melting point holding the fraction ``soc0`` as ice."""
    ice = load_material("ice")
    lo, hi = float(ice.T_solidus), float(ice.T_liquidus)
    T0 = brentq(lambda T: float(ice.liquid_fraction(ice.h(T))) - (1.0 - soc0), lo, hi, xtol=1e-12)
    a = lambda v: jnp.asarray(v, dtype=float)
    return PCMBank(material=ice, mass=a(M_ICE), thickness=a(thickness), h_conv=a(h_conv), M_fluid=a(0.0),
                   UA_loss=a(0.0), T_initial=a(T0), fluid=GLYCOL, n_channel=N_CHANNEL, n_nodes=N_NODES,
                   fluid_dynamics="quasi_steady")


def solve(name: str, thickness: float = THICKNESS, h_conv: float = H_CONV):
    """Drive the bank with the measured inlet temperature and flow (linear between samples,
    resampled onto ``N_GRID`` intervals); returns (t [s], outlet T [K], SOC [-]) at the grid."""
    t, d = measured(name)
    grid = np.linspace(0.0, t[-1], N_GRID + 1)
    inlet = Schedule(jnp.asarray(grid), jnp.asarray(np.interp(grid, t, d[:, 1]) + 273.15), kind="linear")
    flow = Schedule(jnp.asarray(grid), jnp.asarray(np.interp(grid, t, d[:, 3])), kind="linear")
    plant = build_plant({"tank": tank(thickness, h_conv, d[0, 4]),
                         "supply": Source(m_flow=flow, T=inlet, Y=jnp.zeros(0), fluid=GLYCOL),
                         "return": Stack(fluid=GLYCOL)},
                        [("supply.outlet", "tank.inlet"), ("tank.outlet", "return.inlet")], Schedule.constant(293.15))
    sol = simulate(plant, float(grid[-1]), float(grid[-1]) / N_GRID, SolverConfig(rtol=1e-6, atol=1e-6))
    if not sol.success:
        raise RuntimeError(f"{name}: {sol.message}")
    return sol.ts, sol.signals["tank.outlet.T"], 1.0 - sol.signals["tank.liquid_fraction"]


def run():
    out = []
    for name, (t_start, role, T_max, soc_max) in EXPERIMENTS.items():
        t_meas, d = measured(name)
        t, T_out, soc = solve(name)
        judged = t_meas > SKIP
        why = (f"{role}; VALIDATION_CASES.md PCM-1: RMSE <= {T_max:g} K after the first 60 s "
               f"(Dymola's model reaches 0.3-0.8 K on the discharges, 2.1 K on Discharging3)")
        out += statistics(f"{name}: outlet T vs measured", t_meas, d[:, 2] + 273.15, t, T_out, rmse_max=T_max,
                          unit="K", why=why, mask=judged)
        if soc_max is not None:
            out += statistics(f"{name}: SOC vs measured", t_meas, d[:, 4], t, soc, rmse_max=soc_max, unit="-",
                              why=f"{role}; VALIDATION_CASES.md PCM-1: SOC RMSE <= 0.05 (Dymola 0.016-0.041)",
                              mask=judged)
        # Buildings' own model on the same data: what is model error and what is data noise
        ref = load_dymola(reference_file(DYMOLA.format(name)))
        t_ref = ref.time - t_start
        out += statistics(f"{name}: outlet T vs Buildings model", t_ref, ref["TOut.T"], t, T_out, rmse_max=T_max,
                          unit="K", mask=t_ref > SKIP,
                          why=f"{role}; twin against Buildings.Fluid.Storage.Ice (Dymola) on the same inputs, "
                              f"with the measurement's bound ({T_max:g} K)")
    return out


CASE = Case(
    id="PCM-1", title="ice-storage PCM bank vs NIST ice-tank measurements (charge, three discharges)",
    source="NIST Intelligent Building Agents Laboratory ice tank, measured/IceStorageNIST/*.txt of Modelica "
           "Buildings (Pradhan et al., ASHRAE Trans. 126 (2020); Li et al., Modelica Conf. 2021), and the "
           "Dymola results of Buildings.Fluid.Storage.Ice.Validation.ExperimentNIST.*",
    run=run, fast=False, components=("pcm_bank", "source", "stack"),
)
