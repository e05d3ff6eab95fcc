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
        if var.dtype.kind in "OUS":  # labels (component, connection, pinch phase): text, no units
            assert name == "component" or "long_name" in var.attrs, name
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
    assert 1700.0 < T_load.min() and T_load.max() < 1740.0  # set points 1723 / 1703 K; start-up overshoot
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
    small = run_scenario(load_scenario(FLAGSHIP, ['oil_heater.UA=200 W/K']))
    big = run_scenario(load_scenario(FLAGSHIP, ['oil_heater.UA=450 W/K']))
    # same structure as the session's flagship run: no new compilation for a new value
    assert solve.COMPILE_COUNT - n0 <= 1
    assert float(load_scenario(FLAGSHIP, ['oil_heater.UA=200 W/K']).plant.components["oil_heater"].UA) == 200.0
    assert float(base.plant.components["oil_heater"].UA) == 450.0
    oil = [r.audit.tallies["oil_heater"]["heat_recovered"] for r in (small, big)]
    assert oil[1] > oil[0] * 1.3
    # more cullet, less fuel for the same melt (the PI controller holds the melt temperature)
    less = run_scenario(load_scenario(FLAGSHIP, ['furnace.load.cullet_share=0.8']))
    assert less.kpis["fuel_energy"] < big.kpis["fuel_energy"]  # big: the file's 450 W/K, 50 % cullet
    assert less.kpis["circularity"] == pytest.approx(0.8)
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


def test_flagship_kpis_and_second_law_in_the_results(flagship_run):
    result, out = flagship_run
    for text in ("exergy destroyed", "recapture rate", "carbon intensity", "exergy efficiency"):
        assert text in result.output
    ds = xr.open_dataset(out, engine="h5netcdf")
    k = {name[4:]: float(ds[name]) for name in ds.variables if name.startswith("kpi.")}
    assert ds["kpi.carbon_intensity"].attrs["units"] == "kg/EUR"
    # waste heat = flue gas enthalpy above the dead state, from the saved signals (5-min
    # samples: trapezoid agrees to the sampling error)
    from twin.thermo import combustion, nasa

    T0 = ds.attrs["dead_state_temperature_K"]
    Y = np.asarray(combustion.flue_gas(combustion.FUELS["natural_gas"], 0.10).Y_flue)
    m, T = ds["furnace.exhaust.m_flow"].values, ds["furnace.exhaust.T"].values
    q = m * (np.asarray(nasa.h_mix(T, Y)) - float(nasa.h_mix(T0, Y)))
    assert k["waste_heat_available"] == pytest.approx(np.trapezoid(q, ds["time"].values), rel=2e-3)
    assert k["waste_heat_recovered_share"] == pytest.approx(k["heat_recovered"] / k["waste_heat_available"], rel=1e-12)
    assert 0 < k["recapture_rate"] < k["waste_heat_recovered_share"] < 1  # some is lost on the way
    # money and carbon: glass at 420 EUR/t; gas at 0.045 EUR/kWh plus 0.16 EUR/kWh for the pump
    product = float(ds["audit.furnace.product_mass"][-1])
    good, scrap = float(ds["audit.furnace.good_mass"][-1]), float(ds["audit.furnace.scrap_mass"][-1])
    assert good == pytest.approx(0.9 * product, rel=1e-12) and good + scrap == pytest.approx(product, rel=1e-12)
    assert k["material_yield"] == pytest.approx(0.9, rel=1e-12)
    assert k["output_value"] == pytest.approx(0.42 * good, rel=1e-12)  # good ware is sold, scrap remelted
    assert k["specific_energy"] == pytest.approx((k["fuel_energy"] + k["electricity"]) / good, rel=1e-12)
    assert 4e6 < k["specific_energy"] < 12e6  # 4-12 GJ/t: container-glass furnaces (BREF Glass 2013, 3.2.2)
    assert k["energy_cost"] == pytest.approx((0.045 * k["fuel_energy"] + 0.16 * k["electricity"]) / 3.6e6, rel=1e-6)
    assert k["co2_grid"] == pytest.approx(0.38 * k["electricity"] / 3.6e6, rel=1e-6)
    assert k["carbon_intensity"] == pytest.approx(k["co2_mass"] / k["output_value"], rel=1e-12)
    # second law: every component destroys exergy, the plant's is their sum, and the
    # fuel's exergy is its LHV times Szargut's factor
    xd = ds["audit.exergy.destruction"].values
    assert np.all(xd >= -1e-4 * ds["audit.exergy.throughput"].values)
    assert float(ds["audit.plant.exergy.destruction"]) == pytest.approx(xd.sum(), rel=1e-9)
    phi = combustion.exergy_factor(combustion.FUELS["natural_gas"])
    assert float(ds["audit.furnace.fuel_exergy"][-1]) == pytest.approx(phi * k["fuel_energy"], rel=1e-12)
    assert 0.05 < k["exergy_efficiency"] < 0.5 and ds.attrs["second_law_violations"] == ""


def test_air_preheat_and_cullet(flagship_run):
    _, out = flagship_run
    ds = xr.open_dataset(out, engine="h5netcdf")
    T_amb = 288.15
    # the recuperator preheats the combustion air by hundreds of kelvin, and what the air
    # gained is what the flue gas gave up there (quasi-steady sides, wall storage aside)
    assert float(ds["furnace.T_air"].mean()) > T_amb + 300.0
    assert float(ds["recuperator.cold_out.T"][-1]) == pytest.approx(float(ds["furnace.T_air"][-1]), abs=1e-9)
    # half of the charge is cullet: circularity 0.5; batch CO2 0.19 kg/kg on the other half
    charged = float(ds["audit.furnace.charge_mass"][-1])
    assert float(ds["audit.furnace.recycled_mass"][-1]) == pytest.approx(0.5 * charged, rel=1e-12)
    assert float(ds["kpi.circularity"]) == pytest.approx(0.5, rel=1e-12)
    # cullet enters already transformed: it brings the card's transformation enthalpy L
    from twin.thermo.pcm import load_material

    glass = load_material("soda_lime_glass")
    h_amb, L = float(glass.h(T_amb)), float(glass.latent_heat)
    assert float(ds["audit.furnace.charge_in"][-1]) == pytest.approx(charged * (h_amb + 0.5 * L), rel=1e-9)
    from twin.thermo import combustion

    ng = combustion.FUELS["natural_gas"]
    co2_fuel = float(ds["audit.furnace.fuel_mass"][-1]) * float(combustion.flue_gas(ng, 0.10).co2_per_kg_fuel)
    assert float(ds["audit.furnace.co2"][-1]) == pytest.approx(co2_fuel + 0.19 * 0.5 * charged, rel=1e-9)


def test_compare_baseline_and_recovery(flagship_run, tmp_path):
    _, out = flagship_run
    base = tmp_path / "baseline.nc"
    run = CliRunner().invoke(main, ["run", str(ROOT / "scenarios" / "glass_furnace_mould_preheat_baseline.yaml"),
                                    "-o", str(base)])
    assert run.exit_code == 0, run.output
    result = CliRunner().invoke(main, ["compare", str(base), str(out)])
    assert result.exit_code == 0, result.output
    rows = {ln.split("│")[1].strip(): [c.strip() for c in ln.split("│")[2:5]]
            for ln in result.output.splitlines() if ln.count("│") >= 4}
    for label in ("fuel (LHV)", "recapture rate", "carbon intensity", "material circularity", "exergy efficiency"):
        assert label in rows, result.output
    assert rows["recapture rate"][0] == "0 %" and rows["material circularity"][:2] == ["20 %", "50 %"]
    # recovery and recycling cut fuel and raise the exergy efficiency
    b, a = xr.open_dataset(base, engine="h5netcdf"), xr.open_dataset(out, engine="h5netcdf")
    assert float(a["kpi.fuel_energy"]) < 0.7 * float(b["kpi.fuel_energy"])
    assert float(a["kpi.exergy_efficiency"]) > float(b["kpi.exergy_efficiency"])
    assert float(a["kpi.carbon_intensity"]) < float(b["kpi.carbon_intensity"])
    bad = CliRunner().invoke(main, ["compare", str(base), str(tmp_path / "missing.nc")])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_flagship_pinch_targets(flagship_run):
    """The pinch block: slices cut where the pull changes, the moulds' scheduled CP, the
    plant's recovered heat split over the slices, and the KPIs in file and summary."""
    result, out = flagship_run
    assert "pinch target" in result.output and "pull = 0.7" in result.output
    ds = xr.open_dataset(out, engine="h5netcdf")
    assert list(ds["pinch.slice_start"].values / 3600) == [0, 16, 24, 40, 48, 64]
    assert list(ds["pinch.phase"].values) == ["pull = 1", "pull = 0.7"] * 3
    streams = list(ds["pinch_stream"].values)
    assert list(ds["pinch.kind"].values) == ["cold" if s != "flue" else "hot" for s in streams]
    cp = ds["pinch.CP"].sel(pinch_stream="moulds").values
    np.testing.assert_allclose(cp, [1150.0, 690.0] * 3, rtol=1e-12)  # 1.15 kW/K x mould_shifts
    air = ds["pinch.T_supply"].sel(pinch_stream="combustion_air").values
    np.testing.assert_allclose(air, 288.15, rtol=1e-9)  # fan air at ambient
    k = {name[4:]: float(ds[name]) for name in ds.variables if name.startswith("kpi.")}
    assert float(ds["pinch.recovered"].sum()) == pytest.approx(k["waste_heat_recovered"], rel=1e-9)
    assert k["heat_recovery_target"] == pytest.approx(float(ds["pinch.Q_rec_max"].sum()), rel=1e-12)
    # storage can only add to direct recovery; the simulated plant recovers most of it
    assert k["heat_recovery_target_storage"] >= k["heat_recovery_target"] * (1 - 1e-12)
    assert k["heat_recovery_attainment"] == pytest.approx(
        k["waste_heat_recovered"] / k["heat_recovery_target_storage"], rel=1e-12)
    assert 0.5 < k["heat_recovery_attainment"] < 1.0
    # composite curves of the run means: the cold curve is the air plus the moulds
    Hc = ds["pinch.cold_composite_H"].values
    assert Hc[-1] - Hc[0] == pytest.approx(sum(
        float((ds["pinch.CP"].sel(pinch_stream=s) * (ds["pinch.slice_end"] - ds["pinch.slice_start"])).sum())
        / 72 / 3600 * (float(ds["pinch.T_target"].sel(pinch_stream=s)) - 288.15)
        for s in ("combustion_air", "moulds")), rel=1e-9)


@pytest.mark.parametrize("override, fragment", [
    ("pinch.streams.flue.connection=furnace.nope", "pinch.streams.flue.connection"),
    ("pinch.streams.moulds.connection=furnace.exhaust", "either 'connection' or 'supply'"),
    ("pinch.phases=shifts", "no schedule named 'shifts'"),
    ("pinch.dT_min=-5 K", "pinch.dT_min"),
    ("pinch.streams.moulds.target=15 degC", "'target' must differ from 'supply'"),
])
def test_pinch_block_errors_name_the_field(override, fragment):
    result = CliRunner().invoke(main, ["check", str(FLAGSHIP), "--set", override])
    assert result.exit_code == 2 and fragment in result.output, result.output
    assert "Traceback" not in result.output


def test_flagship_report_has_the_pinch_figure(flagship_run, tmp_path):
    """The report of a run with a pinch block shows the composite curves and the slices."""
    _, out = flagship_run
    result = CliRunner().invoke(main, ["report", str(out), "-o", str(tmp_path), "--png"])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report.html").read_text()
    assert "Heat-integration target" in page and "energy-sankey" in page
    assert (tmp_path / "pinch.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
