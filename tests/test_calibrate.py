"""``twin calibrate`` on the synthetic plant log (data/plant_logs/synthetic): a known-truth
boiler, logged with noise, a sensor bias, dropouts, repeated and late rows and a slow clock
(make_synthetic.py). Started 9 % to 67 % off, the fit must recover the true parameters within
its reported 2-sigma intervals, the sensor bias too, with a reduced chi-square near 1 (the log's
sigmas are the noise that was added).

Compile cost: the whole Levenberg-Marquardt fit is one compiled program around a one-state
plant (the CLI test reuses it: same structure, same log shape).
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
            *sum((["--set", s] for s in START), []), *sum((["--fit", f] for f in FITS), []),
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
