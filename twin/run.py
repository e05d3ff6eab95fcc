"""Run a loaded scenario: solve, audit, evaluate checks, and build the results Dataset."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import xarray as xr

from twin.audit import Audit, audit
from twin.core.solve import LAST_COMPILE, Solution, simulate
from twin.kpi import DESCRIPTIONS, kpis, units
from twin.results import to_dataset

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
class RunResult:
    """Everything a run produced."""

    solution: Solution
    audit: Audit
    kpis: dict[str, float]
    checks: list[CheckResult]
    dataset: xr.Dataset
    wall_time: float

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
    report = audit(plant, y0, sol.y_final) if sol.y_final is not None else None
    cfg = scenario.kpi_config
    values = kpis(report, cfg) if report is not None else {}
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
        "solver_trace_time": LAST_COMPILE.get("trace") if sol.stats["compile_time"] else 0.0,
        "checks_passed": int(all(c.passed for c in checks)),
        "second_law_holds": int(report is not None and not report.second_law_violations()),
    }
    ds = to_dataset(plant, sol, report, provenance=provenance) if report is not None else None
    if ds is not None:
        u = units(cfg.currency)
        for k, v in values.items():
            ds[f"kpi.{k}"] = xr.Variable((), np.float64(v), {"units": u[k], "long_name": DESCRIPTIONS[k]})
    return RunResult(sol, report, values, checks, ds, time.perf_counter() - t0)
