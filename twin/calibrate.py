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

import jax
import jax.numpy as jnp
import numpy as np

from twin.logs import PlantLog
from twin.scenario.build import Scenario
from twin.scenario.errors import ScenarioError
from twin.sensitivity import Model, SolverFailure

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


def _fit_fn(pure, kinds, P, max_steps, tol):
    """The whole fit as one function of (z0, data): Levenberg-Marquardt in z, then the
    residuals and their Jacobian at the optimum and the residuals at the start."""
    import optimistix as optx

    def residual_theta(tb, data):
        """Weighted residuals at the parameters and SI biases ``tb``, and the solver status."""
        m_obs, sigma, A, _, _, _, _, args = data
        y, status = pure(tb[:P], *args)
        return (y + A @ tb[P:] - m_obs) / sigma, status

    def unpack(z, data):
        _, _, _, bias_scale, lo, hi, theta0, _ = data
        return jnp.concatenate([_theta(z, kinds, lo, hi, theta0), z[P:] * bias_scale])

    def residual_z(z, data):
        return residual_theta(unpack(z, data), data)

    def fit(z0, data):
        sol = optx.least_squares(residual_z, optx.LevenbergMarquardt(rtol=tol, atol=tol), z0, data,
                                 has_aux=True, max_steps=max_steps, throw=False)
        tb = unpack(sol.value, data)
        r, status = residual_theta(tb, data)
        J = jax.jacfwd(lambda v: residual_theta(v, data)[0])(tb)
        r0, status0 = residual_z(z0, data)
        code = getattr(sol.result, "_value", sol.result)
        return tb, r, J, r0, code, sol.stats["num_steps"], status, status0

    return fit


def calibrate(scenario: Scenario, log: PlantLog, fits: Sequence[Fit], *, max_steps: int = 100,
              tol: float = 1e-8) -> Calibration:
    """Fit ``fits`` (and the biases the map asks for) to ``log`` (module docstring)."""
    if not fits:
        raise ScenarioError.single("--fit", None, "", "", "at least one parameter to fit")
    tags = [s for s in log.signals.values() if s.t.size]
    series = [(s.signal, s.t) for s in tags]
    model = Model(scenario, [f.path for f in fits], series=series, mode="forward")
    for f, p in zip(fits, model.parameters):
        if f.low is not None and f.unit != p.unit:
            raise ScenarioError.single("--fit", None, f.path, f"{f.low:g}..{f.high:g} {f.unit}",
                                       f"bounds in the unit the scenario uses for it ({p.unit or 'a plain number'})")
        if f.low is not None and not f.low < p.value < f.high:
            raise ScenarioError.single("--fit", None, f.path, f"{p.value:g} {p.unit}",
                                       f"a start inside the bounds {f.low:g}..{f.high:g} {p.unit} (set it with --set)")
    P = len(fits)
    biased = [k for k, s in enumerate(tags) if s.fit_bias]
    m_obs = np.concatenate([s.values for s in tags])
    sigma = np.concatenate([np.full(s.t.size, s.sigma) for s in tags])
    owner = np.concatenate([np.full(s.t.size, k) for k, s in enumerate(tags)])
    A = np.stack([(owner == k).astype(float) for k in biased], axis=1) if biased else np.zeros((owner.size, 0))
    bias_scale = np.array([tags[k].sigma for k in biased])  # a bias is fitted in units of its sigma
    theta0 = model.theta0
    kinds = _kinds(fits, theta0)
    lo = np.array([f.low if f.low is not None else np.nan for f in fits])
    hi = np.array([f.high if f.high is not None else np.nan for f in fits])
    z0 = np.concatenate([_z(theta0, kinds, lo, hi, theta0), np.zeros(len(biased))])
    data = (jnp.asarray(m_obs), jnp.asarray(sigma), jnp.asarray(A), jnp.asarray(bias_scale),
            jnp.asarray(lo), jnp.asarray(hi), jnp.asarray(theta0), model.arguments())
    key = (model.key("calibrate"), kinds, len(biased), m_obs.shape, max_steps, tol)
    t0 = time.perf_counter()
    if key not in _COMPILED:
        _COMPILED[key] = jax.jit(_fit_fn(model.pure(forward=True), kinds, P, max_steps, tol)).lower(
            jnp.asarray(z0), data).compile()
    t1 = time.perf_counter()
    tb, r, J, r0, result, steps, status, status0 = jax.block_until_ready(_COMPILED[key](jnp.asarray(z0), data))
    wall = time.perf_counter() - t1
    for st, where in ((status0, "at the start"), (status, "at the fitted parameters")):
        if int(st[0]) != 0:
            raise SolverFailure(f"the solve failed {where} at t = {float(st[1]):g} s")
    tb, r, J, r0 = (np.asarray(a) for a in (tb, r, J, r0))
    n, p = r.size, tb.size
    s2 = float(r @ r) / max(n - p, 1)
    try:
        cov = np.linalg.inv(J.T @ J) * s2
    except np.linalg.LinAlgError:
        cov = np.full((p, p), np.nan)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(se, se)
    bounds = [(f.low, f.high) for f in fits]
    cal = Calibration([f.path for f in fits], [q.unit for q in model.parameters], model.theta0.copy(), tb[:P],
                      se[:P], corr, [f.path for f in fits] + [f"{tags[k].tag}.bias" for k in biased], bounds,
                      [], s2, n, int(steps), int(result) == 0, _lm_message(int(result)), wall, t1 - t0)
    for j, at in enumerate(cal.at_bound()):
        if at:
            cal.standard_error[j] = np.nan
    fitted_bias = dict(zip(biased, tb[P:]))
    bias_se = dict(zip(biased, se[P:]))
    for k, s in enumerate(tags):
        sel = owner == k
        meas = m_obs[sel]
        after = meas + r[sel] * sigma[sel]  # model + bias
        before = meas + r0[sel] * sigma[sel]
        err = meas - after
        dof = max(s.t.size - P, 1)
        mean = float(np.mean(meas))
        cal.signals.append(SignalFit(
            s.tag, s.signal, s.si_unit, int(s.t.size), s.t, meas, before, after, float(fitted_bias.get(k, 0.0)),
            float(bias_se.get(k, np.nan)), 100 * float(err.sum()) / (dof * mean),
            100 * float(np.sqrt((err @ err) / dof)) / mean, float(np.sqrt(np.mean(err ** 2))),
            float(np.sqrt(np.mean((meas - before) ** 2))), float(np.mean(err))))
    return cal


def _lm_message(code: int) -> str:
    import optimistix as optx

    return "converged" if code == 0 else str(optx.RESULTS[code])


def plot(cal: Calibration, path) -> None:
    """One panel per tag: measured, model before and after; residuals beneath (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from twin.results import write_bytes_atomic

    k = len(cal.signals)
    fig = Figure(figsize=(9, 2.6 * k + 0.6), layout="constrained")
    axes = fig.subplots(k, 2, squeeze=False, width_ratios=(3, 1))
    for (ax, axr), s in zip(axes, cal.signals):
        h = s.t / 3600
        ax.plot(h, s.measured, ".", ms=2, color="0.5", label="log")
        ax.plot(h, s.before, "-", lw=1, color="tab:orange", label="model, start")
        ax.plot(h, s.after, "-", lw=1.2, color="tab:blue", label="model, fitted")
        ax.set_title(f"{s.tag} ({s.signal}): RMSE {s.rmse:.3g} {s.unit} (start {s.rmse_before:.3g}), "
                     f"NMBE {s.nmbe:+.2f} %, CV(RMSE) {s.cv_rmse:.2f} %", fontsize=8)
        ax.set_ylabel(s.unit or "1")
        ax.set_xlabel("time since start [h]")
        axr.hist(s.measured - s.after, bins=40, color="tab:blue")
        axr.set_title("residual (log - model)", fontsize=8)
    axes[0][0].legend(fontsize=7)
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    write_bytes_atomic(path, buf.getvalue())
