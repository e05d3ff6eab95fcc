"""Write the NIST ice-tank experiments as plant logs and scenarios (README.md beside this file).

Reads ``modelica-buildings/measured/IceStorageNIST/{charging,discharging1,discharging2,
discharging3}.txt`` from the reference-data folder at run time (``$TWIN_REFERENCE_DATA`` or
``../shared/data/reference``; nothing of it is kept in the repository) and writes, per
experiment, into OUT (default: ``build/`` beside this file, ignored by git):

* ``<name>.csv``: the log in data/plant_logs/README.md's format, one row per 10 s sample
  from the model's start on: ``timestamp`` (ISO 8601 with offset; t = 0 at :data:`START`,
  the same instant for every experiment, so that one ``map.yaml`` serves all four; the
  tables carry seconds only, no dates), ``TI_in`` and ``TI_out`` (glycol at the tank's
  inlet and outlet, degC), ``FI`` (glycol mass flow, kg/s) and ``SOC`` (ice fraction, -);
* ``<name>.yaml``: the scenario: a ``pcm_bank`` of the ``ice`` card with the
  ``propylene_glycol_30`` heat-transfer fluid, driven by the measured inlet temperature and
  mass flow as ``kind: linear`` schedules, starting uniformly at the melting point with the
  measured initial ice fraction (validation/pcm1_nist_ice_tank/case.py, the same model).

The inlet temperature and flow are resampled onto ``N_GRID`` equal intervals per experiment
(finer than the 10 s samples) so that all four scenarios have one plant structure and share
one compiled program in ``twin calibrate`` (case.py does the same). The thickness and film
coefficient written are case.py's; ``twin calibrate --set`` moves them.

    python data/plant_logs/nist_ice_tank/make_logs.py [OUT]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

from twin.thermo.pcm import load_material
from twin.validation import load_combitimetable, reference_file
from twin.validation.reference import MissingReference

HERE = Path(__file__).resolve().parent
MEASURED = "modelica-buildings/measured/IceStorageNIST/{}.txt"
#: experiment -> start of the model run in the table [s] (Charging as upstream's ExperimentNIST model)
EXPERIMENTS = {"Discharging1": 0.0, "Discharging2": 0.0, "Charging": 15000.0, "Discharging3": 0.0}
#: model time t = 0 of every log: an arbitrary instant (the tables have no dates), local time
#: of the laboratory (Gaithersburg, Maryland: US Eastern Standard Time)
START = dt.datetime(2020, 1, 6, 8, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
M_ICE = 2846.35  # ice capacity of the tank (Buildings record's mIce_max), 264 kWh latent [kg]
THICKNESS, H_CONV = 0.02212, 84.87  # written as validation/pcm1_nist_ice_tank/case.py [m], [W/(m2 K)]
N_GRID = 4600  # schedule intervals per experiment (one plant structure for all four)


def measured(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Seconds since the model's start and the table rows (time, T_in [degC], T_out [degC],
    m_flow [kg/s], SOC [-]) from that start on."""
    d = load_combitimetable(reference_file(MEASURED.format(name.lower())))["tab"]
    d = d[d[:, 0] >= EXPERIMENTS[name]]
    return d[:, 0] - d[0, 0], d


def melting_temperature(soc: float) -> float:
    """The temperature at which the ``ice`` card holds the fraction ``soc`` as ice. [K]"""
    ice = load_material("ice")
    lo, hi = float(ice.T_solidus), float(ice.T_liquidus)
    return brentq(lambda T: float(ice.liquid_fraction(ice.h(T))) - (1.0 - soc), lo, hi, xtol=1e-12)


def _list(items: list[str], indent: str) -> str:
    rows = [", ".join(items[k:k + 8]) for k in range(0, len(items), 8)]
    return "[" + f",\n{indent} ".join(rows) + "]"


def scenario(name: str, t: np.ndarray, d: np.ndarray) -> str:
    grid = np.linspace(0.0, t[-1], N_GRID + 1)
    T_in = np.interp(grid, t, d[:, 1])
    m_flow = np.interp(grid, t, d[:, 3])
    times = _list([f"{x:.6f} s" for x in grid], " " * 17)
    T0 = melting_temperature(float(d[0, 4]))
    return f"""\
# NIST ice tank, experiment {name}: written by make_logs.py (README.md beside it).
# Inputs: measured glycol inlet temperature and mass flow, linear between {N_GRID} equal
# intervals; initial state: uniformly at the melting point holding the measured ice fraction
# {d[0, 4]:.4f}. Calibrated: tank.thickness and tank.h_conv (start: validation case PCM-1).
schema_version: 1
name: nist_ice_tank_{name.lower()}
description: >-
  NIST IBAL ice-on-coil tank ({M_ICE} kg of ice at full charge), 30 % propylene glycol,
  experiment {name} ({t[-1]:g} s from the table's {EXPERIMENTS[name]:g} s).
duration: {grid[-1]:.6f} s
output_interval: 60 s
ambient: {{temperature: 20 degC}}
solver: {{method: tsit5, rtol: 1.0e-6, atol: 1.0e-6, max_steps: 200000}}

schedules:
  glycol_inlet:
    kind: linear
    times: &grid {times}
    values: {_list([f"{x:.6f} degC" for x in T_in], " " * 12)}
  glycol_flow:
    kind: linear
    times: *grid
    values: {_list([f"{x:.7f} kg/s" for x in m_flow], " " * 12)}

components:
  supply: {{type: source, fluid: propylene_glycol_30, mass_flow: glycol_flow, temperature: glycol_inlet}}
  tank:
    type: pcm_bank
    material: ice
    mass: {M_ICE} kg
    thickness: {THICKNESS * 1e3:g} mm
    h_conv: {H_CONV:g} W/(m^2 K)
    fluid: propylene_glycol_30
    fluid_dynamics: quasi_steady
    UA_loss: 0 W/K
    channels: 6
    nodes: 8
    initial_temperature: {T0!r} K   # ice fraction {d[0, 4]!r} on the ice card's melting curve
  drain: {{type: stack}}

connections:
  - [supply.outlet, tank.inlet]
  - [tank.outlet, drain.inlet]
"""


def log(name: str, t: np.ndarray, d: np.ndarray) -> str:
    lines = [(f"# NIST ice tank, experiment {name} ({MEASURED.format(name.lower())} from "
              f"{EXPERIMENTS[name]:g} s on); written by make_logs.py"),
             "timestamp,TI_in,TI_out,FI,SOC"]
    for tk, row in zip(t, d):
        stamp = (START + dt.timedelta(seconds=float(tk))).isoformat()
        lines.append(f"{stamp},{row[1]:.6f},{row[2]:.6f},{row[3]:.9f},{row[4]:.9f}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", default=str(HERE / "build"), help="output folder (default: %(default)s)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    try:
        data = {name: measured(name) for name in EXPERIMENTS}
    except MissingReference as exc:
        print(f"make_logs.py: the NIST measurements are not available ({exc}); nothing written", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for name, (t, d) in data.items():
        (out / f"{name.lower()}.csv").write_text(log(name, t, d))
        (out / f"{name.lower()}.yaml").write_text(scenario(name, t, d))
        print(f"{name}: {t.size} samples, {t[-1]:g} s, initial ice fraction {d[0, 4]:.4f} -> "
              f"{out / name.lower()}.{{csv,yaml}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
