"""Batched sweep throughput: twin's vmapped chunks against a Python loop and scipy, in one process.

Usage::

    python benchmarks/sweep_throughput.py [--scenario FILE] [--batches 1,16,64,256,1024]
        [--loop 16] [--scipy 4] [--time-budget SECONDS] [--out benchmarks/RESULTS.md] [--json FILE]

What is measured (all on the same variants: a Latin hypercube over 2-3 scenario parameters,
``--vary``, outputs every ``--output-interval``, the scenario's solver settings):

* **twin batched** (:mod:`twin.sweep.batch`): for each chunk size B, the vmapped solve is
  compiled (trace and XLA compile seconds, XLA's memory estimate of the executable), then one
  chunk of B *distinct* variants is solved (``--repeats`` chunks, each of new variants; the
  best is kept). ``wall`` is ``solve_chunk``'s own device time (dispatch to outputs on the
  host); runs/s = B / wall. Steps: the mean and largest adaptive step count of the lanes;
  lock-step waste = 1 - mean/max (vmapped while-loops run every lane until the slowest one
  is done).
* **Python loop**: ``twin.core.solve.simulate`` on each of ``--loop`` variants, each loaded
  with ``load_scenario(path, overrides)`` outside the timing; compiled once (first call),
  then every variant timed (the device solve, as ``simulate`` reports it; the whole call
  including host conversion is kept in the JSON).
* **scipy**: ``solve_ivp`` (``--scipy-method``, LSODA by default: the faster scipy method on
  the flagship) on ``--scipy`` variants, through ``scipy_run`` of ``flagship_vs_scipy.py``
  (same jitted rhs and Jacobian, restarted at the schedule breakpoints; the jit compile is
  outside the timing). Its right-hand side runs on the CPU backend even on a GPU machine.
* **agreement**: every lane whose variant was also run solo in the loop is compared with the
  solo run: the largest ``|lane - solo| / (|solo| + 1)`` over the final state (components and
  audit integrals) and the largest step-count difference. The adaptive step sequence of the
  flagship is sensitive to rounding (a 1-ulp change of one parameter or of the initial state
  can change the step count by a few percent and the final state by about 10 x rtol), so the
  same difference between two *solo* runs is measured too (``--noise``: the initial state
  computed under ``jax.jit`` instead of eagerly, which often differs in the last bit), and
  lanes and solo runs of ``--reference`` variants are both compared with a run at
  rtol = atol = ``--reference-tol``: lanes agree with solo runs when their differences are of
  the noise floor's size and they are as close to the reference as the solo runs.

Nothing is asserted. ``--time-budget`` (seconds since start) skips the larger B values when
the estimate from the previous B (its compile time + its wall x B/B_prev) would overrun it;
``--stop-after-wall`` skips them once one chunk's wall reached that many seconds. With several
local devices B is rounded up to a multiple of their number (the lanes are sharded).

Environment: ``TWIN_X64=0`` runs twin in float32 (benchmarking only, see twin/_config.py; the
scipy baseline and the reference runs are then skipped); ``TWIN_CACHE_DIR`` is the persistent
compilation cache (``--cold`` turns it off, so compile times are cold compiles).

On a GPU, keep the baselines small (a single flagship run takes about 17 s there, a compile
about 30-50 s; RESULTS.md) and let the budget drop what does not fit, e.g.::

    python benchmarks/sweep_throughput.py --batches 256,4096,16384 --loop 2 --scipy 0 \
        --reference 0 --time-budget 420 --json sweep_gpu.json
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (str(ROOT), str(ROOT / "benchmarks")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

DEFAULT_VARY = ["recuperator.UA=400 W/K..800 W/K", "pcm_bank.mass=20 t..60 t",
                "furnace.firing_rate=6 MW..8 MW"]
T_START = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T_START:7.1f} s] {msg}", flush=True)


def load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def git_rev() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10).stdout.strip() or "?"
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "twin"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    if not dirty:
        return rev
    import hashlib

    h = hashlib.sha256()
    for f in sorted((ROOT / "twin").rglob("*.py")):
        h.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes())
    return f"{rev} + uncommitted changes in twin/ (sha256 of twin/**/*.py {h.hexdigest()[:12]})"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios/glass_furnace_mould_preheat.yaml"))
    ap.add_argument("--batches", default="1,16,64,256,1024", help="chunk sizes B, comma separated")
    ap.add_argument("--loop", type=int, default=16, help="single simulate runs in the Python-loop baseline")
    ap.add_argument("--scipy", type=int, default=4, help="solve_ivp runs in the scipy baseline (0: none)")
    ap.add_argument("--scipy-method", default="LSODA")
    ap.add_argument("--noise", type=int, default=-1,
                    help="rerun this many loop variants (-1: all) from an initial state rounded differently "
                         "(1 ulp): the solo-vs-solo noise floor the lane-vs-solo differences are judged against")
    ap.add_argument("--reference", type=int, default=4,
                    help="tight-tolerance reference runs of this many loop variants, so lanes and solo runs "
                         "are both judged against the exact solution (0: none; skipped in float32)")
    ap.add_argument("--reference-tol", type=float, default=1e-10, help="rtol = atol of the reference runs")
    ap.add_argument("--vary", action="append", default=None,
                    help=f"swept parameter PATH=LOW..HIGH (repeatable; default {DEFAULT_VARY})")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output-interval", type=float, default=3600.0, help="saved outputs every ... [s]")
    ap.add_argument("--repeats", type=int, default=1, help="steady chunks per B (new variants each; best kept)")
    ap.add_argument("--time-budget", type=float, default=None,
                    help="seconds since start; skip larger B whose estimated time would overrun it")
    ap.add_argument("--stop-after-wall", type=float, default=None,
                    help="skip larger B once one chunk's steady wall reached this many seconds")
    ap.add_argument("--cold", action="store_true", help="persistent compilation cache off (cold compiles)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/RESULTS.md"), help="markdown appended here ('' : none)")
    ap.add_argument("--json", default=None, help="also write the raw numbers to this file")
    ap.add_argument("--note", default="", help="free text added to the markdown (e.g. what else ran)")
    return ap.parse_args(argv)


def flat(tree):
    import jax
    import jax.flatten_util
    import numpy as np

    return np.asarray(jax.flatten_util.ravel_pytree(jax.tree_util.tree_map(np.asarray, tree))[0], dtype=float)


def diff_where(a, b) -> tuple[float, str]:
    """Largest ``|a - b| / (|b| + 1)`` over two pytrees of one structure, and the state it is in."""
    import jax
    import numpy as np

    worst, where = 0.0, ""
    for (path, x), y in zip(jax.tree_util.tree_flatten_with_path(a)[0], jax.tree_util.tree_leaves(b)):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.shape != y.shape:
            return float("nan"), jax.tree_util.keystr(path) + " (shapes differ)"
        if x.size == 0:
            continue
        d = np.abs(x - y) / (np.abs(y) + 1.0)
        k = int(np.argmax(np.where(np.isnan(d), np.inf, d)))
        if not np.isfinite(d.flat[k]) or d.flat[k] > worst:
            worst = float(d.flat[k])
            where = jax.tree_util.keystr(path) + (f"[{k}]" if x.size > 1 else "")
            if not np.isfinite(worst):
                break
    return worst, where


def summary(what: str, items: list) -> dict:
    """One row of the agreement table from (difference, state, step-count difference) items."""
    if not items:
        return dict(what=what, n=0, max=None, median=None, where="", dsteps=None)
    k = max(range(len(items)), key=lambda j: items[j][0])
    ds = [it[2] for it in items if it[2] is not None]
    return dict(what=what, n=len(items), max=items[k][0], median=float(sorted(it[0] for it in items)[len(items) // 2]),
                where=items[k][1], dsteps=max(ds) if ds else None)


def main(argv=None):
    args = parse_args(argv)
    if args.cold:
        os.environ["TWIN_CACHE_DIR"] = "off"
    batches = sorted({int(b) for b in args.batches.split(",") if b.strip()})
    if not batches or batches[0] < 1:
        raise SystemExit("--batches: positive integers, e.g. 1,16,64")

    import numpy as np

    import twin  # noqa: F401  (x64 / float32, compilation cache)
    import jax
    import jax.numpy as jnp

    from flagship_vs_scipy import machine, scipy_run
    from twin.core import solve as S
    from twin.scenario.build import load_scenario
    from twin.sweep import batch
    from twin.sweep.spec import latin_hypercube, parse_vary

    def save(res):
        """The raw numbers so far (rewritten after every phase: a run killed at its time limit keeps them)."""
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=1, default=_json), encoding="utf-8")

    dev = jax.devices()[0]
    n_dev = len(jax.local_devices())
    dtype = str(jnp.asarray(1.0).dtype)
    cache = os.environ.get("TWIN_CACHE_DIR", "~/.cache/twin/jax (default)")
    env = dict(machine=machine(), backend=jax.default_backend(), device=dev.device_kind,
               devices=n_dev, dtype=dtype, jax=jax.__version__, python=platform.python_version(),
               commit=git_rev(), date=str(dt.date.today()), compilation_cache=cache,
               load_start=load(), argv=sys.argv[1:] if argv is None else list(argv))
    log(f"machine: {env['machine']}; device {env['device']} x{n_dev}; {dtype}; commit {env['commit']}; "
        f"load {env['load_start']}; compilation cache {cache}")

    # ---------------------------------------------------------------- variants and plan
    if n_dev > 1:  # lanes are sharded over the local devices
        batches = sorted({int(math.ceil(b / n_dev)) * n_dev for b in batches})
    axes = parse_vary(args.vary or DEFAULT_VARY)
    n_var = max(max(batches) * max(args.repeats, 1), args.loop, args.scipy, 1)
    V = latin_hypercube(axes, n_var, seed=args.seed)
    t0 = time.perf_counter()
    pl = batch.plan(args.scenario, V)
    t_plan = time.perf_counter() - t0
    if len(pl.groups) != 1 or pl.invalid:
        raise SystemExit(f"plan: {len(pl.groups)} groups, {len(pl.invalid)} invalid variants ({pl.note}); "
                         "this benchmark wants one structure")
    g = pl.groups[0]
    if pl.note != "affine":
        log(f"WARNING: the plan is not affine ({pl.note}): every variant was loaded (the plan time above)")
    base = pl.base
    cfg = base.solver
    ts = batch.output_times(base.duration, args.output_interval)
    n_state = flat(base.plant.initial_state()).size
    log(f"plan '{pl.note}' in {t_plan:.1f} s: {len(V)} variants of {', '.join(a.path for a in axes)}; "
        f"{n_state} states, {ts.size} output times, {cfg.method} rtol {cfg.rtol:g}")
    res = dict(env=env, scenario=str(args.scenario), axes=[dataclasses.asdict(a) for a in axes],
               n_state=n_state, n_out=int(ts.size), output_interval=args.output_interval,
               solver=dataclasses.asdict(cfg), plan=dict(note=pl.note, seconds=t_plan), loop=None, scipy=None,
               batched=[], skipped=[], agreement=[])

    # ---------------------------------------------------------------- Python loop of single runs
    solo, reference = {}, {}
    if args.loop > 0:
        log(f"Python loop: loading {args.loop} variants")
        t0 = time.perf_counter()
        scs = {i: load_scenario(args.scenario, V.overrides(i)) for i in range(args.loop)}
        t_load = (time.perf_counter() - t0) / args.loop
        c0 = S.COMPILE_COUNT
        first = S.simulate(scs[0].plant, base.duration, args.output_interval, scs[0].solver)
        comp = dict(S.LAST_COMPILE)
        log(f"loop: compiled in {first.stats['compile_time']:.1f} s (trace {comp.get('trace', float('nan')):.1f} "
            f"+ XLA {comp.get('compile', float('nan')):.1f}); timing {args.loop} runs")
        walls, calls, steps = [], [], []
        for i, sc in scs.items():
            t0 = time.perf_counter()
            sol = S.simulate(sc.plant, base.duration, args.output_interval, sc.solver)
            calls.append(time.perf_counter() - t0)
            walls.append(sol.stats["wall_time"])
            steps.append(sol.stats["num_steps"])
            if not sol.success:
                log(f"  loop variant {i}: {sol.message}")
            solo[i] = sol
        res["loop"] = dict(n=args.loop, compile=first.stats["compile_time"], trace=comp.get("trace"),
                           xla=comp.get("compile"), compiles=S.COMPILE_COUNT - c0, load_per_variant=t_load,
                           walls=walls, calls=calls, steps=steps, wall=float(sum(walls)),
                           runs_per_s=args.loop / sum(walls), call_runs_per_s=args.loop / sum(calls),
                           mean_steps=float(np.mean(steps)), max_steps=int(max(steps)), load=load())
        log(f"loop: {args.loop} runs in {sum(walls):.2f} s device ({sum(calls):.2f} s whole calls) -> "
            f"{res['loop']['runs_per_s']:.2f} runs/s; steps {np.mean(steps):.0f} mean / {max(steps)} max; "
            f"{S.COMPILE_COUNT - c0} compile(s); load {load()}")

        # the noise floor: the same solo run from an initial state rounded differently
        # (computed under jit: it differs from the eager one in the last bit of a few entries)
        noise = []
        init = jax.jit(lambda p: p.initial_state())
        for i in list(scs)[: (len(scs) if args.noise < 0 else args.noise)]:
            sol = S.simulate(scs[i].plant, base.duration, args.output_interval, scs[i].solver, y0=init(scs[i].plant))
            if sol.y_final is not None and solo[i].y_final is not None:
                noise.append((*diff_where(sol.y_final, solo[i].y_final),
                              abs(sol.stats["num_steps"] - solo[i].stats["num_steps"])))
        if noise:
            res["agreement"].append(summary("solo vs solo, initial states 1 ulp apart (noise floor)", noise))
            log(f"noise floor: {len(noise)} solo reruns from a 1-ulp different y0: final state max rel diff "
                f"{max(x[0] for x in noise):.1e}, step counts differ by up to {max(x[2] for x in noise)}")

        # reference runs at a tight tolerance: how far solo runs (and lanes) are from the solution
        n_ref = min(max(args.reference, 0), len(scs))
        if n_ref and dtype != "float64":
            log(f"reference runs skipped: {dtype} cannot resolve rtol {args.reference_tol:g}")
        elif n_ref:
            ref_cfg = dataclasses.replace(cfg, rtol=args.reference_tol, atol=args.reference_tol,
                                          max_steps=max(cfg.max_steps, 2_000_000))
            t0 = time.perf_counter()
            items = []
            for i in list(scs)[:n_ref]:
                sol = S.simulate(scs[i].plant, base.duration, args.output_interval, ref_cfg)
                if sol.success and solo[i].y_final is not None:
                    reference[i] = sol.y_final
                    items.append((*diff_where(solo[i].y_final, sol.y_final), None))
                else:
                    log(f"  reference run of variant {i}: {sol.message}")
            res["agreement"].append(summary(f"solo vs reference (rtol = atol = {args.reference_tol:g})", items))
            log(f"reference: {len(items)} runs at rtol {args.reference_tol:g} in {time.perf_counter() - t0:.1f} s "
                f"(compile included); solo error max {max((x[0] for x in items), default=float('nan')):.1e}")

    save(res)

    # ---------------------------------------------------------------- scipy loop
    if args.scipy > 0 and dtype != "float64":
        log(f"scipy baseline skipped: twin runs in {dtype} here (TWIN_X64=0), and solve_ivp at rtol "
            f"{cfg.rtol:g} on a {dtype} right-hand side thrashes (on the flagship: 9338 Jacobians, 244 s); "
            "measure it in a float64 run")
        res["scipy_skipped"] = f"twin in {dtype}"
    elif args.scipy > 0:
        log(f"scipy {args.scipy_method}: {args.scipy} runs (jit compile of rhs/Jacobian per variant, untimed)")
        walls, nfev, njev, diffs = [], [], [], []
        cpu = None
        try:
            cpu = jax.devices("cpu")[0]
        except RuntimeError:
            pass
        for i in range(args.scipy):
            sc = load_scenario(args.scenario, V.overrides(i))
            try:
                if cpu is not None:
                    with jax.default_device(cpu):
                        y, wall, nf, nj = scipy_run(sc.plant, sc, args.scipy_method, cfg.rtol, cfg.atol)
                else:
                    y, wall, nf, nj = scipy_run(sc.plant, sc, args.scipy_method, cfg.rtol, cfg.atol)
            except Exception as exc:  # record the failure, keep the other numbers
                log(f"  scipy variant {i}: {exc!r}")
                continue
            walls.append(wall)
            nfev.append(nf)
            njev.append(nj)
            if i in solo and solo[i].y_final is not None:
                ref = flat(solo[i].y_final)
                diffs.append(float(np.max(np.abs(np.asarray(y) - ref) / (np.abs(ref) + 1.0))))
            log(f"  scipy variant {i}: {wall:.2f} s, {nf} rhs evals, {nj} Jacobians")
        if walls:
            res["scipy"] = dict(method=args.scipy_method, n=len(walls), walls=walls, wall=float(sum(walls)),
                                runs_per_s=len(walls) / sum(walls), nfev=nfev, njev=njev,
                                max_rel_diff_vs_twin=max(diffs) if diffs else None, load=load())
            log(f"scipy: {len(walls)} runs in {sum(walls):.2f} s -> {res['scipy']['runs_per_s']:.2f} runs/s; "
                f"final state vs twin solo {res['scipy']['max_rel_diff_vs_twin']}; load {load()}")

    save(res)

    # ---------------------------------------------------------------- twin batched
    prev = None
    for B in batches:
        elapsed = time.perf_counter() - T_START
        if prev is not None:
            est = prev["compile"] + prev["wall"] * B / prev["B"] * max(args.repeats, 1)
            why = None
            if args.stop_after_wall is not None and prev["wall"] >= args.stop_after_wall:
                why = f"B={prev['B']} took {prev['wall']:.0f} s >= --stop-after-wall {args.stop_after_wall:g} s"
            elif args.time_budget is not None and elapsed + est > args.time_budget:
                why = (f"estimated {est:.0f} s (compile {prev['compile']:.0f} s + wall scaled from B={prev['B']}) "
                       f"would overrun --time-budget {args.time_budget:g} s at {elapsed:.0f} s")
            if why:
                log(f"B={B}: skipped: {why}")
                res["skipped"].append(dict(B=B, why=why))
                continue
        rows0 = np.arange(B)
        jt = batch.lane_jump_times(g, V, rows0, float(ts[-1]))
        c0 = batch.COMPILE_COUNT
        t0 = time.perf_counter()
        try:
            batch.compiled_lanes(g, B, ts, jnp.asarray(jt), cfg)
        except Exception as exc:  # e.g. out of device memory: keep what was measured
            log(f"B={B}: compile failed: {exc!r}"[:2000])
            res["skipped"].append(dict(B=B, why=f"compile failed: {type(exc).__name__}"))
            break
        t_comp = time.perf_counter() - t0
        lc = dict(batch.LAST_COMPILE) if batch.COMPILE_COUNT > c0 else {}
        mem = lc.get("bytes")
        log(f"B={B}: compiled in {t_comp:.1f} s (trace {lc.get('trace', float('nan')):.1f} + XLA "
            f"{lc.get('compile', float('nan')):.1f}); executable memory "
            f"{'%.1f MB' % (mem / 1e6) if mem is not None else 'n/a'}")
        best = None
        for r in range(max(args.repeats, 1)):
            rows = np.arange(r * B, (r + 1) * B)
            t0 = time.perf_counter()
            try:
                lanes, info = batch.solve_chunk(g, V, rows, B, ts, cfg)
            except Exception as exc:  # e.g. out of device memory: keep what was measured
                log(f"B={B}: solve failed: {exc!r}"[:2000])
                break
            call = time.perf_counter() - t0
            info.update(call=call, rows=[int(rows[0]), int(rows[-1])],
                        failed=sum(not lane.success for lane in lanes))
            vs_solo, vs_ref = [], []
            for lane in lanes:
                if not lane.ts.size:
                    continue
                y1 = jax.tree_util.tree_map(lambda a: np.asarray(a)[-1], lane.ys)
                s = solo.get(lane.variant)
                if s is not None and s.y_final is not None:
                    vs_solo.append((*diff_where(y1, s.y_final), abs(lane.steps - s.stats["num_steps"])))
                if lane.variant in reference:
                    vs_ref.append((*diff_where(y1, reference[lane.variant]), None))
            agree = [x[0] for x in vs_solo]
            info.update(agree_n=len(agree), agree_max_rel_diff=max(agree) if agree else None,
                        agree_max_dsteps=max(x[2] for x in vs_solo) if vs_solo else None)
            if r == 0:
                if vs_solo:
                    res["agreement"].append(summary(f"lanes of B = {B} vs their solo runs", vs_solo))
                if vs_ref:
                    res["agreement"].append(summary(f"lanes of B = {B} vs reference", vs_ref))
            log(f"B={B} chunk {r + 1}: wall {info['wall']:.2f} s (whole call {call:.2f} s) -> "
                f"{B / info['wall']:.2f} runs/s; steps {info['mean_steps']:.0f} mean / {info['max_steps']} max, "
                f"lock-step waste {info['lockstep_waste']:.1%}; {info['failed']} failed; vs solo "
                f"({len(agree)} lanes): max rel diff {info['agree_max_rel_diff']}, step counts differ by up to "
                f"{info['agree_max_dsteps']}; load {load()}")
            if best is None or info["wall"] < best["wall"]:
                best = info
        if best is None:
            res["skipped"].append(dict(B=B, why="solve failed (see the log)"))
            break
        peak = None
        try:
            stats = dev.memory_stats()
            peak = stats.get("peak_bytes_in_use") if stats else None
        except Exception:  # CPU backends may not implement it
            peak = None
        prev = dict(B=B, compile=t_comp, trace=lc.get("trace"), xla=lc.get("compile"), bytes=mem,
                    compiled_now=batch.COMPILE_COUNT - c0, device_peak_bytes=peak, runs_per_s=B / best["wall"],
                    **{k: v for k, v in best.items() if k not in ("B",)}, load=load())
        res["batched"].append(prev)
        save(res)

    res["env"]["load_end"] = load()
    res["total_s"] = time.perf_counter() - T_START
    save(res)  # first: the numbers survive a fault in the formatting below
    if args.json:
        log(f"raw numbers in {args.json}")
    text = markdown(res, args)
    print(text, flush=True)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(text)
        log(f"appended to {args.out}")


def _json(x):
    import numpy as np

    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    return str(x)


def _f(x, fmt="{:.2f}", none="-"):
    return none if x is None or (isinstance(x, float) and not math.isfinite(x)) else fmt.format(x)


def markdown(res, args) -> str:
    import numpy as np

    e = res["env"]
    loop, sp = res["loop"], res["scipy"]
    lps = loop["runs_per_s"] if loop else None
    sps = sp["runs_per_s"] if sp else None
    ax = ", ".join(f"{a['path']} {a['low']:g}..{a['high']:g} {a['unit']}" for a in res["axes"])
    lines = [
        f"\n## Sweep throughput: batched (vmap) vs Python loop vs scipy — {e['date']} (commit {e['commit']})\n",
        f"Machine: {e['machine']}; device `{e['device']}` x{e['devices']} ({e['backend']}), {e['dtype']}.  ",
        f"Load average (1/5/15 min) at start {e['load_start']}, at end {e['load_end']}"
        + (f"; {args.note}" if args.note else "") + ".  ",
        f"Scenario `{Path(res['scenario']).name}`, {res['n_state']} states, {res['solver']['method']} "
        f"rtol {res['solver']['rtol']:g}, outputs every {res['output_interval'] / 3600:g} h ({res['n_out']} times); "
        f"variants: Latin hypercube over {ax} (plan: {res['plan']['note']}, {res['plan']['seconds']:.1f} s).  ",
        f"Compilation cache: {e['compilation_cache']}. Command: `python benchmarks/sweep_throughput.py "
        f"{shlex.join(e['argv'])}`.\n",
        ("| run | compile [s] (trace + XLA) | executable memory [MB] | steady wall [s] | runs/s | vs Python loop "
         "| vs scipy loop | steps mean / max | lock-step waste | lanes vs solo: max rel. diff (n lanes) |"),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    if loop:
        lines.append(
            f"| Python loop, {loop['n']} x `simulate` | {loop['compile']:.1f} ({_f(loop['trace'], '{:.1f}')} + "
            f"{_f(loop['xla'], '{:.1f}')}) | - | {loop['wall']:.2f} | {lps:.2f} | 1.0x | "
            f"{_f(lps / sps if sps else None, '{:.1f}x')} | {loop['mean_steps']:.0f} / {loop['max_steps']} | - | - |")
    if sp:
        lines.append(
            f"| scipy {sp['method']}, {sp['n']} x `solve_ivp` | - | - | {sp['wall']:.2f} | {sps:.2f} | "
            f"{_f(sps / lps if lps else None, '{:.2f}x')} | 1.0x | {np.mean(sp['nfev']):.0f} rhs evals | - | "
            f"vs twin solo: {_f(sp['max_rel_diff_vs_twin'], '{:.1e}')} |")
    for b in res["batched"]:
        rps = b["runs_per_s"]
        comp = (f"{b['compile']:.1f} ({_f(b['trace'], '{:.1f}')} + {_f(b['xla'], '{:.1f}')})"
                if b["compiled_now"] else f"{b['compile']:.1f} (cached)")
        agree = f"{_f(b['agree_max_rel_diff'], '{:.1e}')} ({b['agree_n']})" if b["agree_n"] else "-"
        lines.append(
            f"| twin batched, B = {b['B']} | {comp} | {_f(b['bytes'] / 1e6 if b['bytes'] else None, '{:.1f}')} | "
            f"{b['wall']:.2f} | {rps:.2f} | {_f(rps / lps if lps else None, '{:.2f}x')} | "
            f"{_f(rps / sps if sps else None, '{:.1f}x')} | {b['mean_steps']:.0f} / {b['max_steps']} | "
            f"{b['lockstep_waste']:.1%} | {agree} |")
    for s in res["skipped"]:
        lines.append(f"| twin batched, B = {s['B']} | skipped: {s['why']} | | | | | | | | |")
    if res["agreement"]:
        lines += ["", "Final states compared (largest |Δ|/(|y|+1) over all states, the state where it is, and the "
                  "largest step-count difference):", "",
                  "| comparison | n | max rel. diff | median | worst state | max Δ steps |",
                  "| --- | ---: | ---: | ---: | --- | ---: |"]
        for a in res["agreement"]:
            lines.append(f"| {a['what']} | {a['n']} | {_f(a['max'], '{:.1e}')} | {_f(a['median'], '{:.1e}')} | "
                         f"{'`%s`' % a['where'] if a['where'] else '-'} | {_f(a['dsteps'], '{}')} |")
    lines.append("")
    lines.append(reading(res))
    return "\n".join(lines) + "\n"


def reading(res) -> str:
    """A factual paragraph from the numbers (the author may add to it)."""
    b = res["batched"]
    loop, sp = res["loop"], res["scipy"]
    if not b:
        return "No batched chunk was run."
    best = max(b, key=lambda x: x["runs_per_s"])
    b1 = next((x for x in b if x["B"] == min(y["B"] for y in b)), b[0])
    parts = [f"Reading: the best batched throughput is {best['runs_per_s']:.2f} runs/s at B = {best['B']}"]
    if loop:
        r = best["runs_per_s"] / loop["runs_per_s"]
        parts.append(f" ({r:.2f}x the Python loop of single compiled runs, {loop['runs_per_s']:.2f} runs/s"
                     + (f"; {best['runs_per_s'] / sp['runs_per_s']:.1f}x scipy {sp['method']}" if sp else "") + ")")
        parts.append(". " + ("vmap beats the loop" if r > 1.1 else "vmap does not beat the loop" if r < 0.9
                             else "vmap and the loop are on par") + f" on this {res['env']['backend']} device")
    big = max(b, key=lambda x: x["B"])
    if big["B"] != b1["B"]:
        parts.append(f"; the wall per run is {b1['wall'] / b1['B']:.2f} s at B = {b1['B']} and "
                     f"{big['wall'] / big['B']:.2f} s at B = {big['B']}")
    parts.append(". ")
    wastes = ", ".join(f"{x['lockstep_waste']:.0%} at B = {x['B']}" for x in b)
    parts.append(f"Lock-step waste (lanes idle while the slowest lane of the chunk still steps): {wastes}. ")
    rows = {a["what"]: a for a in res["agreement"]}
    lanes_solo = [a for a in res["agreement"] if a["what"].endswith("vs their solo runs") and a["n"]]
    lanes_ref = [a for a in res["agreement"] if a["what"].endswith("vs reference") and a["n"] and
                 a["what"].startswith("lanes")]
    noise = next((a for w, a in rows.items() if w.startswith("solo vs solo") and a["n"]), None)
    solo_ref = next((a for w, a in rows.items() if w.startswith("solo vs reference") and a["n"]), None)
    if lanes_solo:
        worst = max(a["max"] for a in lanes_solo)
        parts.append(f"Lanes vs their solo runs: final states within {worst:.1e} "
                     f"(|Δ|/(|y|+1), {sum(a['n'] for a in lanes_solo)} lane comparisons)")
        if noise:
            parts.append(f"; two solo runs whose initial states differ in the last bit differ by up to "
                         f"{noise['max']:.1e} and {noise['dsteps']} steps"
                         + (" (the adaptive step sequence is rounding-sensitive)" if noise["dsteps"] else ""))
        if solo_ref and lanes_ref:
            lr = max(a["max"] for a in lanes_ref)
            parts.append(f"; against a reference at rtol {solo_ref['what'].split('= ')[-1].rstrip(')')} the solo "
                         f"runs are off by up to {solo_ref['max']:.1e} and the lanes by up to {lr:.1e}, so the "
                         + ("lanes are as accurate as solo runs" if lr <= 2 * solo_ref["max"]
                            else "lanes are LESS accurate than solo runs"))
        parts.append(".")
    return "".join(parts)


if __name__ == "__main__":
    main()
