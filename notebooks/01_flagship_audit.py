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
# # 1 · The flagship plant and its audit
#
# A gas-fired container-glass furnace throws most of its input away up the stack. The
# flagship scenario, `scenarios/glass_furnace_mould_preheat.yaml`, recovers some of it twice:
# a metallic **recuperator** preheats the combustion air, then the flue gas heats a
# **thermal-oil loop** that charges a 40 t sodium-nitrate **PCM bank**, which preheats casting
# **moulds** for a neighbouring foundry. This notebook runs the 72-hour production cycle
# (Monday 06:00, three shifts) and reads the run's audit as an energy engineer would:
#
# 1. Does the run balance? (first-law closure, per component and for the plant)
# 2. Where is exergy destroyed? (second law, per component; nothing may be negative)
# 3. What did the recovery achieve against the plant without it (the baseline scenario)?
#
# Everything here is what `twin run` and `twin report` do on the command line; the notebook
# shows the Python objects behind them. Run it with `jupytext --to notebook` or open the
# `.py` file in Jupyter directly (jupytext pairs it).
#
# *Fast mode* (`TWIN_FAST=1`, set when CI executes the notebooks) skips the baseline run.

# %%
import os
from pathlib import Path

# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from twin import report
from twin.kpi import units
from twin.run import run_scenario
from twin.scenario.build import load_scenario

FAST = os.environ.get("TWIN_FAST", "0") == "1"
ROOT = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "scenarios").is_dir())  # the repository
SCENARIOS = ROOT / "scenarios"

# %% [markdown]
# ## Run the 72-hour cycle
#
# `load_scenario` reads the file (units at the edge: `"450 degC"`, `"350 kW"` become SI),
# validates every field and builds the plant; `run_scenario` solves it, audits it and
# computes the KPIs. The first call compiles the plant (XLA), later calls of the same plant
# structure reuse that program.

# %%
scenario = load_scenario(SCENARIOS / "glass_furnace_mould_preheat.yaml")
run = run_scenario(scenario)
sol = run.solution
print(f"{scenario.name}: solved {sol.ts[-1] / 3600:.0f} h in {sol.stats['num_accepted_steps']} steps, "
      f"success = {sol.success}; {len(scenario.plant.components)} components")
assert sol.success and run.ok, (sol.message, run.second_law_violations)

# %% [markdown]
# ## First law: does the run balance?
#
# Every component is written in flux form (what leaves one control volume enters the next),
# and its energy throughput is integrated with the state, so the balance
# `E_in − E_out − ΔE_stored` closes to round-off, not to the solver tolerance. The plant's
# closure is checked against 1e-6 in every run.

# %%
a = run.audit
closure = pd.DataFrame(
    {name: {"E_in [MWh]": b.E_in / 3.6e9, "E_out [MWh]": b.E_out / 3.6e9,
            "ΔE_stored [MWh]": b.dE_stored / 3.6e9, "closure [-]": b.closure}
     for name, b in a.components.items()}).T
closure.loc["plant"] = [a.plant.E_in / 3.6e9, a.plant.E_out / 3.6e9, a.plant.dE_stored / 3.6e9, a.plant.closure]
print(closure.to_string(float_format=lambda x: f"{x:.4g}"))
assert a.plant.closure < 1e-6 and closure["closure [-]"].max() < 1e-6

# %% [markdown]
# ## Second law: where is exergy destroyed?
#
# Exergy is the part of the energy that could still do work against the dead state (the
# ambient, 15 °C). Each component's destruction is `T0·S_gen ≥ 0`; a negative one would be a
# modelling error or an impossible input, and `run.second_law_violations` would name it (see
# notebook 4). The furnace's combustion destroys the most; among the recovery equipment, the
# exchangers destroy exergy in proportion to the temperature differences they work across.

# %%
destroyed = pd.Series({n: b.destruction / 3.6e9 for n, b in a.exergy.items()}).sort_values(ascending=False)
print("exergy destroyed over the run [MWh]:")
print(destroyed.to_string(float_format=lambda x: f"{x:10.3f}"))
print(f"\nsecond-law violations: {run.second_law_violations or 'none'}")
assert (destroyed > -1e-6 * destroyed.abs().max()).all()
report.exergy_figure(run.dataset)

# %% [markdown]
# ## What happened over the three days
#
# Temperatures of every component (mean over its cells, with the spread of a
# discretised one) and the PCM bank's melt state per channel cell.

# %%
ds = run.dataset
time_h = ds.time.values / 3600
traces = report.temperatures(ds)
report.temperature_figure({c: traces[c] for c in ("furnace", "recuperator", "pcm_bank", "moulds") if c in traces},
                          time_h)

# %%
(bank,) = report.pcm_banks(ds)
report.pcm_figure(bank)

# %% [markdown]
# ## KPIs
#
# `recapture_rate` is the waste heat recovered over the waste heat available (the flue gas
# leaving the furnace, cooled to the dead state); the scenario's `recovery:` block names both.

# %%
u = units(scenario.kpi_config.currency)
shown = ["fuel_energy", "electricity", "heat_recovered", "heat_delivered", "stack_loss", "recapture_rate",
         "exergy_destroyed", "exergy_efficiency", "co2_mass", "energy_cost", "energy_closure"]
kpi = pd.DataFrame({"value": [run.kpis[k] for k in shown], "unit": [u[k] for k in shown]}, index=shown)
print(kpi.to_string(float_format=lambda x: f"{x:.4g}"))

# %% [markdown]
# ## The energy flows as a Sankey diagram
#
# Boundary inputs on the left, losses and products on the right; hovering shows each flow.
# The same figure is embedded in the HTML of `twin report`.

# %%
flows = report.sankey_data(ds)
report.sankey_figure(flows, ("MWh", 3.6e9))

# %% [markdown]
# ## Against the plant without recovery
#
# `glass_furnace_mould_preheat_baseline.yaml` is the same furnace with cold combustion air,
# no oil loop and no store; its moulds are preheated by gas burners. The difference is what
# the recovery is worth over these 72 hours.

# %%
if not FAST:
    base = run_scenario(load_scenario(SCENARIOS / "glass_furnace_mould_preheat_baseline.yaml"))
    assert base.ok
    compared = ["fuel_energy", "co2_mass", "energy_cost", "exergy_destroyed", "recapture_rate"]
    table = pd.DataFrame({"baseline": [base.kpis[k] for k in compared],
                          "with recovery": [run.kpis[k] for k in compared],
                          "unit": [u[k] for k in compared]}, index=compared)
    table["change"] = (table["with recovery"] / table["baseline"] - 1).map(
        lambda x: f"{x:+.1%}" if np.isfinite(x) else "")
    print(table.to_string(float_format=lambda x: f"{x:.4g}"))
    assert run.kpis["fuel_energy"] < base.kpis["fuel_energy"]
else:
    print("fast mode: baseline comparison skipped")

# %% [markdown]
# ## The results file
#
# `twin run ... -o out.nc` writes the same Dataset (atomically) as NetCDF-4: every variable
# carries `units` and `long_name`, the audit and KPIs are variables, and the scenario text,
# its hash and the library versions are attributes. Any NetCDF/HDF5 tool opens it.

# %%
print(ds["audit.exergy.destruction"].attrs, ds["kpi.recapture_rate"].attrs, sep="\n")
print(sorted(k for k in ds.attrs if k.startswith(("scenario_", "solver_")))[:8])
plt.close("all")
