"""Faults (issue 7): no fault loses a user's work, and each gets a clear answer.

* a run whose equations turn NaN stops with the time and the states named, and its results up
  to there are written and balanced;
* a stiff run of an explicit method is found stiff and solved again with the implicit
  method, and the results file and the terminal say so; without the retry the message
  says why it stopped;
* Ctrl-C while the results file is written lets the write finish, then exits 130; Ctrl-C while
  solving writes nothing; neither prints a traceback;
* a write that fails (a full disk) leaves no file, not even a partial one, at the final path
  (an older file there is untouched), says why and exits 2.

Every run is of the sweep tests' small plant (a source feeding a scheduled heat demand) with a
step limit of 1,000, so they share one Tsit5 compile, one Kvaerno5 compile and one compile of
the failure probe: a 100 kg hold-up needs 139 Tsit5 steps; a 1 kg hold-up (time constant
0.5 s) needs about 4,400 Tsit5 steps held at the stability limit, and 255 Kvaerno5 steps.
The step-limit failure of a non-stiff run is in tests/test_cli.py.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import signal

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from conftest import SWEEP_PLANT

from twin.cli import main
from twin.core.solve import simulate
from twin.scenario.build import load_scenario

PLANT = SWEEP_PLANT.replace("max_steps: 100000", "max_steps: 1000")
STIFF = PLANT.replace("fluid_holdup: 100 kg", "fluid_holdup: 1 kg")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("faults")
    out = {}
    for name, text in (("plant", PLANT), ("stiff", STIFF)):
        out[name] = d / f"{name}.yaml"
        out[name].write_text(text)
    return out


def _open(path):
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def _closure(ds) -> float:
    return float(ds["audit.plant.closure"])


def test_stiff_run_is_retried_with_the_implicit_method(files, tmp_path):
    out = tmp_path / "stiff.nc"
    res = CliRunner().invoke(main, ["run", str(files["stiff"]), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "solver retried:" in res.output and "stiff" in res.output and "kvaerno5" in res.output
    assert "kvaerno5 (retried; scenario: tsit5)" in res.output
    ds = _open(out)
    a = ds.attrs
    assert a["solver_success"] == 1 and a["solver_method"] == "tsit5" and a["solver_method_used"] == "kvaerno5"
    assert "tsit5 stopped at t = " in a["solver_retry"] and "stiff" in a["solver_retry"]
    assert a["solver_first_attempt_steps"] == 1000 and a["solver_num_steps"] < 1000
    assert float(ds["time"][-1]) == 7200.0 and _closure(ds) < 1e-9
    # the implicit run is right, not just finished: with a time constant of 0.5 s the cell is at
    # its steady state, where the stream gives up exactly the heat drawn, m (h_in - h) = Q, and
    # that is the demand (50 kW, 25 kW after 1 h; the fade towards the floor takes 1e-4 of it)
    fluid = load_scenario(files["stiff"]).plant.components["user"].fluid
    h_in = float(fluid.h(jnp.asarray(353.15)))
    at = ds.sel(time=[1800.0, 7200.0])
    np.testing.assert_allclose(2.0 * (h_in - at["user.h"].values), at["user.Q_flow"].values, rtol=1e-7)
    np.testing.assert_allclose(at["user.Q_flow"].values, [50e3, 25e3], rtol=3e-4)


def test_stiffness_is_named_when_the_retry_is_off(files):
    sc = load_scenario(files["stiff"])
    sol = simulate(sc.plant, sc.duration, sc.output_interval, sc.solver, retry_stiff=False)
    assert not sol.success and not sol.retry and sol.method == "tsit5"
    assert "stiff" in sol.message and "solver.method: kvaerno5" in sol.message
    # the partial trajectory ends where the solver stopped, after the last output time
    assert sol.ts[-1] == sol.t_reached and sol.ts[-2] < sol.t_reached < 7200.0
    assert sol.stats["num_steps"] == 1000


def _nan_after_one_hour(monkeypatch):
    """Load scenarios with the demand schedule's value after 1 h replaced by NaN (a valid
    file cannot hold one: this stands for a component model leaving its range)."""
    from twin.scenario import build

    real = build.load_scenario

    def load(*args, **kwargs):
        sc = real(*args, **kwargs)
        demand = sc.plant.components["user"].Q_demand
        plant = eqx.tree_at(lambda p: p.components["user"].Q_demand.values, sc.plant,
                            jnp.asarray(demand.values).at[1].set(jnp.nan))
        return dataclasses.replace(sc, plant=plant)

    monkeypatch.setattr(build, "load_scenario", load)


def test_nan_in_the_equations_stops_with_time_states_and_partial_results(files, tmp_path, monkeypatch):
    _nan_after_one_hour(monkeypatch)
    out = tmp_path / "nan.nc"
    res = CliRunner().invoke(main, ["run", str(files["plant"]), "-o", str(out)])
    assert res.exit_code == 1, res.output
    assert "solver stopped at t = 1.000 h" in res.output and "NaN or inf" in res.output
    assert "derivatives of user.h" in res.output and "partial results" in res.output
    assert "retried" not in res.output and "Traceback" not in res.output
    ds = _open(out)
    assert ds.attrs["solver_success"] == 0 and "NaN or inf" in ds.attrs["solver_message"]
    assert ds.attrs["solver_t_reached_s"] == pytest.approx(3600.0, abs=1e-6)
    assert float(ds["time"][-1]) == pytest.approx(3600.0, abs=1e-6) and float(ds["time"][-2]) < 3600.0
    # the states and the audit are finite to the end; the demand signal is NaN where it failed
    assert all(np.isfinite(ds[v].values).all() for v in ds.data_vars if v == "user.h" or v.startswith("audit."))
    assert np.isfinite(ds["user.Q_flow"].values[:-1]).all() and np.isnan(ds["user.Q_flow"].values[-1])
    assert _closure(ds) < 1e-9  # what was computed up to there balances
    assert ds["kpi.heat_delivered"] == pytest.approx(50e3 * 3600.0, rel=1e-3)


def _no_temporary_files(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def _interrupt_during_writes(monkeypatch):
    """Each results write sends this process a real SIGINT half-way (after the data, before
    the rename). It is sent only while twin holds Ctrl-C: otherwise the test fails instead
    of interrupting pytest."""
    real = xr.Dataset.to_netcdf

    def to_netcdf(self, path, *args, **kwargs):
        out = real(self, path, *args, **kwargs)
        handler = signal.getsignal(signal.SIGINT)
        assert getattr(handler, "__module__", None) == "twin.interrupt", "Ctrl-C is not held during a write"
        os.kill(os.getpid(), signal.SIGINT)
        return out

    monkeypatch.setattr(xr.Dataset, "to_netcdf", to_netcdf)


def test_ctrl_c_during_the_write_finishes_it_and_exits_130(files, tmp_path, monkeypatch):
    _interrupt_during_writes(monkeypatch)
    out = tmp_path / "run.nc"
    before = signal.getsignal(signal.SIGINT)
    res = CliRunner().invoke(main, ["run", str(files["plant"]), "-o", str(out)])
    assert signal.getsignal(signal.SIGINT) is before  # Ctrl-C is the caller's again
    assert res.exit_code == 130, res.output
    assert "interrupted" in res.output and f"{out} was written completely first" in res.output
    assert "Traceback" not in res.output and not _no_temporary_files(tmp_path)
    ds = _open(out)  # complete: the whole run, balanced
    assert float(ds["time"][-1]) == 7200.0 and ds.attrs["solver_success"] == 1 and _closure(ds) < 1e-9


def test_ctrl_c_while_solving_writes_nothing_and_exits_130(files, tmp_path, monkeypatch):
    import twin.run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(twin.run, "simulate", interrupted)
    out = tmp_path / "never.nc"
    res = CliRunner().invoke(main, ["run", str(files["plant"]), "-o", str(out)])
    assert res.exit_code == 130, res.output
    assert "interrupted" in res.output and "nothing was written" in res.output
    assert "Traceback" not in res.output and "Aborted" not in res.output and not out.exists()


def test_ctrl_c_in_any_command_exits_130(files, monkeypatch):
    from twin.scenario import build

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "load_scenario", interrupted)
    res = CliRunner().invoke(main, ["check", str(files["plant"])])
    assert res.exit_code == 130 and "interrupted" in res.output and "Traceback" not in res.output


def test_failed_write_leaves_no_file_at_the_final_path(files, tmp_path, monkeypatch):
    """A full disk half-way through the write: the message names the file and the cause,
    exit 2, no results file and no temporary file; an older file at the path is untouched."""
    real = xr.Dataset.to_netcdf

    def full_disk(self, path, *args, **kwargs):
        real(self, path, *args, **kwargs)  # the data is there, as far as it got...
        with open(path, "r+b") as f:
            f.truncate(1000)  # ...then the disk filled up
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full_disk)
    for name, old in (("new.nc", None), ("old.nc", b"an older results file")):
        out = tmp_path / name
        if old is not None:
            out.write_bytes(old)
        res = CliRunner().invoke(main, ["run", str(files["plant"]), "-o", str(out)])
        assert res.exit_code == 2, res.output
        assert f"could not write {out}" in res.output and os.strerror(errno.ENOSPC) in res.output
        assert "Traceback" not in res.output and not _no_temporary_files(tmp_path)
        assert (out.read_bytes() == old) if old is not None else not out.exists()
