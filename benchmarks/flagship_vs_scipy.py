"""Flagship 72-h run: twin (diffrax, compiled once) against scipy's solve_ivp on the same rhs.

Usage:  python benchmarks/flagship_vs_scipy.py [SCENARIO] [--repeats N] [--out benchmarks/RESULTS.md]

Both integrators get the same right-hand side (the plant's jitted vector field on a flat
state vector), the same tolerances and the same schedule breakpoints: scipy is restarted at
every breakpoint (what a careful user of solve_ivp does with discontinuous forcing), and
BDF/LSODA get the jitted dense Jacobian (jax.jacfwd). Accuracy is compared on the final
state against a tight-tolerance twin reference run. Results are appended to RESULTS.md
with the machine described; nothing here is asserted (speed is not tested in tests/).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

import twin  # noqa: F401  (x64)
import jax
import jax.flatten_util
from scipy.integrate import solve_ivp

from twin.core import solve as S
from twin.scenario.build import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} logical cores, Python {platform.python_version()}, "
            f"jax {jax.__version__} ({jax.default_backend()})")


def twin_run(plant, sc, cfg, repeats):
    sol = S.simulate(plant, sc.duration, sc.output_interval, cfg)
    first = sol.stats["compile_time"] + sol.stats["wall_time"]
    times = []
    for _ in range(repeats):
        s2 = S.simulate(plant, sc.duration, sc.output_interval, cfg)
        times.append(s2.stats["wall_time"])
    return sol, first, min(times), dict(S.LAST_COMPILE)


def scipy_run(plant, sc, method, rtol, atol):
    y0 = plant.initial_state()
    y0f, unravel = jax.flatten_util.ravel_pytree(y0)
    f = jax.jit(lambda t, y: jax.flatten_util.ravel_pytree(plant.vector_field(t, unravel(y)))[0])
    jac = jax.jit(jax.jacfwd(lambda t, y: jax.flatten_util.ravel_pytree(plant.vector_field(t, unravel(y)))[0], 1))
    fn = lambda t, y: np.asarray(f(t, y))  # noqa: E731
    jn = lambda t, y: np.asarray(jac(t, y))  # noqa: E731
    fn(0.0, np.asarray(y0f)), jn(0.0, np.asarray(y0f))  # compile outside the timing
    jt = [float(x) for x in S.jump_times(plant, sc.duration) if x < sc.duration]
    edges = [0.0, *jt, sc.duration]
    y = np.asarray(y0f)
    nfev = njev = 0
    t0 = time.perf_counter()
    for a, b in zip(edges[:-1], edges[1:]):
        kw = {"jac": jn} if method in ("BDF", "LSODA", "Radau") else {}
        r = solve_ivp(fn, (a, b), y, method=method, rtol=rtol, atol=atol, **kw)
        if not r.success:
            raise RuntimeError(f"scipy {method} failed at t={r.t[-1]}: {r.message}")
        y = r.y[:, -1]
        nfev += r.nfev
        njev += getattr(r, "njev", 0) or 0
    return y, time.perf_counter() - t0, nfev, njev


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios/glass_furnace_mould_preheat.yaml"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scipy", default="BDF,LSODA")
    ap.add_argument("--scipy-repeats", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks/RESULTS.md"))
    args = ap.parse_args()

    sc = load_scenario(args.scenario)
    plant, cfg = sc.plant, sc.solver
    sol, first, steady, comp = twin_run(plant, sc, cfg, args.repeats)
    y_twin = np.asarray(jax.flatten_util.ravel_pytree(jax.tree_util.tree_map(np.asarray, sol.y_final))[0])
    import dataclasses
    ref_cfg = dataclasses.replace(cfg, rtol=1e-10, atol=1e-10, max_steps=2_000_000)
    ref = S.simulate(plant, sc.duration, sc.output_interval, ref_cfg)
    y_ref = np.asarray(jax.flatten_util.ravel_pytree(jax.tree_util.tree_map(np.asarray, ref.y_final))[0])
    n_state = y_ref.size

    def err(y):  # worst relative error over the component states (audit integrals excluded)
        nc = len(jax.flatten_util.ravel_pytree(plant.initial_state()["components"])[0])
        return float(np.max(np.abs(y[:nc] - y_ref[:nc]) / (np.abs(y_ref[:nc]) + 1.0)))

    rows = [("twin " + cfg.method, steady, first, sol.stats["num_steps"], "-", err(y_twin))]
    for m in [m for m in args.scipy.split(",") if m]:
        try:
            runs = [scipy_run(plant, sc, m, cfg.rtol, cfg.atol) for _ in range(args.scipy_repeats)]
            y, _, nfev, njev = runs[0]
            wall = min(r[1] for r in runs)  # best of N, like twin's steady time
            rows.append((f"scipy {m}", wall, float("nan"), nfev, njev, err(y)))
        except Exception as exc:  # record a failure rather than lose the other numbers
            rows.append((f"scipy {m}", float("nan"), float("nan"), 0, 0, float("nan")))
            print(f"scipy {m}: {exc}")
    best_scipy = min((r[1] for r in rows[1:] if np.isfinite(r[1])), default=float("nan"))
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True).stdout.strip()
    except OSError:
        rev = "?"
    lines = [
        f"\n## Flagship 72 h vs scipy — {dt.date.today()} (commit {rev})\n",
        f"Machine: {machine()}  ",
        f"Scenario: `{Path(args.scenario).name}`, {n_state} states, rtol {cfg.rtol:g}, atol {cfg.atol:g}, "
        f"{len(S.jump_times(plant, sc.duration))} schedule breakpoints.  ",
        f"twin compile: trace {comp.get('trace', float('nan')):.1f} s + XLA {comp.get('compile', float('nan')):.1f} s "
        f"(first call {first:.1f} s incl. run).\n",
        "| integrator | steady run [s] | first call [s] | steps / rhs evals | Jacobians | max rel. error vs rtol 1e-10 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, wall, fc, n, nj, e in rows:
        fcs = f"{fc:.1f}" if np.isfinite(fc) else "-"
        lines.append(f"| {name} | {wall:.3f} | {fcs} | {n} | {nj} | {e:.1e} |")
    lines.append(f"\nSpeed-up of twin's steady run over scipy's best: **{best_scipy / steady:.1f}x** "
                 f"(twin best of {args.repeats}, scipy best of {args.scipy_repeats}).\n")
    text = "\n".join(lines)
    print(text)
    with open(args.out, "a") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
