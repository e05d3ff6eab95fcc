"""Run a sweep: chunks of lanes, one results file per variant, a ledger, resume, collect.

Folder layout (``twin sweep ... -o DIR``)::

    DIR/sweep.json          what was asked: scenario, its sha256, axes, variants, settings
    DIR/ledger.jsonl        append-only, one JSON line per finished variant (done or failed)
    DIR/scenarios/*.nc      one results file per variant, written atomically
    DIR/sweep.nc            the collected Dataset (dimension ``scenario``)
    DIR/kpis.csv            the KPI table

A variant's *key* is the SHA-256 of the scenario text, the base ``--set`` overrides, the
variant's own overrides and the output settings: the same variant in a later run of the same
sweep has the same key. ``--resume`` skips every key the ledger records as failed, or as done
with its results file present and of the SHA-256 the ledger recorded, so a killed sweep
loses at most the chunk in flight and a changed or truncated file is redone.

Each ledger line is written with one ``write`` of a whole line and flushed and fsynced
before the next chunk is judged done; a line cut off by a crash is ignored when read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from twin.core.solve import Solution, SolverConfig
from twin.sweep import batch
from twin.sweep.spec import Variants

#: host memory share a CPU chunk may take, and device memory share on an accelerator
MEMORY_SHARE = 0.25
#: largest chunk on a CPU and elsewhere. On the 2-core CPU of benchmarks/RESULTS.md the
#: vmapped flagship reached 2.0 runs/s at B = 16, 3.8 at 256 and 4.0 at 1024 against 0.9-1.6
#: for a loop of single runs (DESIGN lesson 6 had found no gain from vmap on its prototype);
#: 256 keeps most of the gain with chunks of about a minute, so results land steadily
MAX_CHUNK_CPU = 256
MAX_CHUNK_ACCELERATOR = 16384

SCHEMA = "twin-sweep/1"


@dataclasses.dataclass
class SweepSettings:
    """How a sweep is run and what it keeps.

    Parameters
    ----------
    output_interval : Spacing of the saved outputs of each variant; None: the larger of the
        scenario's and 1 h (KPIs are exact whatever it is: they come from integrals). [s]
    full : Keep the scenario's own output interval (full trajectories).
    chunk : Lanes per compiled batch; None: chosen from the memory one lane needs.
    max_steps : Solver step limit per lane; None: the scenario's.
    """

    output_interval: float | None = None
    full: bool = False
    chunk: int | None = None
    max_steps: int | None = None


@dataclasses.dataclass
class SweepResult:
    """What a sweep did: variants done, failed (variant -> message), skipped (resume)."""

    out_dir: Path
    done: list[int]
    failed: dict[int, str]
    skipped: list[int]
    dataset: xr.Dataset | None
    chunks: list[dict]
    compile_count: int
    wall_time: float


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_json_atomic(path: Path, data) -> None:
    from twin.results import write_bytes_atomic

    write_bytes_atomic(path, json.dumps(data, indent=1, default=float).encode("utf-8"))


class Ledger:
    """The append-only record of finished variants (``ledger.jsonl``)."""

    def __init__(self, path: Path):
        self.path = path

    def entries(self) -> dict[str, dict]:
        """The last entry per variant key; a partial last line (a crash mid-write) is ignored."""
        out: dict[str, dict] = {}
        if not self.path.exists():
            return out
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(e, dict) and "key" in e:
                out[e["key"]] = e
        return out

    def append(self, entries: Sequence[dict]) -> None:
        """Append the entries' lines at once (Ctrl-C waits until they are on disk)."""
        from twin.interrupt import deferred

        if not entries:
            return
        text = "".join(json.dumps(e, default=_json_default) + "\n" for e in entries)
        with deferred(self.path), open(self.path, "a", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def _json_default(x):
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    raise TypeError(f"not JSON: {type(x)}")


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def variant_key(scenario_sha: str, base_overrides: Sequence[str], overrides: Sequence[str],
                output: dict) -> str:
    """SHA-256 naming one variant's run (see the module docstring)."""
    blob = json.dumps({"scenario": scenario_sha, "base": list(base_overrides), "variant": list(overrides),
                       "output": output}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def chunk_size(per_lane_bytes: float, n: int, requested: int | None = None) -> int:
    """Lanes per chunk: ``requested``, or what fits :data:`MEMORY_SHARE` of the device's (or
    host's) memory at ``per_lane_bytes`` each, capped per platform; a multiple of the
    number of local devices."""
    import jax

    n_dev = len(jax.local_devices())
    if requested is not None:
        B = max(int(requested), 1)
    else:
        dev = jax.local_devices()[0]
        stats = None
        try:
            stats = dev.memory_stats()
        except Exception:  # CPU backends may not implement it
            stats = None
        if stats and stats.get("bytes_limit"):
            free = (stats["bytes_limit"] - stats.get("bytes_in_use", 0)) * n_dev
            cap = MAX_CHUNK_ACCELERATOR
        else:
            free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            cap = MAX_CHUNK_CPU
        B = int(max(1, min(cap, MEMORY_SHARE * free // max(per_lane_bytes, 1.0))))
        B = min(B, max(n, 1))
    return max(n_dev, int(math.ceil(B / n_dev)) * n_dev)


def lane_bytes(scenario, n_out: int) -> float:
    """Estimated device memory of one lane: the saved outputs (states and signals at every
    output time, held twice: on the device and in transit) plus the solver's working set
    (about 20 state vectors for Tsit5 with its controller and dense output). [bytes]"""
    import jax
    import jax.flatten_util

    y0 = scenario.plant.initial_state()
    n_y = jax.flatten_util.ravel_pytree(y0)[0].size
    n_sig = len(jax.eval_shape(scenario.plant.signals, 0.0, y0))
    return 8.0 * (2 * n_out * (n_y + n_sig) + 20 * n_y)


def run_sweep(path: str | Path, variants: Variants, out_dir: str | Path, *,
              base_overrides: Sequence[str] = (), settings: SweepSettings | None = None,
              resume: bool = False, progress: Callable[[dict], None] | None = None,
              force_load: bool = False, cluster: str | None = None) -> SweepResult:
    """Run every variant of ``variants`` of the scenario at ``path`` into ``out_dir``.

    ``progress`` is called after planning and after every chunk with a dict of counts
    (``total``, ``done``, ``failed``, ``skipped``) and the last chunk's statistics.
    ``cluster``: ``"local:N"`` (a Dask LocalCluster of N worker processes) or the address
    of a Dask scheduler (``"tcp://host:8786"``); see :mod:`twin.sweep.cluster`. Without it
    the chunks run in this process on every local device.
    Raises :class:`~twin.scenario.errors.ScenarioError` if the base scenario is invalid.
    """
    t_start = time.perf_counter()
    settings = settings or SweepSettings()
    out = Path(out_dir)
    (out / "scenarios").mkdir(parents=True, exist_ok=True)
    plan = batch.plan(path, variants, base_overrides, force_load=force_load)
    base = plan.base
    ts = sweep_times(base, settings)
    keys = variant_keys(base, base_overrides, variants, ts, settings)
    _write_json_atomic(out / "sweep.json", {
        "schema": SCHEMA, "scenario_file": str(Path(path).resolve()), "scenario_name": base.name,
        "scenario_sha256": base.sha256, "base_overrides": list(base_overrides), "method": variants.method,
        "axes": [dataclasses.asdict(a) for a in variants.axes], "values": variants.values.tolist(),
        "keys": keys, "output_interval": float(ts[1] - ts[0]) if ts.size > 1 else base.duration,
        "max_steps": settings.max_steps, "plan": plan.note,
    })
    ledger = Ledger(out / "ledger.jsonl")
    skipped = finished(out, ledger, keys) if resume else []
    skip = set(skipped)

    state = _Progress(len(variants), len(skipped), progress)
    entries = []
    for i, msg in plan.invalid.items():
        if i not in skip:
            state.failed[i] = msg
            entries.append(_entry(keys[i], i, variants, "failed", msg, None, None, {}))
    ledger.append(entries)
    state.report("planned", plan=plan.note)

    work = []  # (group number, rows, B)
    for g, group in enumerate(plan.groups):
        todo = np.array([i for i in group.index if i not in skip and i not in state.failed], dtype=int)
        if todo.size:
            work.append((g, todo, chunk_size(lane_bytes(group.base, ts.size), todo.size, settings.chunk)))
    c0 = batch.COMPILE_COUNT
    if cluster is None:
        for g, todo, B in work:
            group = plan.groups[g]
            cfg = lane_solver(group.base, settings)
            parts = [todo[k:k + B] for k in range(0, todo.size, B)]
            c1 = batch.COMPILE_COUNT
            pending = batch.dispatch_chunk(group, variants, parts[0], B, ts, cfg)
            compiled = dict(batch.LAST_COMPILE) if batch.COMPILE_COUNT > c1 else {}
            for n in range(len(parts)):
                lanes, info = batch.gather_chunk(pending)
                if n + 1 < len(parts):  # the device solves the next chunk while the host writes
                    pending = batch.dispatch_chunk(group, variants, parts[n + 1], B, ts, cfg)
                info["compile"], compiled = compiled, {}  # the compile belongs to the first chunk
                finished_lanes = [finish_lane(group, variants, lane, keys[lane.variant], info) for lane in lanes]
                _store(out, ledger, finished_lanes, state, info)
        compiles = batch.COMPILE_COUNT - c0
    else:
        from twin.sweep.cluster import run_on_cluster

        compiles = run_on_cluster(cluster, path, base_overrides, variants, settings, force_load, work, keys,
                                  lambda lanes, info: _store(out, ledger, lanes, state, info))
    ds = collect(out)
    return SweepResult(out, state.done, state.failed, skipped, ds, state.chunks, compiles,
                       time.perf_counter() - t_start)


class _Progress:
    def __init__(self, total: int, skipped: int, callback):
        self.total, self.skipped, self.callback = total, skipped, callback
        self.done: list[int] = []
        self.failed: dict[int, str] = {}
        self.chunks: list[dict] = []

    def report(self, stage: str, **extra) -> None:
        if self.callback:
            self.callback({"total": self.total, "done": len(self.done), "failed": len(self.failed),
                           "skipped": self.skipped, "stage": stage, **extra})


def _store(out: Path, ledger: Ledger, lanes: list[tuple[dict, xr.Dataset | None]], state: _Progress,
           info: dict) -> None:
    """Write a finished chunk: each variant's file (atomically), then its ledger lines. If a
    write fails (a full disk) or Ctrl-C comes, the variants whose files were written before
    still get their ledger lines, so ``--resume`` keeps them."""
    from twin.interrupt import Interrupted
    from twin.results import write_atomic

    new = []
    try:
        for e, ds in lanes:
            stop = None
            if ds is not None:
                e["file"] = f"scenarios/v{e['variant']:06d}-{e['key'][:12]}.nc"
                try:
                    write_atomic(ds, out / e["file"])
                except Interrupted as exc:  # Ctrl-C came while writing: the file was finished first
                    stop = exc
                e["sha256"] = _sha256_file(out / e["file"])
            new.append(e)
            if e["status"] == "done":
                state.done.append(e["variant"])
            else:
                state.failed[e["variant"]] = e["message"]
            if stop is not None:
                raise stop
    finally:
        ledger.append(new)
    state.chunks.append(info)
    state.report("chunk", chunk=info)


def sweep_times(base, settings: SweepSettings) -> np.ndarray:
    """The output times every variant saves. [s]"""
    interval = base.output_interval if settings.full else (
        settings.output_interval or max(base.output_interval, 3600.0))
    return batch.output_times(base.duration, min(interval, base.duration))


def variant_keys(base, base_overrides, variants: Variants, ts: np.ndarray, settings: SweepSettings) -> list[str]:
    output = {"interval": float(ts[1] - ts[0]) if ts.size > 1 else float(ts[-1]), "max_steps": settings.max_steps}
    return [variant_key(base.sha256, base_overrides, variants.overrides(i), output) for i in range(len(variants))]


def lane_solver(scenario, settings: SweepSettings) -> SolverConfig:
    cfg = scenario.solver
    return cfg if settings.max_steps is None else dataclasses.replace(cfg, max_steps=settings.max_steps)


def finished(out: Path, ledger: Ledger, keys: Sequence[str]) -> list[int]:
    """Variants the ledger records as failed, or as done with their file intact (SHA-256)."""
    seen = ledger.entries()
    skipped = []
    for i, k in enumerate(keys):
        e = seen.get(k)
        if e is None:
            continue
        if e["status"] == "failed" or (e.get("file") and (out / e["file"]).exists()
                                       and _sha256_file(out / e["file"]) == e.get("sha256")):
            skipped.append(i)
    return skipped


def _entry(key, i, variants: Variants, status, message, file, sha, extra) -> dict:
    return {"key": key, "variant": int(i), "status": status, "message": message, "file": file,
            "sha256": sha, "parameters": {a.path: float(v) for a, v in zip(variants.axes, variants.values[i])},
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **extra}


def finish_lane(group, variants: Variants, lane: batch.LaneResult, key: str,
                info: dict) -> tuple[dict, xr.Dataset | None]:
    """Audit one solved lane like a single run; its ledger entry and results Dataset."""
    import jax

    from twin.run import finish_run

    sc = group.scenario(variants, lane.variant)
    y_final = jax.tree_util.tree_map(lambda a: a[-1], lane.ys) if lane.ts.size else None
    sol = Solution(ts=lane.ts, ys=lane.ys, signals=lane.signals, y_final=y_final, success=lane.success,
                   message=lane.message, t_reached=lane.t_reached,
                   stats=dict(num_steps=lane.steps, num_accepted_steps=lane.accepted,
                              num_rejected_steps=lane.rejected, wall_time=info["wall"] / info["lanes"],
                              compile_time=0.0), method=sc.solver.method)
    prov = {"sweep_variant": lane.variant, "sweep_key": key,
            "sweep_parameters": json.dumps({a.path: a.text(v) for a, v in
                                            zip(variants.axes, variants.values[lane.variant])})}
    try:
        result = finish_run(sc, lane.y0, sol, stored=lane.stored, provenance=prov)
    except Exception as exc:  # a post-processing fault fails this variant, not the sweep
        return _entry(key, lane.variant, variants, "failed", f"post-processing failed: {exc!r}", None, None,
                      {"t_reached": lane.t_reached, "steps": lane.steps}), None
    status = "done" if lane.success else "failed"
    message = lane.message if lane.success else (
        f"solver stopped at t = {lane.t_reached:.6g} s: {lane.message}")
    kpis = {k: _finite(v) for k, v in result.kpis.items()}
    return _entry(key, lane.variant, variants, status, message, None, None, {
        "t_reached": lane.t_reached, "steps": lane.steps, "ok": bool(result.ok),
        "checks_passed": all(c.passed for c in result.checks), "kpis": kpis,
        "second_law_violations": result.second_law_violations,
    }), result.dataset


def collect(out_dir: str | Path) -> xr.Dataset:
    """Assemble ``DIR/sweep.nc``: one ``scenario`` dimension, the swept parameters as
    coordinates (in the axis units), each variant's status and every KPI; variants not yet
    run are ``pending``. Also writes ``DIR/kpis.csv``."""
    from twin.kpi import DESCRIPTIONS
    from twin.kpi import units as kpi_units
    from twin.results import write_atomic

    out = Path(out_dir)
    try:
        meta = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise FileNotFoundError(f"{out}: not a sweep folder (sweep.json unreadable: {exc})") from None
    entries = Ledger(out / "ledger.jsonl").entries()
    keys = meta["keys"]
    n = len(keys)
    values = np.asarray(meta["values"], dtype=float).reshape(n, -1)
    rows = [entries.get(k) for k in keys]
    status = np.array([e["status"] if e else "pending" for e in rows], dtype=object)
    kpi_names = sorted({k for e in rows if e for k in e.get("kpis", {})})
    u = kpi_units()
    data = {
        "status": xr.Variable(("scenario",), status, {"long_name": "done, failed or pending"}),
        "message": xr.Variable(("scenario",), np.array([(e or {}).get("message") or "" for e in rows], dtype=object),
                               {"long_name": "solver message or why the variant failed"}),
        "file": xr.Variable(("scenario",), np.array([(e or {}).get("file") or "" for e in rows], dtype=object),
                            {"long_name": "results file of the variant, relative to the sweep folder"}),
        "t_reached": xr.Variable(("scenario",), np.array([_num((e or {}).get("t_reached")) for e in rows]),
                                 {"units": "s", "long_name": "time the solver reached"}),
        "solver_steps": xr.Variable(("scenario",), np.array([_num((e or {}).get("steps")) for e in rows]),
                                    {"long_name": "solver steps"}),
    }
    for k in kpi_names:
        data[f"kpi.{k}"] = xr.Variable(("scenario",), np.array([_num(((e or {}).get("kpis") or {}).get(k))
                                                                for e in rows]),
                                       {"units": u.get(k, ""), "long_name": DESCRIPTIONS.get(k, k)})
    coords = {"scenario": xr.Variable(("scenario",), np.arange(n), {"long_name": "variant number"})}
    for j, a in enumerate(meta["axes"]):
        coords[a["path"]] = xr.Variable(("scenario",), values[:, j],
                                        {"units": a["unit"] or "1", "long_name": f"swept parameter {a['path']}"})
    ds = xr.Dataset(data, coords=coords, attrs={
        "title": f"twin sweep of {meta['scenario_name']}", "sweep_schema": SCHEMA,
        "scenario_file": meta["scenario_file"], "scenario_sha256": meta["scenario_sha256"],
        "sweep_method": meta["method"], "base_overrides": "\n".join(meta["base_overrides"]),
        "n_done": int((status == "done").sum()), "n_failed": int((status == "failed").sum()),
        "n_pending": int((status == "pending").sum()),
    })
    write_atomic(ds, out / "sweep.nc")
    _write_csv(ds, out / "kpis.csv")
    return ds


def _num(x) -> float:
    return float(x) if x is not None else math.nan


def _write_csv(ds: xr.Dataset, path: Path) -> None:
    import csv

    from twin.results import write_bytes_atomic

    cols = [c for c in ds.coords if c != "scenario"]
    kpis = [v for v in ds.data_vars if v.startswith("kpi.")]
    f = io.StringIO(newline="")
    w = csv.writer(f)
    w.writerow(["scenario", *(f"{c} [{ds[c].attrs.get('units', '')}]" for c in cols), "status",
                *(f"{k[4:]} [{ds[k].attrs.get('units', '')}]" for k in kpis), "message"])
    for i in range(ds.sizes["scenario"]):
        w.writerow([i, *(repr(float(ds[c].values[i])) for c in cols), ds["status"].values[i],
                    *(repr(float(ds[k].values[i])) for k in kpis), ds["message"].values[i]])
    write_bytes_atomic(path, f.getvalue().encode("utf-8"))
