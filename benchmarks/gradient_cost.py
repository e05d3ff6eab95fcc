"""Cost of one gradient of the flagship's KPIs, as a ratio to one forward run (issue 6).

For p parameters and m outputs the script times, on the same compiled model (:class:`twin.sensitivity.Model`):
one forward run (outputs only), the Jacobian in forward mode (the forward sensitivity
equations: state and p tangents in one solve) and, for the first ``--reverse-params`` sizes,
in reverse mode (diffrax's RecursiveCheckpointAdjoint, m cotangents; its compile is long);
the median of ``--repeat`` warm calls each, the compile times, and XLA's working memory of
each executable (its memory analysis: temporary buffers beyond inputs and outputs). It also
checks forward against reverse. Results go to benchmarks/gradient_cost.json and a Markdown
table on stdout for RESULTS.md.

    python benchmarks/gradient_cost.py [--params 1 2 4 8] [--outputs 1 2] [--repeat 3] [--reverse-params 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

from twin.scenario.build import load_scenario  # noqa: E402
from twin.sensitivity import Model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ["recuperator.UA", "pcm_bank.mass", "oil_heater.UA", "moulds.UA", "pcm_bank.h_conv",
          "furnace.excess_air", "pump.mass_flow", "furnace.wall.h_outer"]
OUTPUTS = ["recapture_rate", "fuel_energy", "energy_cost", "exergy_destroyed"]


def timed(model: Model, kind: str, repeat: int) -> float:
    model._call(kind, model.theta0)  # compile (if needed) and warm
    return statistics.median(model._call(kind, model.theta0)[2] for _ in range(repeat))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default=str(ROOT / "scenarios/glass_furnace_mould_preheat.yaml"))
    ap.add_argument("--params", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--outputs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reverse-params", type=int, nargs="*", default=[1],
                    help="parameter counts at which reverse mode is also measured")
    ap.add_argument("--json", default=str(ROOT / "benchmarks/gradient_cost.json"))
    a = ap.parse_args()
    sc = load_scenario(a.scenario)
    rows = []
    for m in a.outputs:
        for p in a.params:
            model = Model(sc, PARAMS[:p], OUTPUTS[:m], mode="forward")
            t_value = timed(model, "value", a.repeat)
            t_fwd = timed(model, "forward", a.repeat)
            y, J_fwd, _, steps = model._call("forward", model.theta0)
            t_rev, fwd_vs_rev = float("nan"), float("nan")
            if p in a.reverse_params:
                t_rev = timed(model, "reverse", a.repeat)
                _, J_rev, _, _ = model._call("reverse", model.theta0)
                scale = np.abs(J_fwd).max(axis=1, keepdims=True)
                fwd_vs_rev = float(np.max(np.abs(J_fwd - J_rev) / scale))
            rows.append(dict(p=p, m=m, steps=steps, forward_run_s=t_value, jac_forward_s=t_fwd,
                             jac_reverse_s=t_rev, ratio_forward=t_fwd / t_value, ratio_reverse=t_rev / t_value,
                             memory_bytes=dict(model.memory), compile_s=model.compile_time,
                             fwd_vs_rev=fwd_vs_rev))
            print(json.dumps(rows[-1]), flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    meta = dict(machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                device=str(jax.devices()[0]), jax=jax.__version__, commit=commit, scenario=sc.name,
                date=time.strftime("%Y-%m-%d"), params=PARAMS, outputs=OUTPUTS)
    Path(a.json).write_text(json.dumps(dict(meta=meta, rows=rows), indent=1))
    print(f"\n| p | m | steps | forward run [s] | Jacobian, forward mode [s] (x run) | Jacobian, reverse mode [s] (x run) "
          "| XLA working memory value / fwd / rev [MB] | fwd vs rev |\n|---|---|---|---|---|---|---|---|")
    for r in rows:
        mem = r["memory_bytes"]
        mb = " / ".join("-" if mem.get(k) is None else f"{mem[k] / 1e6:.1f}" for k in ("value", "forward", "reverse"))
        print(f"| {r['p']} | {r['m']} | {r['steps']} | {r['forward_run_s']:.3f} | {r['jac_forward_s']:.3f} "
              f"({r['ratio_forward']:.1f}x) | {r['jac_reverse_s']:.3f} ({r['ratio_reverse']:.1f}x) | {mb} | {r['fwd_vs_rev']:.1e} |")


if __name__ == "__main__":
    main()
