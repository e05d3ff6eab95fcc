# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3 · Calibrating the twin against a plant log
#
# A boiler house's historian exported a day of one-minute scans: feed-water temperature and
# flow, boiler outlet temperature, gas input and burner load. The log has what real logs
# have: local timestamps with their UTC offset, a logger clock running 90 s slow, repeated
# and late rows, empty cells, a 25-minute outage of one sensor, and an unknown constant
# offset on the feed-water thermometer. The boiler's nameplate says 250 kW; its envelope loss
# and water content are guesses.
#
# The log is synthetic (`data/plant_logs/synthetic/make_synthetic.py` made it from a known
# "true" boiler plus documented noise and flaws), so we can check that the calibration finds
# the truth, and that its error bars are honest: the truth must lie inside the reported
# 2-sigma intervals. The same steps apply to a real historian export; the command-line
# equivalent is `twin calibrate`.

# %%
# %matplotlib inline
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Image, display

from twin.calibrate import calibrate, parse_fit, plot
from twin.logs import read_log
from twin.results import signal_units
from twin.run import run_scenario
from twin.scenario.build import load_scenario

ROOT = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "scenarios").is_dir())  # the repository
CASE = ROOT / "data" / "plant_logs" / "synthetic"

# %% [markdown]
# ## The model before calibration
#
# `truth.yaml` is the plant's scenario; the `--set` overrides put in what we know before the
# fit: the nameplate power and first guesses of the envelope UA and the water volume.

# %%
start = ["boiler.nominal_power=250 kW", "boiler.envelope_UA=300 W/K", "boiler.water_volume=2.5 m^3"]
scenario = load_scenario(CASE / "truth.yaml", start)
print(scenario.model.description)

# %% [markdown]
# ## Reading the log
#
# The map (`map.yaml`) says which tag is which model signal, in which unit and with which
# standard uncertainty, and what to do with each flaw: average repeated rows, sort late ones
# in, drop empty cells, split a tag's series at an outage longer than 10 min, fit the feed
# thermometer's offset. Nothing is merged, reordered or dropped unless the map says so;
# every other flaw is an error naming the file, line and column. The log is converted to SI
# units and to UTC, and checked against the plant's signals.

# %%
log = read_log(CASE / "log.csv", CASE / "map.yaml", model_units=signal_units(scenario.plant))
print(log)

# %%
ds = log.to_dataset()
fig, axes = plt.subplots(len(log.signals), 1, figsize=(9, 1.6 * len(log.signals)), sharex=True, layout="constrained")
for ax, (tag, s) in zip(axes, log.signals.items()):
    ax.plot(s.t / 3600, s.values, ".", ms=1.5)
    ax.set_ylabel(f"{tag}\n[{ds[tag].attrs.get('units', '')}]", fontsize=8)
axes[-1].set_xlabel("hours since the map's start")
plt.show()

# %% [markdown]
# ## The fit
#
# Weighted least squares (weights `1/sigma²` from the map) of the model signals against the
# log, by Levenberg–Marquardt (optimistix) through the solver: each step needs the model's
# Jacobian with respect to the parameters, which twin gets exactly from forward sensitivity
# equations solved with the plant. Bounds are kept by a logistic transform. The feed
# thermometer's offset is a nuisance parameter fitted alongside (`bias: fit` in the map).
# Standard errors and correlations come from `s²(JᵀJ)⁻¹` at the optimum, `s²` being the
# residual variance (≈ 1 when the map's sigmas are right).

# %%
fits = [parse_fit(f) for f in ("boiler.nominal_power=100..400 kW", "boiler.envelope_UA=10..3000 W/K",
                               "boiler.water_volume=0.3..6 m^3")]
cal = calibrate(scenario, log, fits)
print(f"{cal.message}: {cal.steps} steps, s² = {cal.chi2_reduced:.3f}, {cal.n} samples; "
      f"fit {cal.wall:.1f} s after a {cal.compile_time:.0f} s compile")
assert cal.success

# %% [markdown]
# ## Did it find the truth?

# %%
truth = json.loads((CASE / "truth.json").read_text())
rows = {}
for path, value, se, unit in zip(cal.paths, cal.value, cal.standard_error, cal.units):
    true = truth["parameters"][path]["value"] / (1e3 if unit == "kW" else 1.0)  # truth.json is in SI
    rows[path] = {"unit": unit, "start": cal.start[cal.paths.index(path)], "fitted": value, "± s.e.": se,
                  "truth": true, "(fitted - truth) / s.e.": (value - true) / se}
ti = cal.signal("TI_101")
true_bias = truth["tags"]["TI_101"]["bias_si"]
rows["TI_101.bias"] = {"unit": "K", "start": 0.0, "fitted": ti.bias, "± s.e.": ti.bias_se, "truth": true_bias,
                       "(fitted - truth) / s.e.": (ti.bias - true_bias) / ti.bias_se}
found = pd.DataFrame(rows).T
print(found.to_string(float_format=lambda x: f"{x:.5g}"))
assert (found["(fitted - truth) / s.e."].astype(float).abs() <= 2).all()  # inside the 2-sigma intervals

# %% [markdown]
# Every parameter is within two standard errors of the truth, from starts 9 % to 67 % off.
# The correlations say what the log can and cannot tell apart: power and envelope loss both
# set the boiler's temperature level, so their estimates are correlated; the water volume is
# seen separately, in the lag after each firing step.

# %%
print(pd.DataFrame(cal.correlation, index=cal.names, columns=cal.names).to_string(float_format=lambda x: f"{x:+.3f}"))

# %% [markdown]
# ## Goodness of fit per tag (ASHRAE Guideline 14)
#
# NMBE (normalised mean bias error) and CV(RMSE) per tag; Guideline 14 accepts a model
# calibrated to hourly data at |NMBE| ≤ 10 % and CV(RMSE) ≤ 30 %. The fitted RMSE of the
# boiler temperature should be the sensor noise the map declares (0.3 K).

# %%
g14 = pd.DataFrame({s.tag: {"signal": s.signal, "samples": s.n, "RMSE start": s.rmse_before, "RMSE fitted": s.rmse,
                            "unit": s.unit, "NMBE [%]": s.nmbe, "CV(RMSE) [%]": s.cv_rmse} for s in cal.signals}).T
print(g14.to_string(float_format=lambda x: f"{x:.4g}"))
assert all(abs(s.nmbe) <= 10 and s.cv_rmse <= 30 for s in cal.signals)

# %%
png = Path(tempfile.mkdtemp()) / "calibration_fit.png"  # twin calibrate --plot FILE writes the same
plot(cal, png)
display(Image(filename=png))

# %% [markdown]
# ## The calibrated twin
#
# `cal.overrides()` are the fitted values as `--set` strings (`twin calibrate -o` writes them
# into a copy of the scenario file instead, with a comment saying where they came from).
# The calibrated scenario is an ordinary scenario: run it, audit it, sweep it.

# %%
print(cal.overrides())
calibrated = run_scenario(load_scenario(CASE / "truth.yaml", cal.overrides()))
assert calibrated.ok
k = calibrated.kpis
print(f"gas over the day {k['fuel_energy'] / 3.6e9:.3f} MWh, of which lost through the envelope "
      f"{k['heat_losses'] / k['fuel_energy']:.1%} and up the flue {k['stack_loss'] / k['fuel_energy']:.1%}; "
      f"first-law closure {k['energy_closure']:.1e}")
