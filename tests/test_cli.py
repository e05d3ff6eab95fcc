"""The command line's contract: exit codes, error lines without tracebacks, partial results.

``twin check`` compiles nothing, so the bad-input cases are cheap. One small plant is run to
show that a solver failure is reported with the time reached and its partial results kept.
"""

from __future__ import annotations

import textwrap

import pytest
import xarray as xr
from click.testing import CliRunner

from twin.cli import main

SMALL = textwrap.dedent("""\
    name: small
    duration: 2 h
    output_interval: 1 min
    solver: {method: tsit5, rtol: 1.0e-8, atol: 1.0e-8, max_steps: 100000}
    components:
      supply: {type: source, fluid: water, mass_flow: 2 kg/s, temperature: 80 degC}
      user: {type: heat_demand, fluid: water, demand: 50 kW, fluid_holdup: 100 kg, min_temperature: 40 degC, initial_temperature: 60 degC}
      drain: {type: stack}
    connections:
      - [supply.outlet, user.supply]
      - [user.return, drain.inlet]
    """)

# (replace this, with that) -> the field path the message must name
BAD = {
    "bare number": (("mass_flow: 2 kg/s", "mass_flow: 2"), "components.supply.mass_flow"),
    "wrong dimension": (("fluid_holdup: 100 kg", "fluid_holdup: 100 kW"), "components.user.fluid_holdup"),
    "unknown unit": (("demand: 50 kW", "demand: 50 kw"), "components.user.demand"),
    "below absolute zero": (("temperature: 80 degC", "temperature: -300 degC"), "components.supply.temperature"),
    "negative mass": (("fluid_holdup: 100 kg", "fluid_holdup: -100 kg"), "components.user.fluid_holdup"),
    "typo key": (("min_temperature", "min_temprature"), "components.user.min_temprature"),
    "unknown type": (("type: heat_demand", "type: heat_demnd"), "components.user.type"),
    "dangling port": (("  - [user.return, drain.inlet]\n", ""), "user.return"),
    "unknown fluid": (("fluid: water, mass_flow", "fluid: brine, mass_flow"), "components.supply.fluid"),
    "schema version": (("name: small", "schema_version: 2\nname: small"), "schema_version"),
    "duplicate key": (("name: small", "name: small\nname: other"), "name"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exit_2_with_field_path(tmp_path, case):
    (old, new), path = BAD[case]
    assert SMALL.count(old) == 1
    f = tmp_path / "bad.yaml"
    f.write_text(SMALL.replace(old, new))
    out = tmp_path / "never.nc"
    result = CliRunner().invoke(main, ["run", str(f), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert path in result.output and "bad.yaml:" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()  # nothing is written for a bad input


def test_bad_override_exit_2(tmp_path):
    f = tmp_path / "ok.yaml"
    f.write_text(SMALL)
    result = CliRunner().invoke(main, ["check", str(f), "--set", "user.demand=50"])
    assert result.exit_code == 2 and "components.user.demand" in result.output


def test_missing_file_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "No such file" in result.output and "Traceback" not in result.output


def test_solver_failure_keeps_partial_results(tmp_path):
    """A step limit too small for a non-stiff plant (its steps are set by accuracy: step x
    fastest rate about 0.15): the message names the limit and the remedy, nothing is retried,
    and the trajectory up to the state where the solver stopped is written, balanced."""
    f = tmp_path / "short.yaml"
    f.write_text(SMALL.replace("max_steps: 100000", "max_steps: 40"))
    out = tmp_path / "partial.nc"
    result = CliRunner().invoke(main, ["run", str(f), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "solver stopped at t =" in result.output and "maximum of 40 steps (solver.max_steps)" in result.output
    assert "retried" not in result.output and "Traceback" not in result.output
    ds = xr.open_dataset(out, engine="h5netcdf")
    assert ds.attrs["solver_success"] == 0 and "solver.max_steps" in ds.attrs["solver_message"]
    assert ds.attrs["solver_method_used"] == "tsit5" and ds.attrs["solver_retry"] == ""
    t = ds["time"].values
    assert 0 < t[-1] < 7200.0  # what was computed up to the failure is kept,
    assert t[-1] == ds.attrs["solver_t_reached_s"] and t[-2] % 60.0 == 0.0 < t[-1] % 60.0  # to where it stopped
    assert float(ds["audit.plant.closure"]) < 1e-9  # and it is still balanced


def test_signal_checks_against_a_reference_file(tmp_path):
    """``checks: [{compare: ..., reference: ...}]``: the run's own trajectory as reference
    passes; the same reference perturbed by 1 K at one sample fails a 0.5 K tube (exit 1);
    an RMSE check; a wrong signal or tolerance unit is a scenario error (exit 2)."""
    import numpy as np

    first = tmp_path / "first.nc"
    f = tmp_path / "small.yaml"
    f.write_text(SMALL)
    assert CliRunner().invoke(main, ["run", str(f), "-o", str(first)]).exit_code == 0
    ds = xr.open_dataset(first, engine="h5netcdf")
    t, T = ds["time"].values[::6], ds["user.return.T"].values[::6]
    ds.close()
    np.savetxt(tmp_path / "ref.csv", np.c_[t, T], delimiter=",", header="time,T_return", comments="")
    T_bad = T.copy()
    T_bad[5] += 1.0
    np.savetxt(tmp_path / "bad.csv", np.c_[t, T_bad], delimiter=",", header="time,T_return", comments="")
    checks = ("checks:\n"
              "  - {compare: user.return.T, reference: ref.csv, tolerance: 0.01 K}\n"
              "  - {compare: user.return.T, reference: bad.csv, tolerance: 0.5 K, statistic: rmse}\n")
    f.write_text(SMALL + checks)
    ok = CliRunner().invoke(main, ["run", str(f), "-o", str(tmp_path / "ok.nc")])
    assert ok.exit_code == 0, ok.output
    assert ok.output.count("check pass") == 3  # two signal checks and the default closure
    f.write_text(SMALL + checks.replace("reference: ref.csv, tolerance: 0.01 K",
                                        "reference: bad.csv, tolerance: 0.5 K"))
    failed = CliRunner().invoke(main, ["run", str(f), "-o", str(tmp_path / "bad.nc")])
    assert failed.exit_code == 1 and "FAIL" in failed.output and "largest deviation 1 K" in failed.output
    assert xr.open_dataset(tmp_path / "bad.nc", engine="h5netcdf").attrs["checks_passed"] == 0
    for old, new, path in (("user.return.T, reference: ref.csv", "user.nope.T, reference: ref.csv",
                            "checks.0.compare"),
                           ("tolerance: 0.01 K", "tolerance: 0.01 kW", "checks.0.tolerance")):
        f.write_text(SMALL + checks.replace(old, new))
        bad = CliRunner().invoke(main, ["check", str(f)])
        assert bad.exit_code == 2 and path in bad.output and "Traceback" not in bad.output, bad.output
