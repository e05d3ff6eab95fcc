"""Sweeps beyond one process: chunks of lanes on a Dask distributed cluster.

``twin sweep ... --cluster local:N`` starts a :class:`dask.distributed.LocalCluster` of N
worker processes (one Dask thread each; XLA inside a worker uses the cores it finds);
``--cluster tcp://HOST:PORT`` uses a running scheduler, whose workers each own a
device (start one ``dask worker`` per GPU with ``CUDA_VISIBLE_DEVICES`` set).

Each task is one chunk: the worker loads the scenario itself (the file must be readable at
the same path on every worker, as with any Dask deployment; its SHA-256 is checked against
the client's), plans the sweep once per process (cached), compiles once per structure,
solves the chunk and returns each variant's ledger entry and results Dataset. The client
writes the files and the ledger, so nothing needs a shared output folder and the ledger has
one writer. A task whose worker dies is re-run elsewhere by the scheduler; a task that
raises is retried ``RETRIES`` times and then marks its variants failed with the error, while
every other chunk's results are kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

RETRIES = 2
_PLANS: dict = {}


def _client(address: str):
    from dask.distributed import Client, LocalCluster

    if address.startswith("local:"):
        try:
            n = int(address[len("local:"):])
        except ValueError:
            raise ValueError(f"--cluster {address!r}: write local:N with N the number of workers") from None
        if n < 1:
            raise ValueError(f"--cluster {address!r}: N must be at least 1")
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster
    return Client(address, timeout="30s"), None


def _remote_chunk(path: str, sha256: str, base_overrides: tuple, variants, settings, force_load: bool,
                  group: int, rows: np.ndarray, B: int, keys: list[str]):
    """Runs on a worker: solve one chunk and finish its lanes (entries and Datasets)."""
    from twin.sweep import batch
    from twin.sweep.engine import finish_lane, lane_solver, sweep_times

    key = (path, sha256, tuple(base_overrides), variants.values.tobytes(), tuple(variants.axes), force_load)
    pl = _PLANS.get(key)
    if pl is None:
        pl = batch.plan(path, variants, base_overrides, force_load=force_load)
        if pl.base.sha256 != sha256:
            raise RuntimeError(f"{path}: the scenario file on this worker differs from the client's "
                               f"(sha256 {pl.base.sha256[:12]} vs {sha256[:12]})")
        _PLANS.clear()
        _PLANS[key] = pl
    g = pl.groups[group]
    c0 = batch.COMPILE_COUNT
    ts = sweep_times(pl.base, settings)
    lanes, info = batch.solve_chunk(g, variants, rows, B, ts, lane_solver(g.base, settings))
    info["compile"] = dict(batch.LAST_COMPILE) if batch.COMPILE_COUNT > c0 else {}
    info["compiled"] = batch.COMPILE_COUNT - c0
    return [finish_lane(g, variants, lane, keys[lane.variant], info) for lane in lanes], info


def run_on_cluster(address: str, path, base_overrides: Sequence[str], variants, settings, force_load: bool,
                   work: list[tuple[int, np.ndarray, int]], keys: list[str],
                   store: Callable[[list, dict], None]) -> int:
    """Send the chunks of ``work`` (group, variant rows, chunk size) to the cluster; ``store``
    is called with each finished chunk's lanes as it arrives. Returns the number of
    compilations the workers did."""
    from dask.distributed import as_completed

    from twin.scenario.build import load_scenario
    from twin.sweep.engine import _entry

    sha = load_scenario(path, list(base_overrides)).sha256
    client, cluster = _client(address)
    try:
        n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
        futures = {}
        for g, todo, B in work:
            # at least one chunk per worker, so every worker has work
            B = max(1, min(B, math.ceil(todo.size / n_workers)))
            for k in range(0, todo.size, B):
                rows = todo[k:k + B]
                f = client.submit(_remote_chunk, str(Path(path).resolve()), sha, tuple(base_overrides), variants,
                                  settings, force_load, g, rows, B, keys, retries=RETRIES, pure=False)
                futures[f] = rows
        compiles = 0
        for f in as_completed(list(futures)):
            rows = futures[f]
            try:
                lanes, info = f.result()
            except Exception as exc:  # the task failed on every try: its variants fail, others go on
                msg = f"chunk failed on the cluster after {RETRIES + 1} tries: {exc!r}"
                lanes = [(_entry(keys[i], i, variants, "failed", msg, None, None, {}), None) for i in rows]
                info = {"wall": 0.0, "lanes": int(rows.size), "B": int(rows.size), "error": msg}
            compiles += int(info.get("compiled", 0))
            store(lanes, info)
        return compiles
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
