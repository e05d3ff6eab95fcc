"""Bounded, constrained design and operation optimisation with exact gradients (``twin optimize``).

The problem
-----------
Minimise (or maximise) one output of a scenario, a KPI such as ``energy_cost`` or a signal
at a time, over parameters θ within bounds [θ_lo, θ_hi], subject to inequality constraints on
other outputs (``furnace.T_load@20 h >= 1420 degC``, ``co2_mass <= 300 t``). Equipment can
carry an annualised capital cost per unit of its parameter (``--capital pcm_bank.mass="0.05
EUR/kg/a"``), prorated over the run: the objective becomes energy cost plus capital cost, and
minimising it maximises the net savings against the starting design.

The method
----------
Sequential least squares programming (SLSQP, Kraft 1988, as in :func:`scipy.optimize.minimize`)
with the exact objective and constraint gradients of :class:`twin.sensitivity.Model` (one
compiled model gives all outputs and their Jacobian per call). SQP handles bounds and
non-linear inequality constraints natively and converges in tens of evaluations on smooth
problems of a few to a few dozen parameters, each evaluation being a whole 72-h simulation;
first-order methods (optax) would need hundreds, and optimistix's minimisers take no
constraints. Parameters are scaled to [0, 1] over their bounds and the objective and each
constraint by their magnitude at the start, so that the tolerances mean the same thing for a
UA in W/K and a mass in kg.

References
----------
.. [1] D. Kraft, "A software package for sequential quadratic programming", DFVLR-FB 88-28, 1988.
.. [2] J. Nocedal, S. J. Wright, *Numerical Optimization*, 2nd ed., Springer 2006, ch. 18.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence

import numpy as np

from twin.scenario.build import Scenario
from twin.scenario.errors import ScenarioError
from twin.sensitivity import Model

#: KPIs shown before and after in every optimisation report (computed by the same model)
TABLE_KPIS = ("energy_cost", "fuel_energy", "electricity", "co2_mass", "recapture_rate",
              "exergy_destroyed")
_CONSTRAINT = re.compile(r"^\s*(?P<out>[^<>=]+?)\s*(?P<op><=|>=)\s*(?P<value>.+?)\s*$")
YEAR = 365.25 * 86400.0  # the Julian year, pint's "a" [s]


@dataclasses.dataclass(frozen=True)
class Bound:
    """``path`` in [low, high], in the parameter's unit (as in ``twin sweep --vary``)."""

    path: str
    low: float
    high: float
    unit: str


@dataclasses.dataclass(frozen=True)
class Constraint:
    """``output >= value`` or ``output <= value`` (``value`` in the output's unit)."""

    output: str
    sense: str
    value: float
    text: str


@dataclasses.dataclass(frozen=True)
class Capital:
    """Annualised capital cost of a parameter: ``rate`` [currency per unit of the parameter per s]."""

    path: str
    rate: float
    text: str


@dataclasses.dataclass
class Result:
    """What an optimisation found (values in each parameter's unit)."""

    paths: list[str]
    units: list[str]
    start: np.ndarray
    optimum: np.ndarray
    bounds: list[Bound]
    objective: str
    maximize: bool
    total_start: float  # objective plus capital cost [output unit]
    total_optimum: float
    kpis_start: dict[str, float]
    kpis_optimum: dict[str, float]
    constraints: list[Constraint]
    constraint_values: np.ndarray  # at the optimum [output units]
    history: list[dict]
    success: bool
    message: str
    evaluations: int
    mode: str

    def overrides(self) -> list[str]:
        """``--set`` strings that reproduce the optimum."""
        return [f"{p}={_text(v, u)}" for p, v, u in zip(self.paths, self.optimum, self.units)]

    def at_bound(self) -> list[str]:
        """``"low"``, ``"high"`` or ``""`` per parameter (within 1e-6 of the range)."""
        out = []
        for b, v in zip(self.bounds, self.optimum):
            tol = 1e-6 * (b.high - b.low)
            out.append("low" if v <= b.low + tol else "high" if v >= b.high - tol else "")
        return out


def _text(value: float, unit: str) -> str:
    return f"{float(value)!r} {unit}".strip()


def _error(option: str, path: str, given: str, accepted: str) -> ScenarioError:
    return ScenarioError.single(option, None, path, given, accepted)


def _quantity(text: str, unit: str, currency: str, where: str) -> float:
    """``text`` ("1420 degC", "300 t", "12000 EUR") in ``unit`` (an output's unit)."""
    from twin.sweep.spec import SweepSpecError, split_number
    from twin.units import get_registry

    try:
        value, given = split_number(text, where)
    except SweepSpecError as exc:
        raise _error(where, "", repr(text), str(exc)) from None
    if unit == currency or given == currency:
        if given not in ("", currency) or unit != currency:
            raise _error(where, "", repr(text), f"a value in {unit}")
        return value
    ureg = get_registry()
    try:
        q = ureg.Quantity(value, given or "dimensionless")
        return float(q.to(unit if unit != "1" else "dimensionless").magnitude)
    except Exception as exc:  # noqa: BLE001 (pint raises several unrelated types)
        raise _error(where, "", repr(text), f"a value convertible to {unit or 'a number'} ({exc})") from None


def parse_constraint(text: str, scenario: Scenario) -> Constraint:
    """``"OUTPUT >= VALUE"`` or ``"OUTPUT <= VALUE"`` with a unit where the output has one."""
    from twin.sensitivity import output

    m = _CONSTRAINT.match(text)
    if not m:
        raise _error("--constraint", text, repr(text), "OUTPUT >= VALUE or OUTPUT <= VALUE, e.g. "
                     "'furnace.T_load@20h >= 1420 degC' or 'co2_mass <= 300 t'")
    out = output(scenario, m["out"])
    value = _quantity(m["value"], out.unit, scenario.kpi_config.currency, "--constraint")
    return Constraint(m["out"], m["op"], value, text.strip())


def parse_capital(path: str, text: str, scenario: Scenario, param_unit: str) -> Capital:
    """``"0.05 EUR/kg/a"``: currency per unit of the parameter per year (``a``)."""
    from twin.sweep.spec import SweepSpecError, split_number
    from twin.units import get_registry

    cur = scenario.kpi_config.currency
    where = f"--capital {path}"
    try:
        value, unit = split_number(text, where)
    except SweepSpecError as exc:
        raise _error("--capital", path, repr(text), str(exc)) from None
    if not unit.startswith(f"{cur}/"):
        raise _error("--capital", path, repr(text), f"a price in the scenario's currency per unit "
                     f"of the parameter per year, e.g. '0.05 {cur}/kg/a'")
    try:  # "EUR/(kg/s)/a" -> 1/(kg/s)/a
        rate = get_registry().Quantity(value, "1" + unit[len(cur):]).to(f"1/(({param_unit or 'dimensionless'}) * s)")
    except Exception as exc:  # noqa: BLE001 (pint raises several unrelated types)
        raise _error("--capital", path, repr(text), f"{cur} per {param_unit or 'unit'} per year, "
                     f"e.g. '0.05 {cur}/{param_unit or '1'}/a' ({exc})") from None
    if not math.isfinite(rate.magnitude) or rate.magnitude < 0:
        raise _error("--capital", path, repr(text), "a finite, non-negative price")
    return Capital(path, float(rate.magnitude), text)


def optimize(scenario: Scenario, objective: str, bounds: Sequence[Bound], *,
             constraints: Sequence[str] = (), capital: dict[str, str] | None = None,
             maximize: bool = False, max_iter: int = 50, tol: float = 1e-6,
             callback=None) -> Result:
    """Optimise ``objective`` over ``bounds`` (module docstring).

    ``capital``: ``{path: "price per unit per year"}`` for parameters among the bounds.
    ``callback(record)`` is called after each evaluation with the history record.
    """
    from scipy.optimize import minimize

    if not bounds:
        raise _error("--vary", "", "", "at least one parameter with its range")
    paths = [b.path for b in bounds]
    cons = [parse_constraint(c, scenario) for c in constraints]
    table = [k for k in TABLE_KPIS if k != objective]
    model = Model(scenario, paths, [objective, *(c.output for c in cons), *table], mode="auto")
    units = [p.unit for p in model.parameters]
    for b, p in zip(bounds, model.parameters):
        if b.unit != p.unit:
            raise _error("--vary", b.path, f"{b.low:g}..{b.high:g} {b.unit}",
                         f"a range in the unit the scenario uses for it ({p.unit or 'a plain number'})")
        if not b.low < b.high:
            raise _error("--vary", b.path, f"{b.low:g}..{b.high:g}", "a range from a lower to a higher value")
    if capital and model.outputs[0].unit != scenario.kpi_config.currency:
        raise _error("--objective", objective, objective, f"a money KPI ({scenario.kpi_config.currency}) "
                     "when capital costs are added")
    for path in capital or {}:
        if path not in paths:
            raise _error("--capital", path, path, f"one of the optimised parameters ({', '.join(paths)})")
    caps = [parse_capital(path, text, scenario, units[paths.index(path)]) for path, text in (capital or {}).items()]
    lo = np.array([b.low for b in bounds])
    hi = np.array([b.high for b in bounds])
    start = np.clip(model.theta0, lo, hi)
    cap = np.zeros(len(paths))
    for c in caps:
        cap[paths.index(c.path)] = c.rate * scenario.duration
    sign = -1.0 if maximize else 1.0
    n_con = len(cons)
    cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
    history: list[dict] = []
    width = hi - lo

    def total(y, theta):
        """The objective with the capital cost, which always counts against the design."""
        return y[0] - float(cap @ theta) if maximize else y[0] + float(cap @ theta)

    def evaluate(x):
        key = np.asarray(x, dtype=float).tobytes()
        if key not in cache:
            theta = lo + np.asarray(x) * (hi - lo)
            y, J = model.value_and_jacobian(theta)
            cache.clear()  # SLSQP asks for f and its gradient at the same point, in turn
            cache[key] = (y, J)
            violation = max([0.0, *(_violation(c, y[1 + k]) for k, c in enumerate(cons))])
            rec = {"evaluation": len(history) + 1, "objective": float(total(y, theta)), "max_violation": violation,
                   **{p: float(v) for p, v in zip(paths, theta)}}
            history.append(rec)
            if callback is not None:
                callback(rec)
        return cache[key]

    y0, _ = evaluate((start - lo) / width)
    f_scale = max(abs(total(y0, start)), 1e-300)
    g_scale = [max(abs(c.value), abs(y0[1 + k]), 1e-300) for k, c in enumerate(cons)]

    def fun(x):
        y, _ = evaluate(x)
        return sign * total(y, lo + x * width) / f_scale

    def jac(x):
        _, J = evaluate(x)
        d_total = J[0] + (-cap if maximize else cap)
        return sign * d_total * width / f_scale

    def con_fun(k):
        c, s = cons[k], (1.0 if cons[k].sense == ">=" else -1.0)
        return {"type": "ineq",
                "fun": lambda x: s * (evaluate(x)[0][1 + k] - c.value) / g_scale[k],
                "jac": lambda x: s * evaluate(x)[1][1 + k] * width / g_scale[k]}

    res = minimize(fun, (start - lo) / width, jac=jac, method="SLSQP", bounds=[(0.0, 1.0)] * len(paths),
                   constraints=[con_fun(k) for k in range(n_con)], options={"maxiter": max_iter, "ftol": tol})
    x_opt = np.clip(res.x, 0.0, 1.0)
    y1, _ = evaluate(x_opt)
    theta_opt = lo + x_opt * width
    names = [o.name for o in model.outputs]

    def table_of(y):
        return {n: float(v) for n, v in zip(names, y) if model.outputs[names.index(n)].time is None}

    violations = [_violation(c, y1[1 + k]) for k, c in enumerate(cons)]
    feasible = all(v <= 1e-6 * max(abs(c.value), 1.0) for v, c in zip(violations, cons))
    return Result(paths, units, start, theta_opt, list(bounds), objective, maximize,
                  total(y0, start), total(y1, theta_opt), table_of(y0), table_of(y1), cons,
                  np.array([y1[1 + k] for k in range(n_con)]), history,
                  bool(res.success) and feasible, res.message if feasible else
                  f"{res.message}; a constraint is violated at the end", len(history), model.mode)


def _violation(c: Constraint, value: float) -> float:
    return max(0.0, c.value - value) if c.sense == ">=" else max(0.0, value - c.value)
