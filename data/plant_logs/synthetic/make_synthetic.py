"""Make the synthetic plant log of this folder from its known truth (data/plant_logs/README.md).

Runs ``truth.yaml`` with twin and logs five of its signals the way a plant historian does,
flaws included, so that calibration has a known answer:

* irregular sampling: one logger scan a minute, at a random second (t = 60 k + 30 s +- 20 s;
  the schedules step on whole minutes, so no sample lies within 10 s of a step and the linear
  interpolation of the 10 s model output is exact to 2e-4 K);
* the loggers' units (degC, t/h, kW, %) and resolution (the written digits);
* Gaussian noise of known standard deviation per tag, and a constant bias on TI_101;
* dropouts: a 25 min outage of TI_301 (longer than the map's max_gap: a segment break), a 6 min
  outage of FI_101, and 1 % of the cells empty at random;
* 5 rows sent twice (the repeat with fresh noise) and 4 rows written 2-5 rows late;
* a logger clock 90 s slow (declared in the map as clock_offset: -90 s);
* local timestamps with an explicit offset (CET, +01:00).

Writes ``log.csv``, ``map.yaml`` and ``truth.json`` (the true parameters and every flaw put in)
next to this file, or into ``--out``. Deterministic for a seed, up to the round-off of the solver
on another machine (hidden by the written digits almost always). Then reads the log back with
:func:`twin.logs.read_log` and prints the summary and the residual of each tag against the truth.

    python data/plant_logs/synthetic/make_synthetic.py [--seed 20260302] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from twin.logs import read_log
from twin.run import run_scenario
from twin.scenario.build import load_scenario
from twin.scenario.yamlio import load_yaml
from twin.units import get_registry, parse_quantity

HERE = Path(__file__).resolve().parent
START = pd.Timestamp("2026-03-02T06:00:00+01:00")  # model t = 0
CLOCK_OFFSET = -90.0   # logger clock minus true time [s]: the logger runs 90 s slow
SCANS = 1440           # one scan a minute for 24 h
FITTED = ("boiler.nominal_power", "boiler.envelope_UA", "boiler.water_volume")

#: tag: (model signal, logged unit, sigma [SI], bias [SI], written decimals)
TAGS = {
    "TI_101": ("feed.outlet.T", "degC", 0.2, 0.6, 2),
    "FI_101": ("feed.outlet.m_flow", "t/h", 0.01, 0.0, 3),
    "TI_301": ("boiler.T", "degC", 0.3, 0.0, 2),
    "QI_301": ("boiler.P_input", "kW", 2000.0, 0.0, 1),
    "XI_301": ("boiler.firing", "%", 0.005, 0.0, 1),
}
SPARE = ("PI_301", 3.2, 0.02, 2)  # a column the map leaves out: pressure [bar], noise, decimals

MAP = """\
# Map of the synthetic plant log (written by make_synthetic.py; format: ../README.md).
description: >-
  Synthetic log of truth.yaml: gas-fired hot-water boiler, 24 h, one scan a minute at
  irregular seconds, with noise, a bias on TI_101, dropouts, repeats, late rows and a slow clock.
start: {start}             # model t = 0 (truth.yaml starts here)
time_column: timestamp
clock_offset: {clock:g} s                          # the logger's clock runs 90 s slow
duplicates: mean                             # repeated scans: average them
out_of_order: sort                           # late rows: sort them in
gaps: drop                                   # empty or NaN cells: that tag's sample is missing
max_gap: 10 min                              # a longer outage of a tag ...
long_gaps: split                             # ... is a segment break
window: {{from: 0 h, to: 24 h}}                # the run of truth.yaml
signals:
  TI_101: {{signal: feed.outlet.T, unit: degC, sigma: 0.2 K, bias: fit}}   # feed water, offset unknown
  FI_101: {{signal: feed.outlet.m_flow, unit: t/h, sigma: 0.036 t/h}}
  TI_301: {{signal: boiler.T, unit: degC, sigma: 0.3 K}}                  # boiler outlet
  QI_301: {{signal: boiler.P_input, unit: kW, sigma: 2 kW}}               # gas, LHV
  XI_301: {{signal: boiler.firing, unit: "%", sigma: 0.5 %}}              # burner load
"""


def truth_run(scenario: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Model time [s] and the logged signals [SI] of ``scenario``, saved every 10 s."""
    result = run_scenario(load_scenario(scenario, ["output_interval=10 s"]))
    assert result.ok, result.solution.message
    ds = result.dataset
    return ds["time"].values, {tag: ds[signal].values for tag, (signal, *_) in TAGS.items()}


def make(seed: int, out: Path) -> dict:
    rng = np.random.default_rng(seed)
    time, model = truth_run(HERE / "truth.yaml")
    t = 60.0 * np.arange(SCANS) + 30.0 + rng.integers(-20, 21, SCANS)  # true scan times [s]
    ureg = get_registry()
    si = {"TI_101": "K", "FI_101": "kg/s", "TI_301": "K", "QI_301": "W", "XI_301": "dimensionless"}

    def scan(k: int) -> list[str]:
        cells = []
        for tag, (_, unit, sigma, bias, digits) in TAGS.items():
            x = np.interp(t[k], time, model[tag]) + bias + sigma * rng.standard_normal()
            cells.append(f"{ureg.Quantity(x, si[tag]).to(unit).magnitude:.{digits}f}")
        _, p, sigma, digits = SPARE
        return cells + [f"{p + sigma * rng.standard_normal():.{digits}f}"]

    rows = [scan(k) for k in range(SCANS)]
    col = {tag: i for i, tag in enumerate(TAGS)}
    outage = {"TI_301": (800, 825), "FI_101": (300, 306)}  # scans [first, end)
    for tag, (a, b) in outage.items():
        for k in range(a, b):
            rows[k][col[tag]] = "NaN"
    empty = rng.random((SCANS, len(TAGS))) < 0.01
    for k, j in zip(*np.nonzero(empty)):
        rows[k][j] = ""
    stamps = [(START + pd.Timedelta(seconds=float(tk + CLOCK_OFFSET))).isoformat() for tk in t]
    table = [[stamps[k], *rows[k]] for k in range(SCANS)]
    twice = sorted(rng.choice(np.arange(10, SCANS - 10), 5, replace=False).tolist())
    for k in reversed(twice):  # the repeat comes right after, with fresh noise
        table.insert(k + 1, [stamps[k], *scan(k)])
    late = []
    for _ in range(4):  # a row written 2-5 rows late (never one of the repeats)
        i, shift = int(rng.integers(20, len(table) - 20)), int(rng.integers(2, 6))
        if any(stamps[k] in (table[i][0], table[i + shift][0]) for k in twice):
            continue
        late.append(table[i][0])
        table.insert(i + shift, table.pop(i))

    out.mkdir(parents=True, exist_ok=True)
    header = ["timestamp", *TAGS, SPARE[0]]
    with open(out / "log.csv", "w", newline="") as f:
        f.write(f"# synthetic plant log of truth.yaml, make_synthetic.py --seed {seed}\n")
        f.writelines(",".join(r) + "\n" for r in [header, *table])
    (out / "map.yaml").write_text(MAP.format(start=START.isoformat(), clock=CLOCK_OFFSET))
    data, _ = load_yaml(HERE / "truth.yaml")
    boiler = data["components"]["boiler"]
    dims = {"nominal_power": ("power", "W"), "envelope_UA": ("thermal_conductance", "W/K"),
            "water_volume": ("volume", "m^3")}
    truth = {
        "scenario": "truth.yaml",
        "seed": seed,
        "start": START.isoformat(),
        "parameters": {p: {"value": parse_quantity(boiler[p.split(".")[1]], dims[p.split(".")[1]][0]),
                           "unit": dims[p.split(".")[1]][1], "as_written": boiler[p.split(".")[1]]}
                       for p in FITTED},
        "clock_offset_s": CLOCK_OFFSET,
        "tags": {tag: {"signal": s, "unit": u, "sigma_si": sg, "bias_si": b, "decimals": d}
                 for tag, (s, u, sg, b, d) in TAGS.items()},
        "sampling": "true scan times t = 60 k + 30 s + U{-20..20} s, k = 0..1439 (whole seconds)",
        "scans": SCANS,
        "rows": len(table),
        "outages": {tag: {"from_s": float(t[a]), "to_s": float(t[b - 1])} for tag, (a, b) in outage.items()},
        "empty_cells": int(empty.sum()),
        "repeated_rows": [stamps[k] for k in twice],
        "late_rows": late,
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    truth["_t"], truth["_model"], truth["_time"] = t, model, time
    return truth


def check(out: Path, truth: dict) -> None:
    """Read the log back and compare each tag with the truth at the true scan times."""
    log = read_log(out / "log.csv", out / "map.yaml")
    print(log.describe())
    for tag, s in log.signals.items():
        _, _, sigma, bias, _ = TAGS[tag]
        r = s.values - np.interp(s.t, truth["_time"], truth["_model"][tag])
        print(f"  {tag}: residual mean {r.mean():+.3g}, std {r.std():.3g} (sigma {sigma:g}, bias {bias:g}) [SI]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20260302)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    check(args.out, make(args.seed, args.out))


if __name__ == "__main__":
    main()
