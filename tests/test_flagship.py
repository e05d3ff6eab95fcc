"""The flagship scenario end to end through the CLI: results file, audit, overrides, errors.

The plant compiles once per test session (the first ``twin run``); the override runs reuse
the compiled solver, which the compile counter proves.
"""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from twin.cli import main
from twin.core import solve
from twin.run import run_scenario
from twin.scenario.build import load_scenario

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "scenarios" / "glass_furnace_mould_preheat.yaml"


@pytest.fixture(scope="session")
def flagship_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("flagship") / "out.nc"
    result = CliRunner().invoke(main, ["run", str(FLAGSHIP), "-o", str(out)])
    return result, out


def test_flagship_runs_and_prints_summary(flagship_run):
    result, out = flagship_run
    assert result.exit_code == 0, result.output
    for text in ("energy in", "heat recovered", "first-law closure", "steps", "check pass"):
        assert text in result.output
    assert out.exists() and not list(out.parent.glob("*.part"))  # atomic: no temporary left


def test_results_file_is_self_describing(flagship_run):
    _, out = flagship_run
    ds = xr.open_dataset(out, engine="h5netcdf")
    assert ds["time"].attrs["units"] == "s" and float(ds["time"][-1]) == 72 * 3600.0
    for name, var in ds.variables.items():
        if name == "component":
            continue
        assert "units" in var.attrs and "long_name" in var.attrs, name
    # component states on their own dimensions
    assert ds["pcm_bank.h_pcm"].dims == ("time", "pcm_bank_channel", "pcm_bank_node")
    assert ds["oil_heater.T_wall"].dims == ("time", "oil_heater_cell")
    # audit and provenance
    assert float(ds["audit.plant.closure"]) <= 1e-6
    assert np.all(ds["audit.closure"].values <= 1e-9)
    assert ds.attrs["scenario_text"] == FLAGSHIP.read_text()
    assert len(ds.attrs["scenario_sha256"]) == 64 and ds.attrs["version_jax"]
    assert ds.attrs["solver_num_accepted_steps"] > 0 and ds.attrs["solver_success"] == 1
    # readable by the netCDF C library (what ncdump uses), not only by h5netcdf
    with netCDF4.Dataset(out) as nc:
        assert nc.variables["furnace.T_load"].units == "K"
        assert nc.getncattr("scenario_sha256") == ds.attrs["scenario_sha256"]


def test_flagship_physics_is_plausible(flagship_run):
    _, out = flagship_run
    ds = xr.open_dataset(out, engine="h5netcdf")
    # PI control holds the melt near its set point (1450 / 1430 degC) after the first hour
    T_load = ds["furnace.T_load"].sel(time=slice(3600.0, None)).values
    assert 1700.0 < T_load.min() and T_load.max() < 1730.0
    # firing reduced at night: mean firing on night shifts below that on day shifts
    t = ds["time"].values % 86400.0
    fire = ds["furnace.firing"].values
    assert fire[t >= 16 * 3600].mean() < 0.8 * fire[(t > 3600) & (t < 16 * 3600)].mean()
    # the oil never exceeds the Therminol 66 limit (345 degC) and heat flows hot -> cold
    assert ds["oil_heater.cold_out.T"].max() < 618.15
    assert np.all(ds["oil_heater.Q_flow"].values > 0)
    # the store works as a buffer: partly melted and frozen within the run
    lf = ds["pcm_bank.liquid_fraction"].values
    assert lf.min() < 0.5 < lf.max()
    # cumulative fuel is non-decreasing
    assert np.all(np.diff(ds["audit.furnace.fuel"].values) >= 0)


def test_set_override_changes_result_in_expected_direction(flagship_run):
    base = load_scenario(FLAGSHIP)
    n0 = solve.COMPILE_COUNT
    small = run_scenario(load_scenario(FLAGSHIP, ['oil_heater.UA=150 W/K']))
    big = run_scenario(load_scenario(FLAGSHIP, ['oil_heater.UA=300 W/K']))
    # same structure as the session's flagship run: no new compilation for a new value
    assert solve.COMPILE_COUNT - n0 <= 1
    assert float(load_scenario(FLAGSHIP, ['oil_heater.UA=150 W/K']).plant.components["oil_heater"].UA) == 150.0
    assert float(base.plant.components["oil_heater"].UA) == 260.0
    assert big.kpis["heat_recovered"] > small.kpis["heat_recovered"] * 1.5
    assert big.kpis["energy_closure"] < 1e-6 and small.kpis["energy_closure"] < 1e-6


def test_check_reports_three_mistakes_with_lines(tmp_path):
    text = FLAGSHIP.read_text()
    text = text.replace("firing_rate: 7 MW", "firing_rate: 7")  # bare number
    text = text.replace("    mass_flow: 5 kg/s", "    mass_flow: 5 kg/s\n    mass_flwo: 5 kg/s")  # typo key
    text = text.replace("eps_gas_load: 0.35", "eps_gas_load: 1.5")  # outside [0, 1]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    result = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if "bad.yaml:" in ln]
    assert len(lines) == 3, result.output
    assert any("components.furnace.firing_rate" in ln for ln in lines)
    assert any("components.pump.mass_flwo" in ln for ln in lines)
    assert any("components.furnace.heat_transfer.eps_gas_load" in ln for ln in lines)
    for ln in lines:  # file:line: path: ...
        file, line, *_ = ln.strip().split(":")
        assert file.endswith("bad.yaml") and line.isdigit()
    assert "Traceback" not in result.output


def test_check_accepts_the_flagship():
    result = CliRunner().invoke(main, ["check", str(FLAGSHIP)])
    assert result.exit_code == 0 and "ok" in result.output
