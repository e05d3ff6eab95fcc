"""Run a loaded scenario: solve, audit, evaluate checks, and build the results Dataset."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import xarray as xr

from twin.audit import Audit, audit
from twin.core.solve import LAST_COMPILE, Solution, simulate
from twin.kpi import DESCRIPTIONS, kpis, units
from twin.pinch import RunTargets, composite_curves
from twin.results import to_dataset
from twin.validation.compare import Comparison

DEFAULT_CLOSURE_TOLERANCE = 1e-6


@dataclasses.dataclass
class CheckResult:
    """One scenario check evaluated on a run."""

    kpi: str
    value: float
    min: float | None
    max: float | None
    unit: str = ""

    @property
    def passed(self) -> bool:
        """Within bounds; an undefined (NaN) KPI fails its check."""
        lo = self.min is None or self.value >= self.min
        hi = self.max is None or self.value <= self.max
        return lo and hi

    def describe(self) -> str:
        bounds = " and ".join(b for b in (
            f">= {self.min:g}" if self.min is not None else "",
            f"<= {self.max:g}" if self.max is not None else "") if b)
        return f"{self.kpi} = {self.value:.3g} {self.unit} (required {bounds})"


@dataclasses.dataclass
class SignalCheckResult:
    """A scenario check of a signal against a reference file (funnel or RMSE)."""

    signal: str
    comparison: Comparison | None
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.comparison is not None and self.comparison.passed

    def describe(self) -> str:
        c = self.comparison
        if c is None:
            return f"{self.signal}: {self.message}"
        bound = "RMSE" if c.kind == "rmse" else "largest deviation"
        return f"{self.signal} vs reference: {bound} {c.error:.3g} {c.unit} (required <= {c.tolerance:.3g} {c.unit})"


def _reference_series(path: Path, column: str | None, time_column: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(time [s], values) of a reference file: a CSV with a header row, or a Dymola result."""
    from twin.validation.reference import load_csv, load_dymola

    if path.suffix.lower() == ".csv":
        data = load_csv(path)
        names = list(data)
        t_name = time_column or names[0]
        v_name = column or (names[1] if len(names) > 1 else None)
        for n in (t_name, v_name):
            if n not in data:
                raise ValueError(f"{path}: no column {n!r}; columns: {', '.join(names)}")
        return data[t_name], data[v_name]
    if column is None:
        raise ValueError(f"{path}: name the reference variable with 'column'")
    ref = load_dymola(path)
    return ref.time, ref[column]


def evaluate_signal_checks(scenario, ds: xr.Dataset) -> list[SignalCheckResult]:
    """Judge each ``{compare: ..., reference: ...}`` check of the scenario on the results."""
    from twin.scenario.build import UNIT_DIMENSIONS
    from twin.scenario.schema import SignalCheckModel
    from twin.units import parse_quantity
    from twin.validation.compare import funnel, statistics

    out = []
    for chk in scenario.checks:
        if not isinstance(chk, SignalCheckModel):
            continue
        path = Path(chk.reference)
        if not path.is_absolute():
            path = Path(scenario.path).resolve().parent / path
        try:
            t_ref, y_ref = _reference_series(path, chk.column, chk.time_column)
        except (OSError, ValueError, KeyError) as exc:
            out.append(SignalCheckResult(chk.compare, None, f"reference not readable: {exc}"))
            continue
        var = ds[chk.compare]
        if var.ndim != 1:
            out.append(SignalCheckResult(chk.compare, None, f"is not a scalar signal (dims {var.dims})"))
            continue
        units = var.attrs.get("units", "1")
        tol = parse_quantity(chk.tolerance, UNIT_DIMENSIONS.get(units, "dimensionless"))
        t, y = ds["time"].values, var.values
        try:
            if chk.statistic == "rmse":
                (c,) = statistics(chk.compare, t_ref, y_ref, t, y, rmse_max=tol, unit=units, why=chk.description)
            else:
                c = funnel(chk.compare, t_ref, y_ref, t, y, atol=tol, rtol=chk.relative, dt=chk.time_shift,
                           unit=units, why=chk.description)
        except ValueError as exc:
            out.append(SignalCheckResult(chk.compare, None, str(exc)))
            continue
        out.append(SignalCheckResult(chk.compare, c))
    return out


@dataclasses.dataclass
class RunResult:
    """Everything a run produced."""

    solution: Solution
    audit: Audit
    kpis: dict[str, float]
    checks: list[CheckResult | SignalCheckResult]
    dataset: xr.Dataset
    wall_time: float
    pinch: RunTargets | None = None

    @property
    def second_law_violations(self) -> list[str]:
        """Components that destroyed a negative amount of exergy (see :mod:`twin.audit`)."""
        return self.audit.second_law_violations() if self.audit is not None else []

    @property
    def ok(self) -> bool:
        """Solver succeeded, the second law holds in every component and every check passed."""
        return (self.solution.success and not self.second_law_violations
                and all(c.passed for c in self.checks))


def evaluate_checks(values: dict[str, float], checks, currency: str = "EUR") -> list[CheckResult]:
    """Evaluate scenario checks; energy closure is always checked (default 1e-6)."""
    u = units(currency)
    out = []
    have_closure = False
    for c in checks:
        if not hasattr(c, "kpi"):  # signal checks need the results: evaluate_signal_checks
            continue
        out.append(CheckResult(c.kpi, values[c.kpi], getattr(c, "min", None), getattr(c, "max", None), u[c.kpi]))
        have_closure |= c.kpi == "energy_closure"
    if not have_closure:
        out.append(CheckResult("energy_closure", values["energy_closure"], None, DEFAULT_CLOSURE_TOLERANCE, "1"))
    return out


def run_scenario(scenario) -> RunResult:
    """Solve ``scenario`` (a :class:`twin.scenario.build.Scenario`) and audit it."""
    t0 = time.perf_counter()
    plant = scenario.plant
    y0 = plant.initial_state()
    sol = simulate(plant, scenario.duration, scenario.output_interval, scenario.solver, y0=y0)
    trace = LAST_COMPILE.get("trace") if sol.stats["compile_time"] else 0.0
    return finish_run(scenario, y0, sol, t_start=t0, trace_time=trace)


def finish_run(scenario, y0, sol: Solution, *, stored=None, t_start: float | None = None,
               trace_time: float | None = 0.0, provenance: dict | None = None) -> RunResult:
    """Audit a solved run, compute its KPIs, pinch targets and checks, and build its Dataset.

    Shared by single runs and by each lane of a sweep (:mod:`twin.sweep`), which passes the
    stored energies and exergies it computed on the device (``stored``, see
    :func:`twin.audit.audit`) and its own ``provenance`` attributes.
    """
    t0 = time.perf_counter() if t_start is None else t_start
    plant = scenario.plant
    report = audit(plant, y0, sol.y_final, stored) if sol.y_final is not None else None
    cfg = scenario.kpi_config
    values = kpis(report, cfg) if report is not None else {}
    targets = None
    if report is not None and scenario.pinch is not None:
        targets = pinch_targets(scenario, sol)
        values.update(heat_recovery_target=targets.direct, heat_recovery_target_storage=targets.storage_J,
                      heat_recovery_attainment=targets.attainment)
    checks = evaluate_checks(values, scenario.checks, cfg.currency) if report is not None else []
    provenance = {
        "scenario_name": scenario.name,
        "scenario_file": str(scenario.path),
        "scenario_sha256": scenario.sha256,
        "scenario_text": scenario.text,
        "scenario_overrides": "\n".join(scenario.overrides),
        "solver_method": scenario.solver.method,
        "solver_rtol": scenario.solver.rtol,
        "solver_atol": scenario.solver.atol,
        "solver_trace_time": trace_time,
        "checks_passed": int(all(c.passed for c in checks)),
        "second_law_holds": int(report is not None and not report.second_law_violations()),
        **(provenance or {}),
    }
    ds = to_dataset(plant, sol, report, provenance=provenance) if report is not None else None
    if ds is not None:
        checks += evaluate_signal_checks(scenario, ds)
        ds.attrs["checks_passed"] = int(all(c.passed for c in checks))
    if ds is not None:
        u = units(cfg.currency)
        for k, v in values.items():
            ds[f"kpi.{k}"] = xr.Variable((), np.float64(v), {"units": u[k], "long_name": DESCRIPTIONS[k]})
        if targets is not None:
            ds = ds.assign(pinch_dataset(targets))
    return RunResult(sol, report, values, checks, ds, time.perf_counter() - t0, targets)


def pinch_targets(scenario, sol: Solution) -> RunTargets:
    """Pinch targets of a solved run: the scenario's ``pinch:`` streams, sliced by phase, and
    the heat the plant recovered (``recovery.recovered``) in each slice."""
    ts = np.asarray(sol.ts, dtype=float)
    conns = {k: {q: np.asarray(v, dtype=float) for q, v in d.items()} for k, d in sol.ys["connections"].items()}
    recovered = None
    if scenario.kpi_config.recovered:
        recovered = np.zeros_like(ts)
        for ref in scenario.kpi_config.recovered:
            comp, _, name = ref.partition(".")
            sign = 1.0 if name in scenario.plant.components[comp].tally_names else -1.0  # flows count as they leave
            recovered = recovered + sign * np.asarray(sol.ys["audit"][comp][name], dtype=float)
    return scenario.pinch.targets(ts, conns, recovered)


def pinch_dataset(t: RunTargets) -> dict[str, xr.Variable]:
    """Results-file variables of the pinch targets: per time slice (``pinch_slice``), per
    stream and slice, and the time-average composite curves (for plots)."""
    sl, st = ("pinch_slice",), ("pinch_slice", "pinch_stream")
    a = {"dT_min_K": t.dT_min}
    out = {
        "pinch.slice_start": xr.Variable(sl, t.t_start, {"units": "s", "long_name": "start of the time slice"}),
        "pinch.slice_end": xr.Variable(sl, t.t_end, {"units": "s", "long_name": "end of the time slice"}),
        "pinch.phase": xr.Variable(sl, np.array(t.phase, dtype=object), {"long_name": "production phase of the slice"}),
        "pinch.Q_rec_max": xr.Variable(sl, t.Q_rec_max, {"units": "J", **a,
                                       "long_name": "pinch target of direct heat recovery in the slice"}),
        "pinch.Q_H_min": xr.Variable(sl, t.Q_H_min, {"units": "J", **a, "long_name": "minimum hot utility in the slice"}),
        "pinch.Q_C_min": xr.Variable(sl, t.Q_C_min, {"units": "J", **a, "long_name": "minimum cold utility in the slice"}),
        "pinch.T_pinch_hot": xr.Variable(sl, t.T_pinch_hot, {"units": "K", **a,
                                         "long_name": "hot-stream pinch temperature (NaN: no pinch)"}),
        "pinch.recovered": xr.Variable(sl, t.recovered, {"units": "J", "long_name": "heat the plant recovered in the slice"}),
        "pinch.T_supply": xr.Variable(st, t.T_supply, {"units": "K", "long_name": "mean supply temperature (NaN: idle)"}),
        "pinch.CP": xr.Variable(st, t.CP, {"units": "W/K", "long_name": "heat-capacity flow rate (0: idle)"}),
        "pinch.T_target": xr.Variable(("pinch_stream",), t.T_target, {"units": "K", "long_name": "target temperature"}),
        "pinch.kind": xr.Variable(("pinch_stream",), np.array(t.kind, dtype=object), {"long_name": "hot or cold"}),
    }
    if t.storage is not None:
        (Hh, Th), (Hc, Tc) = composite_curves(t.storage_streams, t.dT_min)
        for side, H, T in (("hot", Hh, Th), ("cold", Hc, Tc)):
            dim = (f"pinch_{side}_point",)
            out[f"pinch.{side}_composite_H"] = xr.Variable(dim, H, {"units": "W", **a,
                                                        "long_name": f"{side} composite curve (run means): heat flow"})
            out[f"pinch.{side}_composite_T"] = xr.Variable(dim, T, {"units": "K", **a,
                                                        "long_name": f"{side} composite curve (run means): temperature"})
    out["pinch_stream"] = xr.Variable(("pinch_stream",), np.array(t.streams, dtype=object),
                                      {"long_name": "pinch stream name"})
    return out
