"""Reproduce PCM-1's two calibrated parameters (run by hand: ``python calibrate.py``).

Fits the PCM layer thickness and the film coefficient of the ice bank in ``case.py`` so that
the outlet temperature matches the measured one on Discharging1 and Discharging2 (RMSE over
all their samples after the first minute, each sample weighted alike), by Nelder-Mead in
log space from thickness 30 mm, h 150 W/(m2 K). Charging and Discharging3 are not used: they
validate the fit. Every evaluation reuses the one compiled solver (same plant structure).
Takes a few minutes on two cores.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

spec = importlib.util.spec_from_file_location("pcm1_case", Path(__file__).resolve().parent / "case.py")
case = importlib.util.module_from_spec(spec)
spec.loader.exec_module(case)

FIT = ("Discharging1", "Discharging2")
DATA = {name: case.measured(name) for name in FIT}


def rmse(log_params) -> float:
    thickness, h_conv = np.exp(log_params)
    sq, n = 0.0, 0
    for name, (t_meas, d) in DATA.items():
        t, T_out, _ = case.solve(name, thickness, h_conv)
        judged = t_meas > case.SKIP
        e = np.interp(t_meas[judged], t, T_out) - (d[judged, 2] + 273.15)
        sq, n = sq + float(np.sum(e * e)), n + int(judged.sum())
    value = float(np.sqrt(sq / n))
    print(f"thickness {thickness * 1e3:7.3f} mm  h_conv {h_conv:7.2f} W/(m2 K)  RMSE {value:.4f} K", flush=True)
    return value


if __name__ == "__main__":
    res = minimize(rmse, np.log([0.03, 150.0]), method="Nelder-Mead",
                   options={"xatol": 1e-3, "fatol": 1e-4, "maxfev": 80})
    thickness, h_conv = np.exp(res.x)
    print(f"THICKNESS, H_CONV = {thickness:.5f}, {h_conv:.1f}  # RMSE {res.fun:.4f} K over {', '.join(FIT)}")
