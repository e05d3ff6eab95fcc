"""Reproduce PCM-1's two calibrated parameters with twin's calibration (run by hand:
``python validation/pcm1_nist_ice_tank/calibrate.py``).

Writes the four NIST experiments as plant logs and scenarios into a temporary folder
(``data/plant_logs/nist_ice_tank/make_logs.py``: the same bank as ``case.py``), then fits the
PCM layer thickness and the film coefficient to Discharging1 and Discharging2 at once with
:func:`twin.calibrate.calibrate_experiments` (what ``twin calibrate`` runs: weighted least
squares over the outlet temperature and the ice fraction, Levenberg-Marquardt with forward
sensitivities, one compiled program; the tags and their sigmas are in
``data/plant_logs/nist_ice_tank/map.yaml``), from 30 mm and 150 W/(m2 K), and predicts
Charging and Discharging3 at the result. Prints the constants for ``case.py``. The same fit
as the ``twin calibrate`` command in ``data/plant_logs/nist_ice_tank/README.md``, where the
numbers it gave are recorded. About 12-20 minutes on a shared 2-core machine (compiling
2.5-4 minutes of it).
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

from twin.calibrate import Experiment, calibrate_experiments, parse_fit
from twin.logs import read_log
from twin.results import signal_units
from twin.scenario.build import load_scenario

CASE_DIR = Path(__file__).resolve().parents[2] / "data" / "plant_logs" / "nist_ice_tank"
FIT = ("discharging1", "discharging2")
VALIDATE = ("charging", "discharging3")
START = ["tank.thickness=30 mm", "tank.h_conv=150 W/(m^2 K)"]


def _make_logs():
    spec = importlib.util.spec_from_file_location("nist_make_logs", CASE_DIR / "make_logs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def experiment(folder: Path, name: str) -> Experiment:
    sc = load_scenario(folder / f"{name}.yaml", START)
    log = read_log(folder / f"{name}.csv", CASE_DIR / "map.yaml", model_units=signal_units(sc.plant))
    return Experiment(sc, log, name)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if _make_logs().main([str(folder)]) != 0:
            raise SystemExit(2)
        cal = calibrate_experiments([experiment(folder, n) for n in FIT], [parse_fit("tank.thickness"),
                                    parse_fit("tank.h_conv")], validate=[experiment(folder, n) for n in VALIDATE])
    for path, v, se, u in zip(cal.paths, cal.value, cal.standard_error, cal.units):
        print(f"{path} = {v:.5g} +- {se:.2g} {u}")
    print(f"correlation {cal.correlation[0, 1]:+.3f}; s2 = {cal.chi2_reduced:.1f}; {cal.steps} LM steps, "
          f"{cal.message}; fit {cal.wall:.1f} s after a {cal.compile_time:.0f} s compile")
    for s in cal.signals:
        print(f"{s.experiment:>13} ({s.role:>10}) {s.tag:>6}: RMSE {s.rmse:.4g} (start {s.rmse_before:.4g}), "
              f"NMBE {s.nmbe:+.2f} %, CV(RMSE) {s.cv_rmse:.2f} %")
    thickness, h_conv = cal.value  # [mm], [W/(m2 K)]
    print(f"THICKNESS, H_CONV = {thickness / 1e3:.5f}, {h_conv:.2f}  # for case.py")
