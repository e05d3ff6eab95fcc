"""Exact sensitivities of KPIs and signals to scenario parameters (``twin sensitivity``).

A scenario is a function from its parameters θ (``recuperator.UA``, ``pcm_bank.mass``,
``schedules.firing.values.2``: the paths ``--set`` and ``twin sweep --vary`` use) to its
outputs (KPIs of :mod:`twin.kpi`, or a signal at a time). :class:`Model` is that function
with its Jacobian, the engine of ``twin sensitivity`` and of optimisation and calibration.

What is differentiated, and how
-------------------------------
1. **Scenario file -> plant.** The builder (pydantic, units, YAML) is not JAX code. Each
   parameter is probed at θ0 and θ0 ± δ (δ = 1e-4 |θ0|) to find which plant leaves it moves
   and by how much: ``leaf(θ) = leaf(θ0) + (θ - θ0) · slope``. Nearly every parameter is copied
   into one leaf, at most times a unit factor, so this map is affine and the slope exact to
   round-off; a parameter that enters non-linearly (a second difference above round-off) is
   linearised by the central difference, which is then accurate to ~δ² and says so
   (:attr:`Parameter.affine`). Schedule breakpoints (``times``) are refused: a step schedule is
   piecewise constant in time, so its derivative with respect to a breakpoint is a delta in
   the right-hand side that no solver step sees; sweep them instead.
2. **Plant -> outputs**, exactly by JAX: the initial state, the adaptive Tsit5 (or Kvaerno)
   solve with its step-size controller (the derivative of the discrete solution that diffrax
   computes), the audit and the KPIs, with the same code as every run (:mod:`twin.audit`
   is written once for floats and traced values). The solver's tolerance bounds how well that
   derivative approximates the derivative of the exact solution; tighten ``--rtol`` to check.

Modes
-----
``forward``: the forward sensitivity equations (Maly & Petzold 1996; CVODES' simultaneous
corrector without sensitivity error control): the state y and its tangents S = dy/dθ are
integrated together, S' = ∂f/∂y S + ∂f/∂θ, each stage's tangents from one jvp of the
right-hand side; the step size is controlled on y alone, so the steps are those of the forward
run. This is the derivative of the exact solution to the solver's tolerance (the outputs'
tangents follow by jvp of the audit, KPIs and signals). It is the model's jvp
(``jax.custom_jvp``), so jacfwd and Levenberg-Marquardt (:mod:`twin.calibrate`) use it too.
It replaced jvp through diffrax's solver loop (ForwardMode), which differentiates every
controller and interpolation operation as well and cost 11x a forward run on the flagship for
one parameter. ``reverse``: diffrax's
:class:`~diffrax.RecursiveCheckpointAdjoint` (binomial checkpointing, memory O(log steps)), one
forward solve and one backward solve carrying m cotangents (``jax.vjp`` vectorised over the
outputs): the derivative of the discrete solution; its cost grows with the number of outputs
m and includes recomputation. ``auto`` picks forward when p <= :data:`FORWARD_UP_TO` x m
(benchmarks/RESULTS.md, "Gradient cost"). DESIGN.md recorded that diffrax's
BacksolveAdjoint gave a wrong sign on this kind of plant; it is not offered.

Elasticities
------------
``∂K/∂θ · θ/K``: the relative change of output K per relative change of θ (a 1 % larger UA
changes K by that many %); dimensionless, so parameters of different units compare. Where K
or θ is zero the elasticity is NaN and only the derivative is reported.

References
----------
.. [1] T. Maly, L. R. Petzold, "Numerical methods and software for sensitivity analysis of
   differential-algebraic systems", Appl. Numer. Math. 20 (1996) 57-79.
.. [2] A. C. Hindmarsh et al., "SUNDIALS: Suite of nonlinear and differential/algebraic
   equation solvers", ACM TOMS 31 (2005) 363-396 (CVODES forward sensitivity options).
.. [3] P. Kidger, *On Neural Differential Equations*, PhD thesis, Oxford 2021, sec. 5.1
   (discretise-then-optimise vs optimise-then-discretise).
"""

from __future__ import annotations

import dataclasses
import difflib
import time
from collections.abc import Sequence

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from twin.audit import audit
from twin.core.solve import _integrate, jump_times, physical_rms_norm, solve_flat
from twin.kpi import PINCH_KPIS, kpis, units
from twin.scenario.build import Scenario, load_scenario
from twin.scenario.errors import ScenarioError
from twin.scenario.yamlio import load_yaml_text

#: ``auto`` uses forward mode while p <= FORWARD_UP_TO x m: on the flagship forward
#: sensitivities cost ~2.6x a run plus ~0.3x per parameter, reverse mode ~26x per output
#: (benchmarks/RESULTS.md, "Gradient cost")
FORWARD_UP_TO = 16
#: relative probe step of the scenario builder (module docstring, step 1)
PROBE_STEP = 1e-4
MODES = ("auto", "forward", "reverse")
COMPILE_COUNT = 0
_COMPILED: dict = {}


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One differentiated parameter.

    Attributes
    ----------
    path : Scenario path, as for ``--set``.
    value : Its value in the scenario. [unit]
    unit : Unit of ``value`` and of derivatives with respect to it (as written in the file,
        or SI where the file does not give it).
    slope : ``{leaf index: d leaf / d value}`` for every plant leaf the parameter moves.
    affine : Whether the builder maps the value affinely onto the plant (exact slope).
    """

    path: str
    value: float
    unit: str
    slope: dict[int, np.ndarray]
    affine: bool


@dataclasses.dataclass(frozen=True)
class Output:
    """A KPI (``time`` None) or a signal at a time. [s]"""

    name: str
    time: float | None
    unit: str

    @property
    def label(self) -> str:
        return self.name if self.time is None else f"{self.name}@{self.time:g} s"


def _error(option: str, path: str, given: str, accepted: str) -> ScenarioError:
    return ScenarioError.single(option, None, path, given, accepted)


def _raw_value(scenario: Scenario, path: str):
    """The value at ``path`` as written (file plus overrides), or None where absent."""
    data, _ = load_yaml_text(scenario.text, str(scenario.path))
    for item in reversed(scenario.overrides):  # the last --set of a path wins, as in the loader
        key, _, value = item.partition("=")
        if key.strip() == path:
            return value.strip()
    node = data
    parts = path.split(".")
    if parts[0] in (data.get("components") or {}):
        parts = ["components", *parts]
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _value_and_unit(scenario: Scenario, path: str) -> tuple[float, str]:
    from twin.sweep.spec import SweepSpecError, split_number
    from twin.units import si_unit

    raw = _raw_value(scenario, path)
    if raw is not None and not isinstance(raw, (dict, list, bool)):
        try:
            return split_number(str(raw), f"--wrt {path}")
        except SweepSpecError:
            pass
    ref = scenario.parameters.get(path)
    if ref is not None:  # absent from the file: the default, in SI
        leaf = np.asarray(getattr(scenario.plant.components[ref.component], ref.field))
        value = float(leaf if ref.index is None else leaf[ref.index])
        return value, "1/K" if ref.dimension == "per_kelvin" else si_unit(ref.dimension)
    close = difflib.get_close_matches(path, list(scenario.parameters), n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise _error("--wrt", path, repr(raw) if raw is not None else "(not in the scenario)",
                 f"a numeric parameter of the scenario; {hint}scalar parameters: "
                 f"{', '.join(sorted(scenario.parameters)) or '-'}, or a schedule value such as "
                 "schedules.NAME.values.K")


def parameter(scenario: Scenario, path: str, step: float = PROBE_STEP) -> Parameter:
    """Probe the scenario builder around ``path``'s value (module docstring, step 1)."""
    from twin.sweep.batch import (
        outside_plant,
        plant_structure,
        same_values,
        split_plant,
    )

    if path.split(".")[-1] == "times" or ".times." in f"{path}.":
        raise _error("--wrt", path, path, "a parameter value; schedule breakpoints (times) have no "
                     "derivative a solver can follow (a step in time): sweep them with twin sweep")
    value, unit = _value_and_unit(scenario, path)
    base, treedef, _ = split_plant(scenario.plant)
    delta = step * abs(value) if value != 0 else step

    def probe(v):
        try:
            sc = load_scenario(scenario.path, [*scenario.overrides, f"{path}={v!r} {unit}".strip()])
        except ScenarioError as exc:
            return None, exc
        if plant_structure(sc) != plant_structure(scenario):
            raise _error("--wrt", path, f"{v:g} {unit}", "a parameter that keeps the plant's "
                         "structure (cells, nodes and wiring fixed)")
        if not same_values(outside_plant(sc), outside_plant(scenario)):
            raise _error("--wrt", path, path, "a plant parameter (not a solver setting, the "
                         "horizon or the KPI boundary)")
        return split_plant(sc.plant)[0], None

    (up, err_up), (down, _) = probe(value + delta), probe(value - delta)
    if up is None and down is None:
        raise _error("--wrt", path, f"{value:g} {unit}", f"a value the scenario accepts on at "
                     f"least one side (both {value + delta:g} and {value - delta:g} are "
                     f"rejected: {str(err_up).splitlines()[0]})")
    affine = up is not None and down is not None
    slope: dict[int, np.ndarray] = {}
    for k, b in enumerate(base):
        if affine:
            d = (up[k] - down[k]) / (2 * delta)
            curvature = np.abs(up[k] - 2 * b + down[k])
            scale = np.maximum(np.abs(b), np.maximum(np.abs(up[k]), np.abs(down[k])))
            affine &= bool(np.all(curvature <= 64 * np.finfo(float).eps * scale))
        else:  # one side only (the value sits on a bound): a one-sided difference
            d = (up[k] - b) / delta if up is not None else (b - down[k]) / delta
        if np.any(d != 0):
            slope[k] = d
    if not slope:
        raise _error("--wrt", path, path, "a parameter that changes the plant (this one moves "
                     "no plant parameter, e.g. a schedule that nothing uses)")
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(
        jax.tree_util.tree_unflatten(treedef, base))[0]]
    if any(paths[k].endswith(".times") for k in slope):
        raise _error("--wrt", path, path, "a parameter value; it moves schedule breakpoints, "
                     "which have no derivative a solver can follow: sweep it with twin sweep")
    return Parameter(path, float(value), unit, slope, affine)


def output(scenario: Scenario, text: str, signals: dict[str, str] | None = None) -> Output:
    """``"recapture_rate"`` (a KPI) or ``"pcm_bank.liquid_fraction@24 h"`` (a signal at a time).

    ``signals``: the plant's ``{signal: units}`` when already known (finding them traces the
    plant's signals once)."""
    from twin.units import UnitError, parse_quantity

    cur = scenario.kpi_config.currency
    name, at, when = (s.strip() for s in text.partition("@"))
    if not at:
        allowed = [k for k in units(cur) if k not in PINCH_KPIS]
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise _error("--of", text, repr(name), f"a KPI ({hint}{', '.join(allowed)}) or "
                         "SIGNAL@TIME; the pinch targets are not differentiable (a piecewise "
                         "linear program)")
        return Output(name, None, units(cur)[name])
    try:
        t = parse_quantity(when, "time")
    except UnitError as exc:
        raise _error("--of", text, repr(when), f"a time such as '24 h' ({exc})") from None
    if not 0 <= t <= scenario.duration:
        raise _error("--of", text, when, f"a time within the run, 0 to {scenario.duration:g} s")
    signals = _signal_units(scenario) if signals is None else signals
    if name not in signals:
        close = difflib.get_close_matches(name, list(signals), n=3)
        raise _error("--of", text, repr(name), "a signal of the results file" +
                     (f"; did you mean {', '.join(close)}?" if close else
                      f": {', '.join(sorted(signals))}"))
    return Output(name, float(t), signals[name])


def _signal_units(scenario: Scenario) -> dict[str, str]:
    from twin.results import signal_units

    return signal_units(scenario.plant)


# ---------------------------------------------------------------------- the model function
def _choose(mode: str, p: int, m: int) -> str:
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}: accepted {', '.join(MODES)}")
    if mode != "auto":
        return mode
    return "forward" if p <= FORWARD_UP_TO * m else "reverse"


def _outputs_fn(treedef, static, cfg, kpi_config, outputs, series):
    """θ-independent structure of the model: ``f(leaves, ts, jt, index, adjoint) -> (outputs,
    status)`` and ``f_tangent(leaves_of, theta, dtheta, ts, jt, index) -> (outputs, tangents,
    status)``. Outputs are the scalar outputs, then each series' samples (``series``: signal
    names; their indices into ``ts`` are data). Status: (result code, t reached, steps)."""

    def pick(k, sig, index):
        vals = [jnp.asarray(k[o.name], dtype=float)[None] if o.time is None else sig[o.name][index[i]]
                for i, o in enumerate(outputs)]
        vals += [sig[name][index[len(outputs) + i]] for i, name in enumerate(series)]
        return jnp.concatenate(vals)

    def kpis_of(plant, y0, y1):
        if not any(o.time is None for o in outputs):
            return {}
        # as float arrays: a KPI that is a constant (0 of an empty sum, NaN where undefined)
        # then has a zero float tangent, not an integer one
        return {k: jnp.asarray(v, dtype=float) for k, v in kpis(audit(plant, y0, y1), kpi_config).items()}

    def f(leaves, ts, jt, index, adjoint):
        plant = eqx.combine(jax.tree_util.tree_unflatten(treedef, leaves), static)
        y0 = plant.initial_state()
        sol_ts, ys, sig, result, stats = _integrate(plant, y0, ts, jt, cfg, adjoint)
        y1 = jax.tree_util.tree_map(lambda a: a[-1], ys)
        status = (getattr(result, "_value", result), jnp.nanmax(sol_ts), stats["num_steps"])
        return pick(kpis_of(plant, y0, y1), sig, index), status

    def f_tangent(leaves_of, theta, dtheta, ts, jt, index):
        """The forward sensitivity equations (module docstring, "forward"): the state y and
        its tangent s = dy/dθ · dθ integrated together, s' = ∂f/∂y s + ∂f/∂θ dθ (one jvp of the
        right-hand side per stage), the step size controlled on y alone."""

        def plant_of(th):
            return eqx.combine(jax.tree_util.tree_unflatten(treedef, leaves_of(th)), static)

        y0, dy0 = jax.jvp(lambda th: plant_of(th).initial_state(), (theta,), (dtheta,))
        y0f, unravel = jax.flatten_util.ravel_pytree(y0)
        s0f = jax.flatten_util.ravel_pytree(dy0)[0]
        y_norm = physical_rms_norm(y0, y0f.size)

        def field(t, ys, th):
            def rhs(y, th_):
                return jax.flatten_util.ravel_pytree(plant_of(th_).vector_field(t, unravel(y)))[0]
            return jax.jvp(rhs, (ys[0], th), (ys[1], dtheta))

        def save(t, ys, th):
            sig, dsig = jax.jvp(lambda y, th_: plant_of(th_).signals(t, unravel(y)), (ys[0], th), (ys[1], dtheta))
            return ys, sig, dsig

        sol = solve_flat(field, (y0f, s0f), ts, jt, cfg, lambda e: y_norm(e[0]), save, args=theta)
        (yf, sf), sig, dsig = sol.ys
        k, dk = jax.jvp(lambda th, a, b: kpis_of(plant_of(th), unravel(a), unravel(b)),
                        (theta, y0f, yf[-1]), (dtheta, s0f, sf[-1]))
        status = (getattr(sol.result, "_value", sol.result), jnp.nanmax(sol.ts), sol.stats["num_steps"])
        return pick(k, sig, index), pick(dk, dsig, index), status

    return f, f_tangent


class Model:
    """θ -> outputs of one scenario and their Jacobian, compiled once per structure and mode.

    Parameters
    ----------
    scenario : The loaded scenario (its overrides included).
    parameters : Parameter paths.
    outputs : KPI names or ``SIGNAL@TIME`` texts (see :func:`output`).
    mode : ``auto``, ``forward`` or ``reverse`` (module docstring).
    series : ``(signal, times)`` pairs: a signal sampled at many times [s] (calibration
        against a log), appended to the outputs in this order.
    """

    def __init__(self, scenario: Scenario, parameters: Sequence[str], outputs: Sequence[str] = (),
                 mode: str = "auto", series: Sequence[tuple[str, np.ndarray]] = ()):
        from twin.sweep.batch import split_plant

        if not parameters or not (outputs or series):
            raise _error("--wrt" if not parameters else "--of", None, "", "at least one")
        self.scenario = scenario
        self.parameters = [parameter(scenario, p) for p in dict.fromkeys(parameters)]
        units = _signal_units(scenario) if series or any("@" in o for o in outputs) else {}
        self.outputs = [output(scenario, o, units) for o in dict.fromkeys(outputs)]
        for name, t in series:
            if name not in units:
                raise _error("--log", name, repr(name), "a scalar signal of the model")
            if np.size(t) == 0 or np.min(t) < 0 or np.max(t) > scenario.duration:
                raise _error("--log", name, f"{np.min(t, initial=0):g}..{np.max(t, initial=0):g} s",
                             f"sample times within the run, 0 to {scenario.duration:g} s")
        self.series = [(name, np.asarray(t, dtype=float)) for name, t in series]
        self.size = len(self.outputs) + sum(t.size for _, t in self.series)
        self.mode = _choose(mode, len(self.parameters), self.size)
        self.theta0 = np.array([p.value for p in self.parameters])
        self._base, self._treedef, self._static = split_plant(scenario.plant)
        times = [np.atleast_1d(o.time) if o.time is not None else np.zeros(1) for o in self.outputs]
        times += [t for _, t in self.series]
        self.ts = np.unique(np.concatenate([[0.0, scenario.duration], *times]))
        self._index = [np.searchsorted(self.ts, t).astype(np.int32) for t in times]
        self.jt = np.asarray(jump_times(scenario.plant, float(self.ts[-1])))
        self.compile_time = 0.0
        #: working memory XLA reserves for each compiled kind (``value``, ``forward``,
        #: ``reverse``), from the executable's memory analysis (None where unavailable) [bytes]
        self.memory: dict[str, int | None] = {}

    def pure(self, forward: bool | str):
        """The model as a pure JAX function ``(theta, *self.arguments()) -> (outputs,
        (result code, t reached, steps))``, for use inside other transformations (a
        Levenberg-Marquardt solve, :mod:`twin.calibrate`). With ``forward`` its jvp (and so
        jacfwd and linearize) integrates the forward sensitivity equations; otherwise it is
        differentiated in reverse mode through diffrax's checkpointed solve.
        ``forward="jacobian"``: ``(theta, *args) -> (outputs, status, Jacobian)`` directly,
        state and p tangents in one solve."""
        f, f_tangent = _outputs_fn(self._treedef, self._static, self.scenario.solver,
                                   self.scenario.kpi_config, self.outputs, [name for name, _ in self.series])

        def leaves_at(theta, base, slopes, theta0):
            leaves = list(base)
            for j, sl in enumerate(slopes):
                for k, s in sl.items():
                    leaves[k] = leaves[k] + (theta[j] - theta0[j]) * s
            return leaves

        def value(theta, base, slopes, theta0, ts, jt, index):
            return f(leaves_at(theta, base, slopes, theta0), ts, jt, index, None)

        def jacobian(theta, base, slopes, theta0, ts, jt, index):
            """Outputs, their Jacobian (m, p) and status: one solve with p tangents."""
            def tangent(v):
                return f_tangent(lambda th: leaves_at(th, base, slopes, theta0), theta, v, ts, jt, index)
            # y and the status do not depend on the direction: vmap keeps them unbatched
            y, J, status = jax.vmap(tangent, out_axes=(None, -1, None))(jnp.eye(theta.size))
            return y, status, J

        if forward == "jacobian":
            return jacobian
        if not forward:
            return value
        g = jax.custom_jvp(value)

        @g.defjvp
        def _(primals, tangents):  # the data arguments are constants: only θ has a tangent
            theta, base, slopes, theta0, ts, jt, index = primals
            # the primal by its own solve, so that jax.linearize (Levenberg-Marquardt) can
            # separate it from the tangent solve, which it then runs once per direction
            y, status = value(*primals)
            _, dy, _ = f_tangent(lambda th: leaves_at(th, base, slopes, theta0), theta, tangents[0],
                                 ts, jt, index)
            return (y, status), (dy, jax.tree_util.tree_map(_zero_tangent, status))

        return g

    def key(self, kind: str) -> tuple:
        """What a compiled ``kind`` of this model depends on (its structure, not its values)."""
        return (kind, self._treedef, jax.tree_util.tree_structure(self._static), self.scenario.solver,
                tuple((o.name, o.time) for o in self.outputs), tuple(n for n, _ in self.series),
                self.scenario.kpi_config, tuple((p.path, tuple(p.slope)) for p in self.parameters),
                self.ts.shape, self.jt.shape, tuple(i.shape for i in self._index),
                tuple((x.shape, x.dtype.str) for x in self._base), static_id(self._static))

    def _compiled(self, kind: str):
        global COMPILE_COUNT
        key = self.key(kind)
        if key in _COMPILED:
            fn, self.memory[kind] = _COMPILED[key]
            return fn
        value = self.pure(forward="jacobian" if kind == "forward" else False)

        def run(theta, *args):
            if kind == "forward":
                return value(theta, *args)
            g = lambda th: value(th, *args)
            if kind == "value":
                return (*g(theta), None)
            y, pull, status = jax.vjp(g, theta, has_aux=True)
            (J,) = jax.vmap(pull)(jnp.eye(y.size))
            return y, status, J

        t0 = time.perf_counter()
        fn = jax.jit(run).lower(jnp.asarray(self.theta0, dtype=float), *self.arguments()).compile()
        self.compile_time += time.perf_counter() - t0
        self.memory[kind] = _temp_bytes(fn)
        COMPILE_COUNT += 1
        _COMPILED[key] = (fn, self.memory[kind])
        return fn

    def arguments(self) -> tuple:
        """The data arguments of :meth:`pure` after ``theta``."""
        slopes = [{k: jnp.asarray(s) for k, s in p.slope.items()} for p in self.parameters]
        return ([jnp.asarray(b) for b in self._base], slopes, jnp.asarray(self.theta0),
                jnp.asarray(self.ts), jnp.asarray(self.jt), [jnp.asarray(i) for i in self._index])

    def _call(self, kind: str, theta):
        fn = self._compiled(kind)
        t0 = time.perf_counter()
        y, (result, t_reached, steps), J = jax.block_until_ready(
            fn(jnp.asarray(theta, dtype=float), *self.arguments()))
        wall = time.perf_counter() - t0
        if int(result) != 0:
            raise SolverFailure(f"the solve failed at t = {float(t_reached):g} s of "
                                f"{self.scenario.duration:g} s: {diffrax.RESULTS[int(result)]} "
                                f"(parameters {dict(zip(self.paths, np.asarray(theta).tolist()))})")
        return np.asarray(y), (None if J is None else np.asarray(J)), wall, int(steps)

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.parameters]

    def value(self, theta=None) -> np.ndarray:
        """The outputs at ``theta`` (default θ0), shape (m,)."""
        return self._call("value", self.theta0 if theta is None else theta)[0]

    def value_and_jacobian(self, theta=None) -> tuple[np.ndarray, np.ndarray]:
        """Outputs (m,) and Jacobian (m, p) at ``theta``, in the model's :attr:`mode`."""
        y, J, _, _ = self._call(self.mode, self.theta0 if theta is None else theta)
        return y, J


def _zero_tangent(x):
    """The (zero) tangent of a status output: float0 for integers, zeros for floats."""
    if jnp.issubdtype(jnp.result_type(x), jnp.integer):
        return np.zeros(np.shape(x), dtype=jax.dtypes.float0)
    return jnp.zeros_like(x)


def static_id(static) -> tuple:
    """The static part of a plant (fluids, materials, flags) as a hashable value: two plants
    share a compiled model only if these are equal (equinox modules compare by value)."""
    leaves, treedef = jax.tree_util.tree_flatten(static)
    return (treedef, tuple(repr(x) for x in leaves))


def _temp_bytes(compiled) -> int | None:
    try:
        return int(compiled.memory_analysis().temp_size_in_bytes)
    except Exception:  # noqa: BLE001 (not every backend reports it)
        return None


class SolverFailure(RuntimeError):
    """The solve failed (max steps or a non-finite state) at the parameters given."""


# ---------------------------------------------------------------------- the study
@dataclasses.dataclass
class Sensitivity:
    """Outputs, their Jacobian and elasticities at θ0, with how they were computed."""

    outputs: list[Output]
    parameters: list[Parameter]
    values: np.ndarray  # (m,)
    jacobian: np.ndarray  # (m, p) [output unit / parameter unit]
    mode: str
    wall_forward: float  # one forward run (compiled) [s]
    wall_gradient: float  # the Jacobian, compiled [s]
    compile_time: float  # [s]
    steps: int
    finite_difference: np.ndarray | None = None  # (m, p), central differences, if asked

    @property
    def elasticities(self) -> np.ndarray:
        """``∂K/∂θ · θ/K`` (NaN where K or θ is 0). [-]"""
        theta = np.array([p.value for p in self.parameters])
        with np.errstate(divide="ignore", invalid="ignore"):
            e = self.jacobian * theta[None, :] / self.values[:, None]
        return np.where((self.values[:, None] != 0) & (theta[None, :] != 0), e, np.nan)

    @property
    def fd_relative_error(self) -> np.ndarray | None:
        """|J - J_fd| / max(|J_fd|, tiny), per entry (None without finite differences). [-]"""
        if self.finite_difference is None:
            return None
        fd = self.finite_difference
        return np.abs(self.jacobian - fd) / np.maximum(np.abs(fd), 1e-300)

    def to_dataset(self):
        """An xarray Dataset with dims ``output`` x ``parameter`` and ``units`` attributes."""
        import xarray as xr

        coords = {"output": [o.label for o in self.outputs], "parameter": [p.path for p in self.parameters]}
        ds = xr.Dataset(coords=coords)
        ds["value"] = xr.Variable(("output",), self.values, {"long_name": "output at the scenario's parameters"})
        ds["output_unit"] = xr.Variable(("output",), np.array([o.unit for o in self.outputs], dtype=object))
        ds["parameter_value"] = xr.Variable(("parameter",), [p.value for p in self.parameters])
        ds["parameter_unit"] = xr.Variable(("parameter",), np.array([p.unit for p in self.parameters], dtype=object))
        ds["derivative"] = xr.Variable(("output", "parameter"), self.jacobian, {
            "long_name": "d output / d parameter", "units": "output_unit / parameter_unit"})
        ds["elasticity"] = xr.Variable(("output", "parameter"), self.elasticities, {
            "long_name": "d ln output / d ln parameter", "units": "1"})
        if self.finite_difference is not None:
            ds["finite_difference"] = xr.Variable(("output", "parameter"), self.finite_difference, {
                "long_name": "central finite difference of the output", "units": "output_unit / parameter_unit"})
        ds.attrs.update(mode=self.mode, wall_forward_s=self.wall_forward, wall_gradient_s=self.wall_gradient,
                        gradient_cost_ratio=self.wall_gradient / self.wall_forward, solver_steps=self.steps,
                        affine_parameters=",".join(p.path for p in self.parameters if p.affine))
        return ds


def central_differences(model: Model, rel_step: float = 1e-5) -> np.ndarray:
    """Central finite differences of every output, one parameter at a time (2p runs)."""
    fd = np.zeros((len(model.outputs), len(model.parameters)))
    for j, th in enumerate(model.theta0):
        h = rel_step * abs(th) if th != 0 else rel_step
        e = np.zeros_like(model.theta0)
        e[j] = h
        fd[:, j] = (model.value(model.theta0 + e) - model.value(model.theta0 - e)) / (2 * h)
    return fd


def sensitivities(scenario: Scenario, wrt: Sequence[str], of: Sequence[str], mode: str = "auto",
                  check: bool = False) -> Sensitivity:
    """The Jacobian of outputs ``of`` with respect to parameters ``wrt`` at the scenario's values.

    The gradient's cost is measured against one forward run of the same compiled model (both
    after compilation); ``check`` adds central finite differences (2p more runs).
    """
    model = Model(scenario, wrt, of, mode)
    model._compiled("value")  # compile both first: the times below are of warm calls
    model._compiled(model.mode)
    _, _, wall_forward, _ = model._call("value", model.theta0)
    y, J, wall_grad, steps = model._call(model.mode, model.theta0)
    fd = central_differences(model) if check else None
    return Sensitivity(model.outputs, model.parameters, y, J, model.mode, wall_forward, wall_grad,
                       model.compile_time, steps, fd)

