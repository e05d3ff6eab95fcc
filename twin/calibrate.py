"""Calibration of a scenario against a plant log (``twin calibrate``).

The fit
-------
Weighted least squares over the fitted parameters θ and one constant bias b_s per tag whose
map says ``bias: fit`` (a sensor offset, a nuisance parameter):

    min  Σ_s Σ_i ((y_s(t_i; θ) + b_s - m_{s,i}) / σ_s)²

with y_s the model signal sampled at the log's times t_i, m the logged values (SI, known
biases removed, :mod:`twin.logs`) and σ_s each tag's standard deviation. Levenberg-Marquardt
(optimistix) with the residual Jacobian by forward-mode differentiation through the solver
(:class:`twin.sensitivity.Model`, one compile for the whole fit). Bounds ``LOW..HIGH`` are kept
by fitting z with θ = lo + (hi - lo) / (1 + exp(-z)); unbounded parameters are fitted in
log space, θ = θ0 exp(z) (positive physical parameters keep their sign).

Several experiments
-------------------
One parameter set θ can be fitted to several experiments at once (:func:`calibrate_experiments`):
each a scenario and its log, of the same plant structure (components, cells, nodes, wiring,
schedule lengths, solver settings) with different inputs and initial states. Their weighted
residuals are stacked into one least-squares problem, so the sum above runs over every
experiment's samples, a tag's bias is one sensor offset shared by the experiments whose map
fits it, and the standard errors and correlations come from the stacked Jacobian: a parameter
that no single experiment identifies can be identified by the set. The experiments run in
sequence inside one compiled program (``jax.lax.map`` over their stacked plant leaves, sample
times and log data, each padded to the longest: padded samples have zero weight), so a fit
of N experiments compiles once, like a fit of one.

*Validation experiments* (``validate=``) are not fitted: they are run at the start and at
the fitted parameters in the same program (no second compile), and their statistics show how
well the calibrated model predicts data it has not seen (Guideline 14 with p = 0 there).

Uncertainty
-----------
From the Jacobian J of the weighted residuals at the optimum, in the parameters' own units:
cov = s² (JᵀJ)⁻¹ with s² = RSS / (n - p) [1, ch. 15.4]. With correct σ and a correct model s²
is near 1 and the standard errors are those of the noise; s² well above 1 says the model
or the stated σ is wrong, and the errors are scaled up accordingly. They assume independent
errors: a model error that is correlated in time makes them optimistic, and a parameter at
its bound has no meaningful error (reported NaN).

Goodness of fit
---------------
Per tag, ASHRAE Guideline 14-2014 [2] statistics with p fitted parameters:

    NMBE     = Σ (m_i - ŷ_i) / ((n - p) m̄)                      [%]
    CV(RMSE) = sqrt(Σ (m_i - ŷ_i)² / (n - p)) / m̄               [%]

computed in SI (temperatures in kelvin, so read them with the RMSE and bias in K beside them;
Guideline 14's hourly criteria of ±10 % / 30 % are written for energy use).

References
----------
.. [1] W. H. Press et al., *Numerical Recipes*, 3rd ed., Cambridge 2007, ch. 15.
.. [2] ASHRAE Guideline 14-2014, *Measurement of Energy, Demand, and Water Savings*, sec. 4.3.
"""

from __future__ import annotations

import dataclasses
import io
import re
import time
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from twin.logs import LoggedSignal, PlantLog
from twin.scenario.build import Scenario
from twin.scenario.errors import ScenarioError
from twin.sensitivity import Model, SolverFailure, static_id

_RANGE = re.compile(r"^\s*(?P<path>[^=]+?)\s*(?:=\s*(?P<range>.+?))?\s*$")


@dataclasses.dataclass(frozen=True)
class Fit:
    """One fitted parameter: ``path`` with optional bounds (in the parameter's unit)."""

    path: str
    low: float | None = None
    high: float | None = None
    unit: str = ""


@dataclasses.dataclass
class SignalFit:
    """Goodness of fit of one tag, before and after (ASHRAE Guideline 14)."""

    tag: str
    signal: str
    unit: str  # SI unit of the values
    n: int
    t: np.ndarray  # [s]
    measured: np.ndarray  # [SI]
    before: np.ndarray  # model at the start (with its start bias)
    after: np.ndarray  # model at the optimum, fitted bias added
    bias: float  # fitted sensor bias (0 if not fitted) [SI]
    bias_se: float
    nmbe: float  # [%]
    cv_rmse: float  # [%]
    rmse: float  # [SI]
    rmse_before: float  # [SI]
    mean_error: float  # mean of measured - model [SI]
    experiment: str = ""  # the experiment's name
    role: str = "fit"  # "fit" or "validation" (not fitted: a prediction)


@dataclasses.dataclass
class Calibration:
    """The fitted parameters with standard errors and correlations, and the fit per tag."""

    paths: list[str]
    units: list[str]
    start: np.ndarray
    value: np.ndarray
    standard_error: np.ndarray
    correlation: np.ndarray  # over parameters and fitted biases, in that order
    names: list[str]  # row/column names of ``correlation``
    bounds: list[tuple[float | None, float | None]]
    signals: list[SignalFit]
    chi2_reduced: float  # s² = RSS / (n - p)
    n: int
    steps: int
    success: bool
    message: str
    wall: float  # the fit, compiled [s]
    compile_time: float  # [s]
    experiments: list[str] = dataclasses.field(default_factory=list)  # fitted, in order
    validated: list[str] = dataclasses.field(default_factory=list)  # validation experiments
    #: what each fitted experiment tells about the parameters and biases: JₑᵀJₑ of its weighted
    #: residuals at the optimum (their sum is the JᵀJ of the standard errors; a singular one
    #: alone does not identify the parameters) [1 / (unit_i unit_j)]
    information: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def signal(self, tag: str, experiment: str | None = None) -> SignalFit:
        """The fit of ``tag`` (in ``experiment``, where there are several)."""
        found = [s for s in self.signals if s.tag == tag and experiment in (None, s.experiment)]
        if len(found) != 1:
            raise KeyError(f"{tag!r} in {experiment!r}: {len(found)} matches")
        return found[0]

    def overrides(self) -> list[str]:
        return [f"{p}={float(v)!r} {u}".strip() for p, v, u in zip(self.paths, self.value, self.units)]

    def at_bound(self) -> list[bool]:
        out = []
        for (lo, hi), v in zip(self.bounds, self.value):
            tol = 1e-6 * ((hi - lo) if lo is not None and hi is not None else abs(v))
            out.append((lo is not None and v <= lo + tol) or (hi is not None and v >= hi - tol))
        return out


def parse_fit(text: str) -> Fit:
    """``"boiler.envelope_UA"`` or ``"boiler.envelope_UA=10..3000 W/K"``."""
    from twin.sweep.spec import SweepSpecError, parse_vary

    m = _RANGE.match(text)
    if not m or not m["path"]:
        raise ScenarioError.single("--fit", None, text, repr(text), "PATH or PATH=LOW..HIGH")
    if m["range"] is None:
        return Fit(m["path"])
    try:
        (axis,) = parse_vary([f"{m['path']}={m['range']}"])
    except SweepSpecError as exc:
        raise ScenarioError.single("--fit", None, m["path"], repr(m["range"]), str(exc)) from None
    if axis.low is None:
        raise ScenarioError.single("--fit", None, m["path"], repr(m["range"]), "a range LOW..HIGH")
    return Fit(axis.path, axis.low, axis.high, axis.unit)


def _kinds(fits, theta0) -> tuple[str, ...]:
    """How each parameter is fitted: ``bounded`` (logistic), ``log`` or ``linear``."""
    return tuple("bounded" if f.low is not None else "log" if t > 0 else "linear" for f, t in zip(fits, theta0))


def _theta(z, kinds, lo, hi, theta0):
    """θ(z): lo + (hi - lo) σ(z), θ0 exp(z) or θ0 + max(|θ0|, 1) z (traceable)."""
    out = []
    for j, kind in enumerate(kinds):
        if kind == "bounded":
            out.append(lo[j] + (hi[j] - lo[j]) * jax.nn.sigmoid(z[j]))
        elif kind == "log":
            out.append(theta0[j] * jnp.exp(z[j]))
        else:
            out.append(theta0[j] + jnp.maximum(jnp.abs(theta0[j]), 1.0) * z[j])
    return jnp.stack(out)


def _z(theta, kinds, lo, hi, theta0) -> np.ndarray:
    """The inverse of :func:`_theta` (host)."""
    return np.array([np.log((t - lo[j]) / (hi[j] - t)) if k == "bounded" else np.log(t / theta0[j]) if k == "log"
                     else (t - theta0[j]) / max(abs(theta0[j]), 1.0) for j, (k, t) in enumerate(zip(kinds, theta))])


_COMPILED: dict = {}


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A scenario and the plant log measured while it ran; ``name`` labels its results
    (default: the scenario file's stem)."""

    scenario: Scenario
    log: PlantLog
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or Path(str(self.scenario.path)).stem


def structure_difference(first: Scenario, other: Scenario) -> str | None:
    """Why ``other`` cannot share ``first``'s compiled program, in words (None: it can)."""
    import equinox as eqx

    from twin.sweep.batch import split_plant

    if list(first.plant.components) != list(other.plant.components):
        return f"components {', '.join(other.plant.components)} (the first has {', '.join(first.plant.components)})"
    la, ta, sa = split_plant(first.plant)
    lb, tb, sb = split_plant(other.plant)
    if ta != tb:
        return "other components, options or wiring than the first"
    if any(a.shape != b.shape or a.dtype != b.dtype for a, b in zip(la, lb)):
        paths = [jax.tree_util.keystr(k) for k, _ in
                 jax.tree_util.tree_flatten_with_path(eqx.filter(other.plant, eqx.is_array))[0]]
        k = next(k for k, (a, b) in enumerate(zip(la, lb)) if a.shape != b.shape or a.dtype != b.dtype)
        where = re.sub(r"\['([^']*)'\]", r".\1", paths[k]).removeprefix(".components.")
        return (f"{where} of shape {lb[k].shape} (the first has {la[k].shape}: cells, nodes and schedule "
                "lengths must match)")
    if static_id(sa) != static_id(sb):
        return "other fluids, materials or static options than the first"
    if first.solver != other.solver:
        return f"solver settings {other.solver} (the first has {first.solver})"
    return None


def _tags(log: PlantLog) -> list[LoggedSignal]:
    return [s for s in log.signals.values() if s.t.size]


def _pad(a: np.ndarray, size: int, value=None) -> np.ndarray:
    """``a`` extended to ``size`` with ``value`` (default: its last entry)."""
    a = np.asarray(a)
    fill = a[-1] if value is None else value
    return np.concatenate([a, np.full(size - a.size, fill, dtype=a.dtype)])


def _fit_fn(pure, kinds, P, max_steps, tol):
    """The whole fit as one function of (z0, data): Levenberg-Marquardt in z over the fitted
    experiments, their residual Jacobian at the optimum, and every experiment's residuals
    (fitted and validation) at the optimum and at the start."""
    import optimistix as optx

    # jitted, the model is traced once (and its jvp rule once): every later call inside this
    # program (the LM's evaluations and linearisations, the Jacobian, the final runs) reuses
    # that trace; it halved the time to build the synthetic boiler's fit (71 s -> 36 s on a
    # shared 2-core CPU with the test suite's XLA flags)
    pure = jax.jit(pure)

    def residuals(tbs, exps):
        """Weighted residuals (items, N) of the stacked experiments ``exps``, each at its row
        of ``tbs`` (parameters and SI biases), and the solver statuses, one per item."""
        def one(item):
            tb, (args, m_obs, sigma, mask, A) = item
            y, status = pure(tb[:P], *args)
            return jnp.where(mask, (y + A @ tb[P:] - m_obs) / sigma, 0.0), status

        return jax.lax.map(one, (tbs, exps))

    def unpack(z, data):
        _, _, bias_scale, lo, hi, theta0 = data
        return jnp.concatenate([_theta(z, kinds, lo, hi, theta0), z[P:] * bias_scale])

    def fitted_residuals(tb, data):
        fit = data[0]
        r, status = residuals(jnp.broadcast_to(tb, (fit[1].shape[0], tb.size)), fit)
        return r.reshape(-1), status

    def fit(z0, data):
        sol = optx.least_squares(lambda z, d: fitted_residuals(unpack(z, d), d), optx.LevenbergMarquardt(
            rtol=tol, atol=tol), z0, data, has_aux=True, max_steps=max_steps, throw=False)
        tb, tb0 = unpack(sol.value, data), unpack(z0, data)
        J = jax.jacfwd(lambda v: fitted_residuals(v, data)[0])(tb)
        every = data[1]
        E = every[1].shape[0]
        both = jax.tree_util.tree_map(lambda x: jnp.concatenate([x, x]), every)  # at the optimum, at the start
        r, status = residuals(jnp.concatenate([jnp.broadcast_to(tb, (E, tb.size)),
                                               jnp.broadcast_to(tb0, (E, tb.size))]), both)
        code = getattr(sol.result, "_value", sol.result)
        return tb, r, J, code, sol.stats["num_steps"], status

    return fit


def calibrate(scenario: Scenario, log: PlantLog, fits: Sequence[Fit], *, max_steps: int = 100,
              tol: float = 1e-8) -> Calibration:
    """Fit ``fits`` (and the biases the map asks for) to ``log`` (module docstring)."""
    return calibrate_experiments([Experiment(scenario, log)], fits, max_steps=max_steps, tol=tol)


def calibrate_experiments(experiments: Sequence[Experiment], fits: Sequence[Fit], *,
                          validate: Sequence[Experiment] = (), max_steps: int = 100,
                          tol: float = 1e-8) -> Calibration:
    """Fit one set of ``fits`` (and the biases the maps ask for) to every experiment at once,
    then run the ``validate`` experiments at the fitted parameters (module docstring,
    "Several experiments"). Every experiment must have the first one's plant structure and
    the same starting values of the fitted parameters."""
    if not fits:
        raise ScenarioError.single("--fit", None, "", "", "at least one parameter to fit")
    if not experiments:
        raise ScenarioError.single("SCENARIO", None, "", "", "at least one experiment (a scenario and its log)")
    every = [*experiments, *validate]
    labels = [e.label for e in every]
    if len(set(labels)) < len(labels):  # two files of one name: number them
        labels = [f"{k + 1}:{name}" for k, name in enumerate(labels)]
    first = every[0].scenario
    for e, label in zip(every[1:], labels[1:]):
        why = structure_difference(first, e.scenario)
        if why is not None:
            raise ScenarioError.single(str(e.scenario.path), None, label, why,
                                       f"the plant structure of {labels[0]} (every experiment shares one "
                                       "compiled model: same components, cells, nodes, wiring, schedule "
                                       "lengths and solver settings; inputs and initial states may differ)")
    # channels: every tag of any log (one tag, one sensor, one signal), each padded to its
    # longest sample count
    tags = [{s.tag: s for s in _tags(e.log)} for e in every]
    if not any(tags[:len(experiments)]):
        raise ScenarioError.single("--log", None, "", "", "a log with at least one sample of a mapped tag")
    measures: dict[str, str] = {}
    for t, e in zip(tags, every):
        for tag, s in t.items():
            if measures.setdefault(tag, s.signal) != s.signal:
                raise ScenarioError.single(str(e.log.map.file), None, f"signals.{tag}", s.signal,
                                           f"the signal the tag measures in the other logs, {measures[tag]} "
                                           "(one tag, one sensor)")
    channels = list(measures.items())
    L = [max([1, *(t[tag].t.size for t in tags if tag in t)]) for tag, _ in channels]
    offsets = np.concatenate([[0], np.cumsum(L)])
    N = int(offsets[-1])

    def present(t: dict, k: int) -> LoggedSignal | None:
        return t.get(channels[k][0])

    models = []
    for e, t in zip(every, tags):
        series = [(sig, _pad(t[tag].t, L[k]) if tag in t else np.zeros(L[k])) for k, (tag, sig) in enumerate(channels)]
        models.append(Model(e.scenario, [f.path for f in fits], series=series, mode="forward"))
    model = models[0]
    for f, q in zip(fits, model.parameters):
        if f.low is not None and f.unit != q.unit:
            raise ScenarioError.single("--fit", None, f.path, f"{f.low:g}..{f.high:g} {f.unit}",
                                       f"bounds in the unit the scenario uses for it ({q.unit or 'a plain number'})")
        if f.low is not None and not f.low < q.value < f.high:
            raise ScenarioError.single("--fit", None, f.path, f"{q.value:g} {q.unit}",
                                       f"a start inside the bounds {f.low:g}..{f.high:g} {q.unit} (set it with --set)")
    for m, label in zip(models[1:], labels[1:]):
        for q0, q in zip(model.parameters, m.parameters):
            if (q.value, q.unit) != (q0.value, q0.unit):
                raise ScenarioError.single(str(m.scenario.path), None, q.path, f"{q.value:g} {q.unit}".strip(),
                                           f"the same start as {labels[0]}, {q0.value:g} {q0.unit} (one parameter "
                                           "set is fitted to every experiment: set it for all with --set)")
    P = len(fits)
    E_fit = len(experiments)
    # sensor biases: one per channel that a fitted experiment's map fits, shared by them
    biased = [k for k in range(len(channels)) if any(
        (s := present(t, k)) is not None and s.fit_bias for t in tags[:E_fit])]
    bias_scale = np.array([next(t[channels[k][0]].sigma for t in tags if channels[k][0] in t) for k in biased])
    T = max(m.ts.size for m in models)
    n_jumps = max(m.jt.size for m in models)
    slope_keys = [sorted(set().union(*(m.parameters[j].slope for m in models))) for j in range(P)]
    items, masks = [], []
    for m, t in zip(models, tags):
        m_obs, sigma, mask = np.zeros(N), np.ones(N), np.zeros(N, dtype=bool)
        A = np.zeros((N, len(biased)))
        for k in range(len(channels)):
            s = present(t, k)
            if s is None:
                continue
            sl = slice(offsets[k], offsets[k] + s.t.size)
            m_obs[sl], sigma[sl], mask[sl] = s.values, s.sigma, True
            if k in biased and s.fit_bias:
                A[sl, biased.index(k)] = 1.0
        base, _, theta0, ts, jt, index = m.arguments()
        slopes = [{k: np.asarray(m.parameters[j].slope.get(k, np.zeros_like(m._base[k]))) for k in slope_keys[j]}
                  for j in range(P)]
        args = ([np.asarray(b) for b in base], slopes, np.asarray(theta0), _pad(np.asarray(ts), T),
                _pad(np.asarray(jt), n_jumps, 2.0 * float(ts[-1])), [np.asarray(i) for i in index])
        items.append((args, m_obs, sigma, mask, A))
        masks.append(mask)

    def stack(rows):
        return jax.tree_util.tree_map(lambda *xs: jnp.asarray(np.stack(xs)), *rows)

    theta0 = model.theta0
    kinds = _kinds(fits, theta0)
    lo = np.array([f.low if f.low is not None else np.nan for f in fits])
    hi = np.array([f.high if f.high is not None else np.nan for f in fits])
    z0 = np.concatenate([_z(theta0, kinds, lo, hi, theta0), np.zeros(len(biased))])
    data = (stack(items[:E_fit]), stack(items), jnp.asarray(bias_scale), jnp.asarray(lo), jnp.asarray(hi),
            jnp.asarray(theta0))
    shapes = tuple((x.shape, x.dtype.str) for x in jax.tree_util.tree_leaves(data))
    key = ("calibrate", model._treedef, jax.tree_util.tree_structure(model._static), static_id(model._static),
           first.solver, tuple(sig for _, sig in channels), tuple(map(tuple, slope_keys)), kinds, len(biased),
           shapes, max_steps, tol)
    t0 = time.perf_counter()
    if key not in _COMPILED:
        _COMPILED[key] = jax.jit(_fit_fn(model.pure(forward=True), kinds, P, max_steps, tol)).lower(
            jnp.asarray(z0), data).compile()
    t1 = time.perf_counter()
    tb, r2, J, result, steps, status = jax.block_until_ready(_COMPILED[key](jnp.asarray(z0), data))
    wall = time.perf_counter() - t1
    E = len(every)
    code, t_reached = np.asarray(status[0]), np.asarray(status[1])
    for i in range(2 * E):
        if int(code[i]) != 0:
            where = "at the fitted parameters" if i < E else "at the start"
            raise SolverFailure(f"{labels[i % E]}: the solve failed {where} at t = {float(t_reached[i]):g} s")
    tb, r2, J = np.asarray(tb), np.asarray(r2), np.asarray(J)
    r, r0 = r2[:E], r2[E:]
    n, p = int(sum(mk.sum() for mk in masks[:E_fit])), tb.size
    rss = float(np.sum(r[:E_fit] ** 2))
    s2 = rss / max(n - p, 1)
    try:
        cov = np.linalg.inv(J.T @ J) * s2
    except np.linalg.LinAlgError:
        cov = np.full((p, p), np.nan)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(se, se)
    bounds = [(f.low, f.high) for f in fits]
    cal = Calibration([f.path for f in fits], [q.unit for q in model.parameters], model.theta0.copy(), tb[:P],
                      se[:P], corr, [f.path for f in fits] + [f"{channels[k][0]}.bias" for k in biased], bounds,
                      [], s2, n, int(steps), int(result) == 0, _lm_message(int(result)), wall, t1 - t0,
                      labels[:E_fit], labels[E_fit:])
    for j, at in enumerate(cal.at_bound()):
        if at:
            cal.standard_error[j] = np.nan
    for e in range(E_fit):
        Je = J[e * N:(e + 1) * N]
        cal.information[labels[e]] = Je.T @ Je
    for e, (t, (_, m_obs, sigma, _, A)) in enumerate(zip(tags, items)):
        fit_role = e < E_fit
        for k, (tag, sig) in enumerate(channels):
            s = present(t, k)
            if s is None:
                continue
            sl = slice(offsets[k], offsets[k] + s.t.size)
            meas = m_obs[sl]
            after = meas + r[e, sl] * sigma[sl]  # model + bias
            before = meas + r0[e, sl] * sigma[sl]
            err = meas - after
            dof = max(s.t.size - (P if fit_role else 0), 1)
            mean = float(np.mean(meas))
            col = biased.index(k) if k in biased and A[sl].any() else None
            cal.signals.append(SignalFit(
                tag, sig, s.si_unit, int(s.t.size), s.t, meas, before, after,
                float(tb[P + col]) if col is not None else 0.0, float(se[P + col]) if col is not None else np.nan,
                100 * float(err.sum()) / (dof * mean), 100 * float(np.sqrt((err @ err) / dof)) / mean,
                float(np.sqrt(np.mean(err ** 2))), float(np.sqrt(np.mean((meas - before) ** 2))), float(np.mean(err)),
                labels[e], "fit" if fit_role else "validation"))
    return cal


def _lm_message(code: int) -> str:
    import optimistix as optx

    return "converged" if code == 0 else str(optx.RESULTS[code])


def plot(cal: Calibration, path) -> None:
    """One panel per tag (and experiment): measured, model before and after; residual
    histogram beside it (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from twin.results import write_bytes_atomic

    k = len(cal.signals)
    fig = Figure(figsize=(9, 2.6 * k + 0.6), layout="constrained")
    axes = fig.subplots(k, 2, squeeze=False, width_ratios=(3, 1))
    several = len(cal.experiments) + len(cal.validated) > 1
    for (ax, axr), s in zip(axes, cal.signals):
        h = s.t / 3600
        ax.plot(h, s.measured, ".", ms=2, color="0.5", label="log")
        ax.plot(h, s.before, "-", lw=1, color="tab:orange", label="model, start")
        ax.plot(h, s.after, "-", lw=1.2, color="tab:blue", label="model, fitted")
        where = f"{s.experiment} ({s.role}): " if several else ""
        ax.set_title(f"{where}{s.tag} ({s.signal}): RMSE {s.rmse:.3g} {s.unit} (start {s.rmse_before:.3g}), "
                     f"NMBE {s.nmbe:+.2f} %, CV(RMSE) {s.cv_rmse:.2f} %", fontsize=8)
        ax.set_ylabel(s.unit or "1")
        ax.set_xlabel("time since start [h]")
        axr.hist(s.measured - s.after, bins=40, color="tab:blue")
        axr.set_title("residual (log - model)", fontsize=8)
    axes[0][0].legend(fontsize=7)
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    write_bytes_atomic(path, buf.getvalue())
