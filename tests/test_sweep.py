"""Batch sweeps: variants, the affine parameter map, one compile, lanes equal to solo runs,
per-variant status, files and ledger, resume, collect and the command line.

One small plant (a source feeding a heat demand through a hold-up) keeps the compile short;
every sweep here varies the same two parameters (demand and hold-up) with the same chunk
size, step limit and output times, so the batched solve compiles once for the whole file.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from conftest import SWEEP_PLANT

from twin.sweep import batch
from twin.sweep.engine import SweepSettings, collect, run_sweep
from twin.sweep.spec import (
    SweepSpecError,
    grid,
    latin_hypercube,
    parse_vary,
    read_list,
)

SMALL = SWEEP_PLANT

B = 4  # one chunk size for the whole file: one compile per structure
SETTINGS = SweepSettings(output_interval=600.0, chunk=B, max_steps=3000)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    f = tmp_path_factory.mktemp("sweep") / "small.yaml"
    f.write_text(SMALL)
    return f


# ------------------------------------------------------------------ variants
def test_ranges_levels_and_units():
    a, b, c = parse_vary(["user.demand=20 kW..80 kW", "user.fluid_holdup=50 kg, 0.1 t, 200 kg",
                          "supply.temperature=70 degC..90 degC"])
    assert (a.low, a.high, a.unit) == (20.0, 80.0, "kW")
    assert b.levels == (50.0, 100.0, 200.0) and b.unit == "kg"  # 0.1 t converted to the first unit
    assert a.text(30.0) == "30 kW" and c.text(75.5) == "75.5 degC"
    v = grid([a, b], 3)
    assert v.values.shape == (9, 2) and sorted(set(v.values[:, 0])) == [20.0, 50.0, 80.0]
    assert v.overrides(1) == ["user.demand=20 kW", "user.fluid_holdup=100 kg"]


def test_latin_hypercube_is_stratified_and_reproducible():
    axes = parse_vary(["user.demand=20 kW..80 kW", "user.fluid_holdup=50 kg..200 kg"])
    v1, v2 = latin_hypercube(axes, 16, seed=7), latin_hypercube(axes, 16, seed=7)
    np.testing.assert_array_equal(v1.values, v2.values)
    for j, (lo, hi) in enumerate([(20, 80), (50, 200)]):
        bins = np.floor((v1.values[:, j] - lo) / (hi - lo) * 16).astype(int)
        assert sorted(bins) == list(range(16))  # one sample in each of the 16 strata
    assert not np.array_equal(latin_hypercube(axes, 16, seed=8).values, v1.values)


@pytest.mark.parametrize("bad, words", [
    ("user.demand", "PATH=LOW..HIGH"),
    ("user.demand=80 kW..20 kW", "lower to a higher"),
    ("user.demand=abc..20 kW", "not a number"),
    ("user.demand=20 kW..80 m", "cannot convert"),
    ("=1..2", "parameter path"),
])
def test_bad_vary_names_the_option(bad, words):
    with pytest.raises(SweepSpecError) as err:
        parse_vary([bad])
    assert words in str(err.value)


def test_list_file_units_in_header_and_cells(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("user.demand [kW],user.fluid_holdup\n30,100 kg\n45.5,0.2 t\n")
    v = read_list(f)
    np.testing.assert_allclose(v.values, [[30, 100], [45.5, 200]])
    assert v.overrides(1) == ["user.demand=45.5 kW", "user.fluid_holdup=200 kg"]
    f.write_text("user.demand [kW]\n30\n4x\n")
    with pytest.raises(SweepSpecError, match=r"v.csv:3: user.demand"):
        read_list(f)


# ------------------------------------------------------------------ the affine map
def _leaves_match(small, v, g, rows):
    from twin.scenario.build import load_scenario

    for i in rows:
        want = batch.split_plant(load_scenario(small, v.overrides(i)).plant)[0]
        got = batch.split_plant(g.plant(v, i))[0]
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-14, atol=0)


def test_affine_map_reproduces_loaded_variants(small):
    """Unit conversion (kW, degC) and a schedule value map exactly onto the plant's leaves."""
    v = grid(parse_vary(["user.demand.nominal=20 kW..80 kW", "supply.temperature=70 degC..90 degC"]), 3)
    pl = batch.plan(small, v)
    assert pl.note == "affine" and len(pl.groups) == 1 and not pl.invalid
    _leaves_match(small, v, pl.groups[0], (0, 4, 8))
    v = grid(parse_vary(["schedules.load.values.1=0.2..0.8", "supply.temperature=70 degC..90 degC"]), 3)
    pl = batch.plan(small, v)
    assert pl.note == "affine" and not pl.groups[0].times_batched
    _leaves_match(small, v, pl.groups[0], (0, 5, 8))


def test_bilinear_parameters_are_detected_and_loaded(small):
    """A scheduled demand is nominal x schedule value: varying both is bilinear, which the
    verification catches; every variant is then loaded, and the leaves are still exact."""
    v = grid(parse_vary(["user.demand.nominal=20 kW..80 kW", "schedules.load.values.1=0.2..0.8"]), 3)
    pl = batch.plan(small, v)
    assert "non-linearly" in pl.note and len(pl.groups) == 1 and pl.groups[0].how == "loaded"
    _leaves_match(small, v, pl.groups[0], (0, 4, 8))


def test_schedule_times_get_jump_times_per_lane(small):
    v = grid(parse_vary(["schedules.load.times.1=0.5 h..1.5 h"]), 3)
    pl = batch.plan(small, v)
    g = pl.groups[0]
    assert pl.note == "affine" and g.times_batched
    jt = batch.lane_jump_times(g, v, np.arange(3), 7200.0)
    np.testing.assert_allclose(jt[:, 0], [1800.0, 3600.0, 5400.0])


def test_structure_change_falls_back_to_loading(small):
    """A parameter outside the plant (here the solver tolerance) cannot be mapped: every
    variant is loaded and grouped by what it compiles to."""
    v = grid(parse_vary(["solver.rtol=1e-8, 1e-7", "user.demand.nominal=20 kW..80 kW"]), 2)
    pl = batch.plan(small, v)
    assert pl.note != "affine" and len(pl.groups) == 2
    # a constant demand in place of the scheduled one changes the plant's structure
    assert "structure" in batch.plan(small, grid(parse_vary(["user.demand=20 kW..80 kW"]), 2)).note
    assert sorted(np.concatenate([g.index for g in pl.groups]).tolist()) == [0, 1, 2, 3]


# ------------------------------------------------------------------ running sweeps
@pytest.fixture(scope="module")
def swept(small, tmp_path_factory):
    """Six variants of the small plant in chunks of four: one compile, two chunks."""
    out = tmp_path_factory.mktemp("swept")
    v = grid(parse_vary(["user.demand.nominal=20 kW..80 kW", "user.fluid_holdup=100 kg, 150 kg"]), 3)
    batch._COMPILED.clear()  # count this sweep's compile whatever ran before
    c0 = batch.COMPILE_COUNT
    r = run_sweep(small, v, out, settings=SETTINGS)
    return v, r, out, batch.COMPILE_COUNT - c0


def test_one_compile_and_every_variant_done(swept):
    v, r, out, compiles = swept
    assert compiles == 1 and r.compile_count == 1
    assert sorted(r.done) == list(range(6)) and not r.failed
    assert len(r.chunks) == 2 and all(c["B"] == B for c in r.chunks)


def test_lanes_equal_their_solo_runs(swept, small):
    """Each lane agrees with ``twin run --set`` of the same variant to the solver tolerance
    (vmapped arithmetic rounds differently; rtol 1e-8 here)."""
    from twin.run import run_scenario
    from twin.scenario.build import load_scenario

    v, r, out, _ = swept
    ds = r.dataset
    for i in (0, 5):
        solo = run_scenario(load_scenario(small, v.overrides(i)))
        lane = xr.open_dataset(out / ds["file"].values[i], engine="h5netcdf")
        for k in ("heat_delivered", "stack_loss", "exergy_destroyed", "energy_closure"):
            got, want = float(ds[f"kpi.{k}"].values[i]), solo.kpis[k]
            assert got == pytest.approx(want, rel=1e-6, abs=1e-9 * abs(solo.kpis["heat_delivered"])), k
        T_solo = solo.dataset["user.T"].interp(time=lane["time"].values).values
        np.testing.assert_allclose(lane["user.T"].values, T_solo, rtol=1e-7)
        assert lane.attrs["sweep_variant"] == i and lane["kpi.energy_closure"] < 1e-9


def test_collected_dataset_has_parameters_and_kpis(swept):
    v, r, out, _ = swept
    ds = xr.open_dataset(out / "sweep.nc", engine="h5netcdf")
    assert ds.sizes["scenario"] == 6 and set(ds["status"].values) == {"done"}
    np.testing.assert_array_equal(ds["user.demand.nominal"].values, v.values[:, 0])
    assert ds["user.demand.nominal"].attrs["units"] == "kW" and ds["kpi.heat_delivered"].attrs["units"] == "J"
    # more demand, more heat delivered (same hold-up)
    same = ds.where(ds["user.fluid_holdup"] == 150, drop=True)
    assert same.sizes["scenario"] == 3 and np.all(np.diff(same["kpi.heat_delivered"].values) > 0)
    csv = (out / "kpis.csv").read_text().splitlines()
    assert len(csv) == 7 and csv[0].startswith("scenario,user.demand.nominal [kW]")


def test_resume_does_no_work_and_redoes_a_damaged_file(swept, small):
    v, r, out, _ = swept
    c0 = batch.COMPILE_COUNT
    again = run_sweep(small, v, out, settings=SETTINGS, resume=True)
    assert sorted(again.skipped) == list(range(6)) and not again.done and not again.chunks
    assert batch.COMPILE_COUNT == c0
    damaged = out / r.dataset["file"].values[2]
    damaged.write_bytes(damaged.read_bytes()[:100])  # a truncated file is not "done"
    third = run_sweep(small, v, out, settings=SETTINGS, resume=True)
    assert third.done == [2] and len(third.skipped) == 5 and batch.COMPILE_COUNT == c0
    assert xr.open_dataset(damaged, engine="h5netcdf").attrs["sweep_variant"] == 2


def test_broken_variants_fail_alone(small, tmp_path):
    """An invalid value fails validation (not run); a stiff variant exhausts its step limit;
    every other variant finishes and equals the good ones of a clean sweep."""
    f = tmp_path / "variants.csv"
    f.write_text("user.demand.nominal [kW],user.fluid_holdup [kg]\n30,100\n40,-5\n50,0.001\n60,100\n70,150\n")
    v = read_list(f)
    r = run_sweep(small, v, tmp_path / "out", settings=SETTINGS)
    assert sorted(r.done) == [0, 3, 4]
    assert "fluid_holdup" in r.failed[1] and "--set" in r.failed[1]  # the loader's message
    assert "maximum number of solver steps" in r.failed[2] and "stopped at t =" in r.failed[2]
    ds = r.dataset
    assert list(ds["status"].values) == ["done", "failed", "failed", "done", "done"]
    assert ds["t_reached"].values[2] < 7200.0 and np.isfinite(ds["kpi.heat_delivered"].values[[0, 3, 4]]).all()
    ledger = [json.loads(x) for x in (tmp_path / "out" / "ledger.jsonl").read_text().splitlines()]
    assert sorted(e["variant"] for e in ledger) == [0, 1, 2, 3, 4]


# ------------------------------------------------------------------ command line
def test_cli_sweep_block_and_collect(small, tmp_path):
    from twin.cli import main

    f = tmp_path / "block.yaml"
    f.write_text(SMALL + textwrap.dedent("""\
        sweep:
          method: lhs
          samples: 3
          seed: 2
          parameters: {user.demand.nominal: 20 kW..80 kW, user.fluid_holdup: 80 kg..150 kg}
        """))
    out = tmp_path / "s"
    res = CliRunner().invoke(main, ["sweep", str(f), "-o", str(out), "--chunk", str(B), "--output-interval",
                                    "10 min", "--max-steps", "3000"])
    assert res.exit_code == 0, res.output
    assert "3 done, 0 failed" in res.output and (out / "report" / "index.html").exists()
    assert any(p.name.startswith("surface_") for p in (out / "report").iterdir())
    res = CliRunner().invoke(main, ["collect", str(out), "--no-report"])
    assert res.exit_code == 0 and "3 done, 0 failed, 0 pending" in res.output


@pytest.mark.parametrize("args, words", [
    (["--vary", "user.demand.nominal=80 kW..20 kW"], "lower to a higher"),
    ([], "nothing to vary"),
    (["--vary", "user.demand.nominal=20 kW..80 kW", "--grid", "2", "--samples", "3"], "one of --grid"),
    (["--vary", "user.nope=1..2", "--grid", "2"], "user.nope"),
])
def test_cli_bad_sweep_exit_2(small, tmp_path, args, words):
    from twin.cli import main

    res = CliRunner().invoke(main, ["sweep", str(small), "-o", str(tmp_path / "x"), *args])
    assert res.exit_code == 2, res.output
    assert words in res.output and "Traceback" not in res.output


def test_collect_of_a_non_sweep_folder_exit_2(tmp_path):
    from twin.cli import main

    res = CliRunner().invoke(main, ["collect", str(tmp_path)])
    assert res.exit_code == 2 and "not a sweep folder" in res.output


# ------------------------------------------------------------------ faults (issue 7)
CLI_SWEEP = ["--vary", "user.demand.nominal=20 kW..80 kW", "--vary", "user.fluid_holdup=100 kg, 150 kg",
             "--grid", "3", "--chunk", str(B), "--output-interval", "10 min", "--max-steps", "3000", "--no-report"]


def test_cli_sweep_ctrl_c_keeps_finished_variants_and_resumes(small, tmp_path, monkeypatch):
    """Ctrl-C while the second chunk is solving: exit 130, no traceback, the first chunk's
    four variants kept (files, ledger, sweep.nc), and --resume runs only the other two."""
    from twin.cli import main

    real, calls = batch.gather_chunk, []

    def gather(pending):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # where Ctrl-C lands: waiting for a chunk's solve
        return real(pending)

    monkeypatch.setattr(batch, "gather_chunk", gather)
    out = tmp_path / "s"
    res = CliRunner().invoke(main, ["sweep", str(small), "-o", str(out), *CLI_SWEEP])
    assert res.exit_code == 130, res.output
    assert "interrupted" in res.output and "4 of 6 variants finished" in res.output and "--resume" in res.output
    assert "Traceback" not in res.output and "Aborted" not in res.output
    ds = xr.open_dataset(out / "sweep.nc", engine="h5netcdf")
    assert list(ds["status"].values) == ["done"] * 4 + ["pending"] * 2
    assert all((out / f).exists() for f in ds["file"].values[:4])
    monkeypatch.setattr(batch, "gather_chunk", real)
    c0 = batch.COMPILE_COUNT
    again = CliRunner().invoke(main, ["sweep", str(small), "-o", str(out), "--resume", *CLI_SWEEP])
    assert again.exit_code == 0, again.output
    assert "2 done, 0 failed, 4 skipped" in again.output and batch.COMPILE_COUNT == c0


def test_cli_sweep_failed_write_keeps_what_was_written(small, tmp_path, monkeypatch):
    """The disk fills up while the third variant's file is written: exit 2 with the cause,
    no partial file at that variant's path (nor a temporary one), the two written before kept
    in the ledger for --resume."""
    import errno
    import os

    from twin.cli import main

    real, calls = xr.Dataset.to_netcdf, []

    def full_disk(self, path, *args, **kwargs):
        calls.append(path)
        real(self, path, *args, **kwargs)
        if len(calls) >= 3:  # from the third file on, the disk is full half-way through
            with open(path, "r+b") as f:
                f.truncate(1000)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full_disk)
    out = tmp_path / "s"
    res = CliRunner().invoke(main, ["sweep", str(small), "-o", str(out), *CLI_SWEEP])
    assert res.exit_code == 2, res.output
    assert "could not write" in res.output and os.strerror(errno.ENOSPC) in res.output
    assert "2 of 6 variants finished" in res.output and "Traceback" not in res.output
    files = sorted(p.name for p in (out / "scenarios").iterdir())
    assert len(files) == 2 and not any(n.endswith(".part") for n in os.listdir(out))
    ledger = [json.loads(x) for x in (out / "ledger.jsonl").read_text().splitlines()]
    assert sorted(e["variant"] for e in ledger) == [0, 1] and all(e["file"][10:] in files for e in ledger)


def test_cli_sweep_ctrl_c_during_a_write_keeps_that_file(small, tmp_path, monkeypatch):
    """A real SIGINT while the second variant's file is written: that write finishes and the
    variant is kept in the ledger with its file's SHA-256 (so --resume skips it); exit 130."""
    import os
    import signal

    from twin.cli import main

    real, calls = xr.Dataset.to_netcdf, []

    def interrupted(self, path, *args, **kwargs):
        calls.append(path)
        out = real(self, path, *args, **kwargs)
        if len(calls) == 2:
            handler = signal.getsignal(signal.SIGINT)
            assert getattr(handler, "__module__", None) == "twin.interrupt", "Ctrl-C is not held during a write"
            os.kill(os.getpid(), signal.SIGINT)
        return out

    monkeypatch.setattr(xr.Dataset, "to_netcdf", interrupted)
    out = tmp_path / "s"
    res = CliRunner().invoke(main, ["sweep", str(small), "-o", str(out), *CLI_SWEEP])
    assert res.exit_code == 130, res.output
    assert "was written completely first" in res.output and "2 of 6 variants finished" in res.output
    ds = xr.open_dataset(out / "sweep.nc", engine="h5netcdf")
    assert list(ds["status"].values) == ["done"] * 2 + ["pending"] * 4
    from twin.sweep.engine import Ledger, finished

    keys = json.loads((out / "sweep.json").read_text())["keys"]
    assert finished(out, Ledger(out / "ledger.jsonl"), keys) == [0, 1]  # both files whole, as recorded
