"""The validation harness: reference readers, the funnel and statistics judges (they can
fail), case discovery, ``twin validate``; and the fast subset of the cases themselves.

The fast cases run here (CI); ``twin validate`` runs them all. A case whose reference data
is absent is skipped with the harness's message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from twin.cli import main
from twin.validation import case as vc
from twin.validation.compare import funnel, funnel_errors, statistics
from twin.validation.reference import (
    MissingReference,
    load_combitimetable,
    load_dymola,
    reference_dir,
    reference_file,
)

CASES = vc.discover()


# ------------------------------------------------------------------ readers
def test_dymola_reader_expands_constants_and_names_missing_variables(tmp_path):
    f = tmp_path / "ref.txt"
    f.write_text("last-generated=2024-08-09\nstatistics-simulation=\n{\n \"linear\": \" \"\n}\n"
                 "time=[0e+00, 2e+00]\nT.T=[1, 2, 3]\np.k=[5, 5]\n")
    r = load_dymola(f)
    np.testing.assert_array_equal(r.time, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(r["T.T"], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(r["p.k"], [5.0, 5.0, 5.0])  # a parameter, stored as 2 values
    with pytest.raises(KeyError, match="T.T, p.k"):
        r["nope"]
    f.write_text("x=[1, 2]\n")
    with pytest.raises(ValueError, match="time"):
        load_dymola(f)


def test_combitimetable_reader(tmp_path):
    f = tmp_path / "tab.mos"
    f.write_text("#1\n# comment\ndouble tab1(3, 2)\n0, 1\n10 2\n20\t3 # trailing\n"
                 "double other(1,3)\n0 1 2\n")
    t = load_combitimetable(f)
    np.testing.assert_array_equal(t["tab1"], [[0, 1], [10, 2], [20, 3]])
    assert t["other"].shape == (1, 3)
    f.write_text("#1\ndouble tab1(3, 2)\n0 1\n")
    with pytest.raises(ValueError, match="3x2"):
        load_combitimetable(f)


def test_missing_reference_is_a_skip_not_a_failure(monkeypatch, tmp_path):
    monkeypatch.setenv("TWIN_REFERENCE_DATA", str(tmp_path))
    assert reference_dir() == tmp_path
    with pytest.raises(MissingReference, match="nothing.txt not found"):
        reference_file("nothing.txt")

    def run():
        reference_file("modelica-buildings/x.txt")

    result = vc.run_case(vc.Case("X", "needs data", "nowhere", run))
    assert result.status == "skip" and "reference data missing" in result.message


def test_real_reference_files_parse():
    if reference_dir() is None:
        pytest.skip("no reference data folder (../shared/data/reference or $TWIN_REFERENCE_DATA)")
    r = load_dymola(reference_file(
        "modelica-buildings/reference_results/Buildings_Fluid_HeatExchangers_Validation_ConstantEffectiveness.txt"))
    assert r.time.size == 101 and r.time[-1] == 360.0 and r["T_a1.T"].size == 101
    tab = load_combitimetable(reference_file("modelica-buildings/measured/IceStorageNIST/discharging1.txt"))
    assert tab["tab"].shape == (2000, 5)


# ------------------------------------------------------------------ judges
def test_funnel_passes_the_reference_and_fails_a_perturbed_one():
    """The harness can fail: the same twin signal against a reference perturbed by more
    than the tolerance at one sample fails, and by less passes."""
    t = np.linspace(0.0, 100.0, 201)
    y = 300.0 + 10.0 * np.sin(t / 10.0)
    t_ref = np.linspace(0.0, 100.0, 101)
    y_ref = 300.0 + 10.0 * np.sin(t_ref / 10.0)
    ok = funnel("T", t_ref, y_ref, t, y, atol=0.05, unit="K")
    assert ok.passed and ok.error < 2e-3  # linear interpolation between twin samples
    bad = y_ref.copy()
    bad[40] += 0.06
    c = funnel("T", t_ref, bad, t, y, atol=0.05, unit="K")
    assert not c.passed and c.error == pytest.approx(0.06, abs=2e-3)
    bad[40] -= 0.02
    assert funnel("T", t_ref, bad, t, y, atol=0.05, unit="K").passed
    # rtol is relative to the largest |y_ref|: 1e-4 x 310 = 0.031 K
    assert not funnel("T", t_ref, bad + 0.04, t, y, atol=0.0, rtol=1e-4, unit="K").passed
    assert funnel("T", t_ref, bad + 0.0, t, y, atol=0.0, rtol=1.5e-4, unit="K").passed


def test_funnel_time_tolerance_accepts_a_shifted_front_only_within_dt():
    t = np.linspace(0.0, 1000.0, 2001)
    y = np.where(t < 365.0, 50.0, 70.0)  # the twin's front 5 s late
    t_ref = np.linspace(0.0, 1000.0, 101)
    y_ref = np.where(t_ref < 360.0, 50.0, 70.0)
    assert not funnel("T", t_ref, y_ref, t, y, atol=0.1).passed
    assert funnel("T", t_ref, y_ref, t, y, atol=0.1, dt=10.0).passed
    assert not funnel("T", t_ref, y_ref, t, y, atol=0.1, dt=4.0).passed
    e = funnel_errors(t_ref, y_ref, t, y, dt=10.0)
    assert e.max() == 0.0


def test_funnel_mask_and_span():
    t = np.linspace(0.0, 10.0, 11)
    y = np.zeros_like(t)
    y_ref = np.zeros_like(t)
    y_ref[0] = 5.0
    assert not funnel("x", t, y_ref, t, y, atol=1.0).passed
    assert funnel("x", t, y_ref, t, y, atol=1.0, mask=t > 0.5).passed  # e.g. zero-flow samples
    with pytest.raises(ValueError, match="no reference sample"):
        funnel("x", t + 100.0, y_ref, t, y, atol=1.0)


def test_statistics_rmse_and_bias():
    t = np.linspace(0.0, 10.0, 101)
    meas = np.full_like(t, 20.0)
    rmse, bias = statistics("T", t, meas, t, meas + 0.5, rmse_max=0.8, bias_max=0.3, unit="K")
    assert rmse.passed and rmse.error == pytest.approx(0.5) and not bias.passed
    meas_gappy = meas.copy()
    meas_gappy[::2] = np.nan  # gaps in measured data are not judged
    (r,) = statistics("T", t, meas_gappy, t, meas + 0.1, rmse_max=0.2, unit="K")
    assert r.passed and r.error == pytest.approx(0.1)


def test_a_broken_case_is_an_error_and_an_empty_one_fails():
    def broken():
        raise RuntimeError("solver diverged")

    r = vc.run_case(vc.Case("B", "broken", "-", broken))
    assert r.status == "error" and "solver diverged" in r.message
    assert vc.run_case(vc.Case("E", "empty", "-", list)).status == "fail"


# ------------------------------------------------------------------ discovery and CLI
def test_every_case_has_a_readme_citing_its_source_and_tolerances():
    assert "LUMP" in CASES
    for case, folder in CASES.values():
        readme = (folder / "README.md").read_text()
        assert case.id in readme and "tolerance" in readme.lower(), folder
        assert case.components, f"{case.id} names no component it exercises"


def test_cli_lists_runs_and_reports(tmp_path):
    runner = CliRunner()
    listed = runner.invoke(main, ["validate", "--list"])
    assert listed.exit_code == 0 and "LUMP" in listed.output
    result = runner.invoke(main, ["validate", "lump", "--report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "pass" in result.output and (tmp_path / "validation.html").is_file()
    page = (tmp_path / "validation.html").read_text()
    assert "oven.T_moulds" in page and "data:image/png;base64," in page
    unknown = runner.invoke(main, ["validate", "NOPE"])
    assert unknown.exit_code == 2 and "no validation case 'NOPE'" in unknown.output


def test_cli_exit_1_when_a_case_fails(monkeypatch):
    def failing():
        return [funnel("x", [0.0, 1.0], [0.0, 0.0], [0.0, 1.0], [1.0, 1.0], atol=0.1)]

    fake = {"F": (vc.Case("F", "fails", "-", failing, components=("x",)), Path("."))}
    monkeypatch.setattr(vc, "discover", lambda root=None: fake)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1 and "FAIL" in result.output and "failed: F" in result.output


# ------------------------------------------------------------------ the fast cases (CI subset)
@pytest.mark.parametrize("case_id", sorted(k for k, (c, _) in CASES.items() if c.fast))
def test_fast_validation_case_passes(case_id):
    case, folder = CASES[case_id]
    result = vc.run_case(case, folder)
    if result.status == "skip":
        pytest.skip(result.message)
    detail = "; ".join(f"{c.signal}: {c.kind} {c.error:.3g} > {c.tolerance:.3g} {c.unit}"
                       for c in result.comparisons if not c.passed)
    assert result.status == "pass", f"{case_id}: {result.message or detail}"


def test_every_component_is_exercised_by_a_validation_case():
    """Every component class twin builds from a scenario appears in at least one case
    (aliases such as ``recuperator`` share their class with ``counterflow_exchanger``)."""
    from twin.scenario.build import _component_classes

    covered = {t for case, _ in CASES.values() for t in case.components}
    by_class: dict[type, set[str]] = {}
    for name, cls in _component_classes().items():
        by_class.setdefault(cls, set()).add(name)
    missing = sorted(min(names) for names in by_class.values() if not names & covered)
    assert not missing, f"components without a validation case: {', '.join(missing)}"
