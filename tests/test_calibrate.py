"""``twin calibrate`` on the synthetic plant log (data/plant_logs/synthetic): a known-truth
boiler, logged with noise, a sensor bias, dropouts, repeated and late rows and a slow clock
(make_synthetic.py). Started 9 % to 67 % off, the fit must recover the true parameters within
its reported 2-sigma intervals, the sensor bias too, with a reduced chi-square near 1 (the log's
sigmas are the noise that was added).

Several experiments (below): one parameter set fitted to two experiments of a one-state
boiler that each leave it unidentified, a third predicted; the CLI's pairing of scenarios and
logs, and its refusals.

Compile cost: the whole Levenberg-Marquardt fit is one compiled program around a one-state
plant (the CLI test reuses it: same structure, same log shape); the several-experiment tests
share a second one (30-40 s cold on a shared 2-core machine; the first about as much).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from twin.calibrate import calibrate, parse_fit
from twin.cli import main
from twin.logs import read_log
from twin.results import signal_units
from twin.scenario.build import load_scenario
from twin.scenario.errors import ScenarioError

CASE = Path(__file__).resolve().parents[1] / "data" / "plant_logs" / "synthetic"
START = ["boiler.nominal_power=250 kW", "boiler.envelope_UA=300 W/K", "boiler.water_volume=2.5 m^3"]
FITS = ["boiler.nominal_power=100..400 kW", "boiler.envelope_UA=10..3000 W/K", "boiler.water_volume=0.3..6 m^3"]


@pytest.fixture(scope="module")
def truth():
    return json.loads((CASE / "truth.json").read_text())


@pytest.fixture(scope="module")
def fitted():
    sc = load_scenario(CASE / "truth.yaml", START)
    log = read_log(CASE / "log.csv", CASE / "map.yaml", model_units=signal_units(sc.plant))
    return calibrate(sc, log, [parse_fit(f) for f in FITS])


def test_recovers_the_truth_within_two_sigma(fitted, truth):
    assert fitted.success, fitted.message
    for path, value, se, unit in zip(fitted.paths, fitted.value, fitted.standard_error, fitted.units):
        t = truth["parameters"][path]
        want = {"kW": t["value"] / 1e3}.get(unit, t["value"])  # truth.json is SI; values are as written
        print(f"{path}: {value:.6g} ± {se:.3g} {unit} (truth {want:g})")
        assert 0 < se < 0.02 * abs(want), se  # informative: well under 2 % of the value
        assert abs(value - want) <= 2 * se, (path, value, want, se)
    assert 0.8 < fitted.chi2_reduced < 1.25, fitted.chi2_reduced


def test_sensor_bias_is_fitted(fitted, truth):
    (ti,) = [s for s in fitted.signals if s.tag == "TI_101"]
    true_bias = truth["tags"]["TI_101"]["bias_si"]
    assert abs(ti.bias - true_bias) <= 2 * ti.bias_se, (ti.bias, ti.bias_se)
    assert fitted.names[-1] == "TI_101.bias"


def test_guideline_14_statistics(fitted):
    for s in fitted.signals:
        assert abs(s.nmbe) < 0.5 and s.cv_rmse < 5.0, s.tag  # ASHRAE G14: |NMBE| <= 10 %, CV(RMSE) <= 30 %
        assert s.rmse <= s.rmse_before * (1 + 1e-9), s.tag  # the fit never makes a tag worse
    (boiler,) = [s for s in fitted.signals if s.tag == "TI_301"]
    assert boiler.rmse < 0.1 * boiler.rmse_before  # the start was 5 K off; the fit is at the noise (0.3 K)
    assert boiler.rmse == pytest.approx(0.3, rel=0.1)


def test_cli_writes_the_calibrated_scenario_and_plot(fitted, tmp_path):
    out, png = tmp_path / "calibrated.yaml", tmp_path / "fit.png"
    args = ["calibrate", str(CASE / "truth.yaml"), "--log", str(CASE / "log.csv"), "--map", str(CASE / "map.yaml"),
            *(a for s in START for a in ("--set", s)), *(a for f in FITS for a in ("--fit", f)),
            "-o", str(out), "--plot", str(png)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "TI_101.bias" in res.output and "NMBE" in res.output and "correlations" in res.output
    cal = load_scenario(out)
    ref = cal.parameters["boiler.envelope_UA"]  # where the scenario path lives in the plant
    assert float(getattr(cal.plant.components["boiler"], ref.field)) == pytest.approx(fitted.value[1], rel=1e-9)
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("fit, words", [
    ("boiler.envelope_UA=10..3000 kW", "bounds in the unit the scenario uses"),
    ("boiler.envelope_UA=10..200 W/K", "a start inside the bounds"),
    ("boiler.envelop_UA", "did you mean boiler.envelope_UA"),
])
def test_bad_fit_is_named(fit, words):
    sc = load_scenario(CASE / "truth.yaml", START)
    log = read_log(CASE / "log.csv", CASE / "map.yaml", model_units=signal_units(sc.plant))
    with pytest.raises(ScenarioError) as exc:
        calibrate(sc, log, [parse_fit(fit)])
    assert words in str(exc.value), str(exc.value)


def test_cli_bad_log_exits_2(tmp_path):
    bad = tmp_path / "log.csv"
    bad.write_text((CASE / "log.csv").read_text().replace("2026-03-02T06:0", "2026-13-02T06:0", 1))
    res = CliRunner().invoke(main, ["calibrate", str(CASE / "truth.yaml"), "--log", str(bad), "--map",
                                    str(CASE / "map.yaml"), "--fit", "boiler.envelope_UA"])
    assert res.exit_code == 2 and "log.csv:" in res.output and "Traceback" not in res.output, res.output


# ---------------------------------------------------------------- several experiments
# A one-state boiler (feed 0.2 kg/s of water at 40 degC, envelope to 15 degC) in three
# experiments that differ only in the burner's firing and the initial temperature, each logged
# at its true steady state T = (m cp T_in + y P + UA T_amb) / (m cp + UA) with noise:
#   A, firing 0: T depends on envelope_UA alone; nothing about nominal_power (its column is 0);
#   B, firing 0.6: one number for two parameters (the responses to P and UA are proportional);
#   C, firing 0.3: not fitted, predicted (validation).
# Neither A nor B identifies (nominal_power, envelope_UA); the pair does. One compiled program
# (two fitted experiments, one validated), shared by the API and CLI tests.
TRUE_P, TRUE_UA, M_CP, T_IN, T_AMB = 50e3, 600.0, 0.2 * 4184.0, 313.15, 288.15
FIRING = {"a": 0.0, "b": 0.6, "c": 0.3}
SIGMA = 0.05  # [K]
PAIR_FITS = ["boiler.nominal_power=10..200 kW", "boiler.envelope_UA=50..3000 W/K"]
EXPERIMENT = """\
schema_version: 1
name: boiler_{name}
duration: 1 h
output_interval: 5 min
ambient: {{temperature: 15 degC}}
solver: {{method: tsit5, rtol: 1.0e-9, atol: 1.0e-9}}
components:
  feed: {{type: source, fluid: water, mass_flow: 0.2 kg/s, temperature: 40 degC}}
  boiler: {{type: heater, fluid: water, nominal_power: 40 kW, firing: {firing}, dynamics: dynamic,
           envelope_UA: 400 W/K, water_volume: 0.05 m^3, initial_temperature: {T0!r} K}}
  process: {{type: stack}}
connections:
  - [feed.outlet, boiler.inlet]
  - [boiler.outlet, process.inlet]
"""
PAIR_MAP = """\
start: 2026-03-02T06:00:00+01:00
time_column: timestamp
signals:
  TI_301: {signal: boiler.T, unit: degC, sigma: 0.05 K}
"""


@pytest.fixture(scope="module")
def pair_files(tmp_path_factory):
    """Scenario and log of experiments a, b, c (start: 40 kW, 400 W/K) and their map."""
    d = tmp_path_factory.mktemp("pair")
    rng = np.random.default_rng(20260302)
    (d / "map.yaml").write_text(PAIR_MAP)
    for name, y in FIRING.items():
        T = (M_CP * T_IN + y * TRUE_P + TRUE_UA * T_AMB) / (M_CP + TRUE_UA)
        (d / f"{name}.yaml").write_text(EXPERIMENT.format(name=name, firing=y, T0=T))
        rows = [f"2026-03-02T06:{m:02d}:00+01:00,{T - 273.15 + SIGMA * rng.standard_normal():.4f}" for m in range(60)]
        (d / f"{name}.csv").write_text("timestamp,TI_301\n" + "\n".join(rows) + "\n")
    return d


def _experiment(d, name):
    from twin.calibrate import Experiment

    sc = load_scenario(d / f"{name}.yaml")
    return Experiment(sc, read_log(d / f"{name}.csv", d / "map.yaml", model_units=signal_units(sc.plant)))


@pytest.fixture(scope="module")
def pair_fit(pair_files):
    from twin.calibrate import calibrate_experiments

    a, b, c = (_experiment(pair_files, n) for n in "abc")
    return calibrate_experiments([a, b], [parse_fit(f) for f in PAIR_FITS], validate=[c])


def test_two_experiments_identify_what_neither_does_alone(pair_fit):
    cal = pair_fit
    assert cal.success, cal.message
    assert cal.experiments == ["a", "b"] and cal.validated == ["c"] and cal.n == 120
    for value, se, want in zip(cal.value, cal.standard_error, (TRUE_P / 1e3, TRUE_UA)):
        assert 0 < se < 0.02 * want and abs(value - want) <= 2 * se, (value, se, want)
    assert 0.7 < cal.chi2_reduced < 1.4, cal.chi2_reduced  # the residuals are the noise
    info_a, info_b = cal.information["a"], cal.information["b"]
    assert info_a[0, 0] == 0 and info_a[1, 1] > 0  # firing 0: nothing about the burner
    corr_b = info_b[0, 1] / np.sqrt(info_b[0, 0] * info_b[1, 1])
    assert abs(corr_b) > 1 - 1e-6, corr_b  # B alone: the two columns are proportional
    assert abs(cal.correlation[0, 1]) < 0.99  # together: identified


def test_validation_experiment_is_predicted_at_the_fitted_parameters(pair_fit):
    c = pair_fit.signal("TI_301", "c")
    assert c.role == "validation" and c.n == 60
    assert c.rmse == pytest.approx(SIGMA, rel=0.3) and c.rmse_before > 20 * c.rmse
    assert abs(c.nmbe) < 0.05 and [s.role for s in pair_fit.signals] == ["fit", "fit", "validation"]


def test_cli_fits_several_experiments_and_validates(pair_files, pair_fit, tmp_path):
    d = pair_files
    args = ["calibrate", str(d / "a.yaml"), str(d / "b.yaml"), "--log", str(d / "a.csv"), "--log", str(d / "b.csv"),
            "--map", str(d / "map.yaml"), "--validate", str(d / "c.yaml"), "--validate-log", str(d / "c.csv"),
            *(a for f in PAIR_FITS for a in ("--fit", f)), "-o", str(tmp_path / "out")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "calibrated on 120 samples" in out and "predictions, p = 0" in out, res.output
    for name in "abc":  # every scenario, calibrated, under its own name
        sc = load_scenario(tmp_path / "out" / f"{name}.yaml")
        assert float(sc.plant.components["boiler"].UA_loss) == pytest.approx(pair_fit.value[1], rel=1e-9)


@pytest.mark.parametrize("extra, words", [
    (["--log", "b.csv"], "3 SCENARIO and 2 --log: give one --log per SCENARIO"),
    (["--log", "b.csv", "--log", "c.csv", "--validate", "c.yaml"], "1 --validate and 0 --validate-log"),
    (["--log", "b.csv", "--log", "c.csv", "--map", "map.yaml"], "2 --map for 3 logs"),
])
def test_cli_pairing_mistakes_exit_2(pair_files, extra, words):
    args = ["calibrate", "a.yaml", "b.yaml", "c.yaml", "--log", "a.csv", "--map", "map.yaml",
            "--fit", "boiler.envelope_UA", *extra]
    res = CliRunner().invoke(main, [a if a.startswith("-") or "." not in a or "=" in a else str(pair_files / a)
                                    for a in args])
    assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output, res.output


def test_cli_other_plant_structure_exits_2(pair_files, tmp_path):
    d = pair_files  # the burner of "stepped" follows a schedule of 2 values, a's of 1 (a constant)
    stepped = (d / "a.yaml").read_text().replace("firing: 0.0,", "firing: {kind: step, times: [0 h, 0.5 h], "
                                                 "values: [0.0, 0.2]},")
    (tmp_path / "stepped.yaml").write_text(stepped)
    res = CliRunner().invoke(main, ["calibrate", str(d / "a.yaml"), str(tmp_path / "stepped.yaml"), "--log",
                                    str(d / "a.csv"), "--log", str(d / "a.csv"), "--map", str(d / "map.yaml"),
                                    "--fit", "boiler.envelope_UA"])
    out = " ".join(res.output.split())
    assert res.exit_code == 2 and "the plant structure of a" in out, res.output
    assert "boiler" in out and "shape (2,)" in out and "Traceback" not in out, res.output


def test_different_starts_are_refused(pair_files):
    from twin.calibrate import Experiment, calibrate_experiments

    a, b = _experiment(pair_files, "a"), _experiment(pair_files, "b")
    b = Experiment(load_scenario(pair_files / "b.yaml", ["boiler.envelope_UA=500 W/K"]), b.log)
    with pytest.raises(ScenarioError) as exc:
        calibrate_experiments([a, b], [parse_fit("boiler.envelope_UA")])
    assert "the same start as a, 400 W/K" in str(exc.value) and "--set" in str(exc.value), str(exc.value)
