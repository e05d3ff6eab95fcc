"""Sweeps on a Dask cluster: a LocalCluster of two worker processes finishes every variant
even when one worker is killed in the middle of the sweep (its chunks run again elsewhere),
and every variant's results are whole (lanes equal solo runs: tests/test_sweep.py)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from conftest import SWEEP_PLANT as SMALL
from twin.sweep.engine import SweepSettings, run_sweep
from twin.sweep.spec import grid, parse_vary

distributed = pytest.importorskip("dask.distributed")


def test_local_cluster_survives_a_killed_worker(tmp_path):
    f = tmp_path / "small.yaml"
    f.write_text(SMALL)
    v = grid(parse_vary(["user.demand.nominal=20 kW..80 kW", "user.fluid_holdup=100 kg, 150 kg"]), 3)
    settings = SweepSettings(output_interval=600.0, chunk=2, max_steps=3000)
    killed = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:  # closed before the sweep opens its own
            pids = client.run(os.getpid)

        def kill_one_worker(p):
            if p["stage"] == "chunk" and not killed:  # after the first chunk came back
                victim = sorted(pids.values())[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        r = run_sweep(f, v, tmp_path / "out", settings=settings, cluster=cluster.scheduler_address,
                      progress=kill_one_worker)
    assert killed, "no chunk came back before the end"
    assert sorted(r.done) == list(range(6)) and not r.failed, r.failed
    ds = r.dataset
    assert list(ds["status"].values) == ["done"] * 6
    # each variant's results are whole: energy closes, and more demand delivers more heat
    assert np.all(ds["kpi.energy_closure"].values < 1e-9)
    same = ds.where(ds["user.fluid_holdup"] == 150, drop=True)
    assert same.sizes["scenario"] == 3 and np.all(np.diff(same["kpi.heat_delivered"].values) > 0)
    ledger = (tmp_path / "out" / "ledger.jsonl").read_text().splitlines()
    assert len(ledger) == 6  # one line per variant: a re-run chunk is recorded once
