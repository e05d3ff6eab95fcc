"""Comparing a twin signal with a reference signal: a tube (funnel) test and error statistics.

Two kinds of comparison, each returning a :class:`Comparison` that keeps its data for the
report's overlay plot:

* :func:`funnel`, for reference *simulations* (Dymola trajectories, analytic solutions),
  in the spirit of BuildingsPy's funnel: at every reference sample ``t_i`` the twin may
  differ by at most ``atol + rtol * scale`` (``scale`` = the largest ``|y_ref|``, so ``rtol``
  is relative to the normalised signal), and may be early or late by up to ``dt`` seconds
  (the tube's horizontal half-width, for fronts and steps): the error at ``t_i`` is the
  smallest ``|y(τ) - y_ref(t_i)|`` over ``|τ - t_i| <= dt``. It passes if no sample leaves
  the tube.
* :func:`statistics`, for *measurements*: root-mean-square error and mean bias over the
  samples, each against its own bound (ASHRAE Guideline 14 style goodness of fit).

The twin signal is interpolated linearly between its output times; reference samples
outside the twin's time span, or masked out by the case (zero-flow samples, a start-up
transient), are not judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Comparison:
    """One judged signal of a validation case.

    Attributes
    ----------
    signal : What is compared (``"T_b1"``, ``"Q1_flow"``).
    kind : ``"funnel"``, ``"rmse"`` or ``"bias"``.
    error : funnel: the largest error over the judged samples; rmse: the RMSE; bias:
        |mean error|. In ``unit``.
    tolerance : The bound ``error`` must not exceed (funnel: its largest half-width).
    unit : Unit of ``error`` and ``tolerance``.
    passed : Whether the signal passed.
    why : Where the tolerance comes from (VALIDATION_CASES.md, the reference's own
        scatter, ...).
    t_ref, y_ref, t, y : The data, for plots (reference samples; twin samples).
    band : Half-width of the tube at each reference sample (funnel), else None.
    """

    signal: str
    kind: str
    error: float
    tolerance: float
    unit: str
    passed: bool
    why: str = ""
    t_ref: np.ndarray = field(default_factory=lambda: np.empty(0))
    y_ref: np.ndarray = field(default_factory=lambda: np.empty(0))
    t: np.ndarray = field(default_factory=lambda: np.empty(0))
    y: np.ndarray = field(default_factory=lambda: np.empty(0))
    band: np.ndarray | None = None


def _judged(t_ref, t, mask) -> np.ndarray:
    inside = (t_ref >= t[0] - 1e-9) & (t_ref <= t[-1] + 1e-9)
    return inside if mask is None else inside & np.asarray(mask, dtype=bool)


def funnel_errors(t_ref, y_ref, t, y, dt: float = 0.0, n_sub: int = 41) -> np.ndarray:
    """Error of the twin ``(t, y)`` at each reference sample ``(t_ref, y_ref)`` with a time
    tolerance ``dt`` [s]: ``min |y(τ) - y_ref|`` over ``τ`` in ``[t_i - dt, t_i + dt]``
    (clipped to the twin's span), ``τ`` sampled at ``n_sub`` points and every twin output
    time inside (``y`` linear in between, so the minimum over the interval is exact up to
    the crossings, which the sub-samples bracket)."""
    t_ref, y_ref, t, y = (np.asarray(a, dtype=float) for a in (t_ref, y_ref, t, y))
    if dt <= 0.0:
        return np.abs(np.interp(t_ref, t, y) - y_ref)
    out = np.empty_like(y_ref)
    for i, (ti, yi) in enumerate(zip(t_ref, y_ref, strict=True)):
        lo, hi = max(ti - dt, t[0]), min(ti + dt, t[-1])
        tau = np.concatenate([np.linspace(lo, hi, n_sub), t[(t > lo) & (t < hi)]])
        d = np.interp(tau, t, y) - yi
        # a sign change between samples means the twin crosses y_ref inside the window
        out[i] = 0.0 if (d.min() <= 0.0 <= d.max()) else np.abs(d).min()
    return out


def funnel(signal: str, t_ref, y_ref, t, y, *, atol: float, rtol: float = 0.0, dt: float = 0.0,
           unit: str = "", why: str = "", mask=None) -> Comparison:
    """Tube test of the twin signal against a reference trajectory (module docstring)."""
    t_ref, y_ref, t, y = (np.asarray(a, dtype=float) for a in (t_ref, y_ref, t, y))
    judged = _judged(t_ref, t, mask)
    if not judged.any():
        raise ValueError(f"{signal}: no reference sample inside the twin's time span")
    scale = float(np.max(np.abs(y_ref[judged])))
    half = atol + rtol * scale
    err = funnel_errors(t_ref[judged], y_ref[judged], t, y, dt)
    worst = float(err.max())
    return Comparison(signal, "funnel", worst, half, unit, bool(np.all(err <= half) and math.isfinite(worst)),
                      why, t_ref, y_ref, t, y, np.where(judged, half, np.nan))


def statistics(signal: str, t_ref, y_ref, t, y, *, rmse_max: float, bias_max: float | None = None,
               unit: str = "", why: str = "", mask=None) -> list[Comparison]:
    """RMSE (and, with ``bias_max``, |mean bias|) of the twin against measured samples."""
    t_ref, y_ref, t, y = (np.asarray(a, dtype=float) for a in (t_ref, y_ref, t, y))
    judged = _judged(t_ref, t, mask) & np.isfinite(y_ref)
    if not judged.any():
        raise ValueError(f"{signal}: no measured sample inside the twin's time span")
    e = np.interp(t_ref[judged], t, y) - y_ref[judged]
    rmse = float(np.sqrt(np.mean(e * e)))
    out = [Comparison(signal, "rmse", rmse, rmse_max, unit, bool(rmse <= rmse_max), why, t_ref, y_ref, t, y)]
    if bias_max is not None:
        bias = float(abs(np.mean(e)))
        out.append(Comparison(signal, "bias", bias, bias_max, unit, bool(bias <= bias_max), why, t_ref, y_ref, t, y))
    return out


def noise_floor(label: str, ref, other, names, *, atol: float, unit: str = "", why: str = "") -> Comparison:
    """The scatter between two reference runs of the same model (e.g. IBPSA against
    Modelica Buildings), judged on the worst of ``names`` against the tightest tolerance the
    case uses: if two references differ by more, that tolerance is below the references'
    own noise (VALIDATION_CASES.md, "NOISE floor"). ``ref`` and ``other`` are
    :class:`~twin.validation.reference.DymolaResult`."""
    worst = max(names, key=lambda n: float(np.max(np.abs(np.interp(ref.time, other.time, other[n]) - ref[n]))))
    return funnel(f"noise floor: {label} {worst}", ref.time, ref[worst], other.time, other[worst],
                  atol=atol, unit=unit, why=why)
