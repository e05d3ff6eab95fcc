"""Heat-integration targets by pinch analysis (problem-table algorithm).

Given the process streams that must be heated or cooled, pinch analysis gives, before
any exchanger network is designed, the least hot and cold utility a network with a
minimum approach temperature ``dT_min`` can need, hence the most heat it can recover.
A simulated plant's recovered heat can then be compared with that target
(:func:`recovery_gap`).

Units are SI: temperatures in K, heat-capacity flow rates ``CP`` in W/K, heat duties in
W. The algebra is linear in ``CP``, so a stream given as energy per time slice (``CP``
in J/K) yields duties in J; :func:`sliced_targets` instead keeps W per slice and
multiplies by the slice durations.

Conventions:

* a stream is *hot* (to be cooled) if ``T_supply > T_target``, *cold* otherwise;
* shifted temperatures: hot streams ``T - dT_min/2``, cold streams ``T + dT_min/2``, so
  that heat can flow from any hot interval to any cold interval at or below it;
* the cascade is the heat flowing down past each shifted-temperature boundary once
  the minimum hot utility is fed in at the top; it is never negative, and zero at the
  pinch.

References
----------
B. Linnhoff and E. Hindmarsh, "The pinch design method for heat exchanger networks",
Chem. Eng. Sci. 38 (1983) 745-763.
B. Linnhoff et al., "A User Guide on Process Integration for the Efficient Use of
Energy", IChemE, 1982.
I. C. Kemp, "Pinch Analysis and Process Integration", 2nd ed., Butterworth-Heinemann,
2007, ch. 2-4 (targets, problem table, composite curves) and ch. 10 (time slices).
R. Smith, "Chemical Process Design and Integration", Wiley, 2005, ch. 16-17.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_REL_TOL = 1e-9  # relative to the total stream duty: heat flows below this count as zero
_T_SAME = 1e-9  # K: zero-flow boundaries closer than this are one pinch (round-off)


@dataclass(frozen=True)
class PinchStream:
    """A process stream to be heated or cooled at constant heat-capacity flow rate.

    Parameters
    ----------
    name : str
        Label used in error messages.
    T_supply, T_target : float
        Supply and target temperatures, K (finite, > 0, different).
    CP : float
        Heat-capacity flow rate m_dot * c_p, W/K (finite, > 0).

    Raises
    ------
    ValueError
        Naming the stream and the offending field.
    """

    name: str
    T_supply: float
    T_target: float
    CP: float

    def __post_init__(self):
        for field in ("T_supply", "T_target", "CP"):
            value = float(getattr(self, field))
            if not (math.isfinite(value) and value > 0.0):
                unit = "W/K" if field == "CP" else "K"
                raise ValueError(
                    f"PinchStream {self.name!r}: {field} must be finite and > 0 {unit}, "
                    f"got {value!r}"
                )
        if self.T_supply == self.T_target:
            raise ValueError(
                f"PinchStream {self.name!r}: T_target must differ from T_supply "
                f"(both {self.T_supply!r} K)"
            )

    @property
    def kind(self) -> str:
        """``"hot"`` (to be cooled, T_supply > T_target) or ``"cold"`` (to be heated)."""
        return "hot" if self.T_supply > self.T_target else "cold"

    @property
    def duty(self) -> float:
        """Heat to remove (hot) or supply (cold), W: ``CP * |T_supply - T_target|``."""
        return self.CP * abs(self.T_supply - self.T_target)


@dataclass(frozen=True, eq=False)
class PinchResult:
    """Energy targets and problem table of a stream set at one ``dT_min``.

    Attributes
    ----------
    dT_min : float
        Minimum approach temperature, K.
    Q_H_min, Q_C_min : float
        Minimum hot and cold utility, W.
    Q_rec_max : float
        Maximum heat recovery, W: total hot-stream duty minus ``Q_C_min``.
    pinches : tuple of float
        Shifted temperatures, K, of every interior interval boundary where the cascade
        is zero (several when the cascade stays zero over intervals of zero net CP;
        boundaries within 1e-9 K, split by round-off, count once).
        Empty for a threshold problem, where the cascade only vanishes at an end.
    T_pinch : float or None
        The hottest of ``pinches`` (shifted temperature, K); None without a pinch.
    T_pinch_hot, T_pinch_cold : float or None
        Hot- and cold-stream pinch temperatures, K: ``T_pinch +/- dT_min/2``.
    T_shifted : ndarray, shape (n,)
        Interval boundaries, shifted temperatures, K, descending.
    interval_surplus : ndarray, shape (n-1,)
        Net heat released in each interval, W (> 0 surplus, < 0 deficit):
        ``(sum CP_hot - sum CP_cold) * (T_shifted[k] - T_shifted[k+1])``.
    cascade : ndarray, shape (n,)
        Heat flowing down past each boundary, W, with ``Q_H_min`` fed at the top:
        ``cascade[0] == Q_H_min`` and ``cascade[-1] == Q_C_min``.

    Notes
    -----
    Arrays are read-only; equality is identity (arrays have no single truth value).
    """

    dT_min: float
    Q_H_min: float
    Q_C_min: float
    Q_rec_max: float
    pinches: tuple[float, ...]
    T_pinch: float | None
    T_pinch_hot: float | None
    T_pinch_cold: float | None
    T_shifted: np.ndarray
    interval_surplus: np.ndarray
    cascade: np.ndarray

    @property
    def grand_composite_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """Grand composite curve as ``(H, T)``: net heat flow, W, vs shifted temperature, K.

        The same points as ``(cascade, T_shifted)``, in the ``(H, T)`` order of
        :func:`composite_curves`; it touches ``H = 0`` at the pinch (Kemp 2007, ch. 4).
        """
        return self.cascade, self.T_shifted


def _check_dT_min(dT_min: float) -> float:
    value = float(dT_min)
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"dT_min must be finite and >= 0 K, got {value!r}")
    return value


def _shifted_range(stream: PinchStream, dT_min: float) -> tuple[float, float]:
    """``(low, high)`` shifted temperatures of a stream, K."""
    shift = -dT_min / 2 if stream.kind == "hot" else dT_min / 2
    low, high = sorted((stream.T_supply, stream.T_target))
    return low + shift, high + shift


def _boundaries(ranges: Sequence[tuple[float, float]]) -> np.ndarray:
    """Distinct interval boundaries, ascending."""
    return np.unique(np.ravel(ranges))


def _interval_CP(ranges, CPs, lows, highs) -> np.ndarray:
    """Sum of ``CPs`` of the ranges spanning each interval ``(lows[k], highs[k])``, W/K."""
    mids = 0.5 * (lows + highs)
    spans = np.array([(lo <= mids) & (mids <= hi) for lo, hi in ranges])
    return np.asarray(CPs, dtype=float) @ spans


def _pinches(T: np.ndarray, cascade: np.ndarray, tol: float) -> tuple[float, ...]:
    """Interior boundaries of zero cascade, descending, one per cluster within ``_T_SAME``.

    Temperatures that meet at a pinch on paper (a hot end and a cold end ``dT_min``
    apart, say in degC converted to K) can differ by round-off once shifted, leaving a
    sliver interval with a zero flow at both of its ends: that is one pinch, the hotter.
    """
    pinches: list[float] = []
    for t in T[1:-1][cascade[1:-1] <= tol]:
        if not pinches or pinches[-1] - t > _T_SAME:
            pinches.append(float(t))
    return tuple(pinches)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    a.setflags(write=False)
    return a


def problem_table(streams: Sequence[PinchStream], dT_min: float) -> PinchResult:
    """Minimum utilities, maximum recovery and pinch by the problem-table algorithm.

    Stream temperatures are shifted (hot down, cold up, by ``dT_min/2``); between
    consecutive shifted temperatures each interval releases
    ``(sum CP_hot - sum CP_cold) * dT``. Cascading these surpluses downward from zero,
    the most negative flow is the least hot utility that keeps every flow >= 0; the
    flow left at the bottom is the least cold utility; boundaries where the cascade is
    zero are pinches (Linnhoff & Hindmarsh 1983; Kemp 2007, ch. 2).

    Parameters
    ----------
    streams : sequence of PinchStream
        At least one stream; CP in W/K, temperatures in K.
    dT_min : float
        Minimum approach temperature, K (finite, >= 0).

    Returns
    -------
    PinchResult
        Targets in W, temperatures in K.

    Raises
    ------
    ValueError
        If ``dT_min`` is negative or not finite, or ``streams`` is empty.
    """
    dT_min = _check_dT_min(dT_min)
    if not streams:
        raise ValueError("streams must hold at least one PinchStream")
    ranges = [_shifted_range(s, dT_min) for s in streams]
    signed_CP = [s.CP if s.kind == "hot" else -s.CP for s in streams]

    T = _boundaries(ranges)[::-1]
    net_CP = _interval_CP(ranges, signed_CP, T[1:], T[:-1])
    surplus = net_CP * (T[:-1] - T[1:])
    flows = np.concatenate(([0.0], np.cumsum(surplus)))
    cascade = flows - flows.min()

    Q_hot = sum(s.duty for s in streams if s.kind == "hot")
    tol = _REL_TOL * sum(s.duty for s in streams)
    Q_C_min = float(cascade[-1])
    Q_rec_max = Q_hot - Q_C_min
    pinches = _pinches(T, cascade, tol)
    T_pinch = pinches[0] if pinches else None
    return PinchResult(
        dT_min=dT_min,
        Q_H_min=float(cascade[0]),
        Q_C_min=Q_C_min,
        Q_rec_max=Q_rec_max if Q_rec_max > tol else 0.0,
        pinches=pinches,
        T_pinch=T_pinch,
        T_pinch_hot=None if T_pinch is None else T_pinch + dT_min / 2,
        T_pinch_cold=None if T_pinch is None else T_pinch - dT_min / 2,
        T_shifted=_frozen(T),
        interval_surplus=_frozen(surplus),
        cascade=_frozen(cascade),
    )


def _composite(streams: Sequence[PinchStream], H0: float) -> tuple[np.ndarray, np.ndarray]:
    """One composite curve ``(H, T)``, ascending in T, starting at enthalpy ``H0``."""
    if not streams:
        return np.empty(0), np.empty(0)
    ranges = [tuple(sorted((s.T_supply, s.T_target))) for s in streams]
    T = _boundaries(ranges)
    CP = _interval_CP(ranges, [s.CP for s in streams], T[:-1], T[1:])
    H = H0 + np.concatenate(([0.0], np.cumsum(CP * np.diff(T))))
    return H, T


def composite_curves(
    streams: Sequence[PinchStream], dT_min: float
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Hot and cold composite curves, placed so that they touch at the pinch.

    Each curve is ``(H, T)``: cumulative enthalpy flow, W, against actual temperature,
    K, both ascending. The hot curve starts at ``H = 0``; the cold curve starts at
    ``H = Q_C_min``, so the curves come within exactly ``dT_min`` at the pinch, the
    hot curve overhangs the cold one by ``Q_C_min`` at the cold end and the cold curve
    the hot one by ``Q_H_min`` at the hot end, and their horizontal overlap is
    ``Q_rec_max`` (Kemp 2007, ch. 2). A temperature range crossed by no stream of a
    kind is a vertical segment of that curve. A kind with no stream gives empty arrays.

    Parameters
    ----------
    streams : sequence of PinchStream
        CP in W/K, temperatures in K.
    dT_min : float
        Minimum approach temperature, K (finite, >= 0).

    Returns
    -------
    hot, cold : tuple of (ndarray, ndarray)
        ``(H, T)`` of the hot and the cold composite curve.
    """
    result = problem_table(streams, dT_min)
    hot = _composite([s for s in streams if s.kind == "hot"], 0.0)
    cold = _composite([s for s in streams if s.kind == "cold"], result.Q_C_min)
    return hot, cold


def recovery_gap(result: PinchResult, Q_recovered: float) -> float:
    """Fraction of the achievable heat recovery that a simulated plant reaches.

    Returns ``Q_recovered / result.Q_rec_max`` (1 means the target is met; the gap
    left is ``1 - value``). ``Q_recovered`` is in the units of the targets (W, or J
    against energy targets). When nothing is recoverable (``Q_rec_max == 0``, e.g. a
    stream set with only hot or only cold streams) the ratio is undefined: nan.
    """
    if result.Q_rec_max == 0.0:
        return math.nan
    return float(Q_recovered) / result.Q_rec_max


def sliced_targets(
    slices: Mapping[str, Sequence[PinchStream]],
    durations: Mapping[str, float],
    dT_min: float,
) -> dict:
    """Energy targets over an operating period by the time-slice model.

    The period is cut into slices during which the streams are steady; each slice is
    targeted on its own by :func:`problem_table` and its power targets, W, are
    multiplied by its duration, s. No heat is stored between slices, so the totals are
    the targets of direct heat recovery only (Linnhoff's time-slice model; Kemp 2007,
    ch. 10).

    Parameters
    ----------
    slices : mapping of str to sequence of PinchStream
        Streams of each slice (CP in W/K, temperatures in K).
    durations : mapping of str to float
        Duration of each slice, s (finite, >= 0); same keys as ``slices``.
    dT_min : float
        Minimum approach temperature, K, used in every slice.

    Returns
    -------
    dict
        ``"slices"``: PinchResult per slice name; ``"Q_rec_max_J"``, ``"Q_H_min_J"``,
        ``"Q_C_min_J"``: sums over slices of the target times the duration, J.

    Raises
    ------
    ValueError
        If the keys of ``durations`` and ``slices`` differ or a duration is negative or
        not finite.
    """
    if set(durations) != set(slices):
        raise ValueError(
            f"durations keys {sorted(durations)} must match slices keys {sorted(slices)}"
        )
    for name, duration in durations.items():
        if not (math.isfinite(float(duration)) and duration >= 0.0):
            raise ValueError(f"durations[{name!r}] must be finite and >= 0 s, got {duration!r}")
    results = {name: problem_table(streams, dT_min) for name, streams in slices.items()}

    def energy(field: str) -> float:
        return sum(getattr(results[name], field) * durations[name] for name in results)

    return {
        "slices": results,
        "Q_rec_max_J": energy("Q_rec_max"),
        "Q_H_min_J": energy("Q_H_min"),
        "Q_C_min_J": energy("Q_C_min"),
    }


# ---------------------------------------------------------------------- targets of a run
@dataclass(frozen=True)
class RunStream:
    """A pinch stream of a simulated run (built from the scenario's ``pinch:`` block).

    Either ``connection`` names a connection (outlet ``component.port``) whose cumulative
    integrals ``pinch_heat = ∫ m (h - h(T_target)) dt``, ``mass = ∫ m dt`` and
    ``mT = ∫ m T dt`` the plant integrated, or ``supply`` [K] and ``CP`` (a function of
    time, s -> W/K) give the stream by numbers. ``target`` is in K.
    """

    name: str
    target: float
    connection: str | None = None
    supply: float | None = None
    CP: Callable[[np.ndarray], np.ndarray] | None = None


@dataclass(frozen=True, eq=False)
class RunTargets:
    """Pinch targets of a run, per time slice and for the whole run.

    Attributes
    ----------
    dT_min : float
        Minimum approach temperature, K.
    t_start, t_end : ndarray, shape (n_slices,)
        Slice bounds, s (on the run's output times).
    phase : tuple of str
        Production-phase label of each slice (``""`` without phases).
    T_supply, CP : ndarray, shape (n_slices, n_streams)
        Each stream's mean supply temperature, K, and heat-capacity flow rate, W/K, per
        slice; CP is 0 (and T_supply NaN) where the stream does not run in the slice.
    streams : tuple of str
        Stream names; ``T_target`` their targets, K; ``kind`` "hot" or "cold" over the run.
    slices : tuple of PinchResult or None
        The problem table of each slice (None: fewer than one hot and one cold stream ran).
    Q_rec_max, Q_H_min, Q_C_min, T_pinch_hot : ndarray, shape (n_slices,)
        Per-slice targets times the slice duration, J; hot pinch temperature, K (NaN: none).
    recovered : ndarray, shape (n_slices,)
        Heat the simulated plant recovered in each slice, J (NaN when not given).
    direct : float
        Direct-recovery target of the run, J: the sum over slices (time-slice model).
    storage : PinchResult
        The whole run targeted with its mean streams (time-average model, W): what a
        network with ideal heat storage between slices could recover, ``storage.Q_rec_max *
        duration`` J. ``storage_J`` holds that figure, J.
    """

    dT_min: float
    t_start: np.ndarray
    t_end: np.ndarray
    phase: tuple[str, ...]
    streams: tuple[str, ...]
    T_target: np.ndarray
    kind: tuple[str, ...]
    T_supply: np.ndarray
    CP: np.ndarray
    slices: tuple[PinchResult | None, ...]
    Q_rec_max: np.ndarray
    Q_H_min: np.ndarray
    Q_C_min: np.ndarray
    T_pinch_hot: np.ndarray
    recovered: np.ndarray
    direct: float
    storage: PinchResult | None
    storage_J: float
    storage_streams: tuple[PinchStream, ...]

    @property
    def recovered_total(self) -> float:
        """Heat the simulated plant recovered over the run, J (NaN when not given)."""
        return float(np.sum(self.recovered))

    @property
    def attainment(self) -> float:
        """Simulated recovery over the storage (time-average) target: 1 = target met."""
        if not (self.storage_J > 0.0):
            return math.nan
        return self.recovered_total / self.storage_J


@dataclass(frozen=True)
class PinchConfig:
    """The scenario's ``pinch:`` block, ready for :func:`run_targets`.

    ``streams`` are :class:`RunStream`; ``dT_min`` K; ``max_slice`` s; ``cuts`` the times,
    s, where the production phases change; ``phase_of(t)`` the label of the phase at time
    ``t`` (``""`` without phases).
    """

    streams: tuple[RunStream, ...]
    dT_min: float
    max_slice: float
    cuts: tuple[float, ...] = ()
    phase_of: Callable[[float], str] = lambda t: ""

    def targets(self, ts: np.ndarray, connections, recovered: np.ndarray | None) -> RunTargets:
        """Targets of a run with output times ``ts``; see :func:`run_targets`."""
        bounds = slice_bounds(ts, self.max_slice, self.cuts)
        mid = 0.5 * (ts[bounds[:-1]] + ts[bounds[1:]])
        return run_targets(ts, connections, self.streams, self.dT_min, bounds,
                           phase=[self.phase_of(t) for t in mid], recovered=recovered)


def slice_bounds(ts: np.ndarray, max_slice: float, cuts: Sequence[float] = ()) -> np.ndarray:
    """Indices into the output times ``ts`` [s] that cut a run into time slices.

    The run is cut at every time in ``cuts`` (phase changes), s, and so that no slice is
    longer than ``max_slice``, s; each cut is moved to the nearest output time (the
    integrals are known only there). Returns increasing indices from 0 to ``len(ts) - 1``.
    """
    ts = np.asarray(ts, dtype=float)
    times = sorted({ts[0], ts[-1], *(float(t) for t in cuts if ts[0] < t < ts[-1])})
    cut = []
    for a, b in itertools.pairwise(times):
        n = max(1, math.ceil((b - a) / max_slice - 1e-9))
        cut.extend(a + (b - a) * np.arange(n) / n)
    cut.append(times[-1])
    return np.array(sorted({int(np.argmin(np.abs(ts - t))) for t in cut}))


def _mean_CP(CP: Callable, a: float, b: float) -> float:
    """Time mean of ``CP(t)`` over ``[a, b]`` by the midpoint rule on 1-minute panels (at
    least 64): exact enough for step schedules, whose jumps fall in one panel."""
    n = max(64, math.ceil((b - a) / 60.0))
    t = a + (np.arange(n) + 0.5) * (b - a) / n
    return float(np.mean(np.asarray(CP(t), dtype=float)))


def _slice_streams(specs, ts, conns, i0: int, i1: int, kinds) -> tuple[list[PinchStream], np.ndarray, np.ndarray]:
    """Steady streams of the slice ``ts[i0]..ts[i1]``, with each stream's (T_supply, CP)."""
    d = ts[i1] - ts[i0]
    out, T_s, CPs = [], np.full(len(specs), np.nan), np.zeros(len(specs))
    for k, (spec, kind) in enumerate(zip(specs, kinds)):
        if spec.connection is not None:
            c = conns[spec.connection]
            M = c["mass"][i1] - c["mass"][i0]
            Q = c["pinch_heat"][i1] - c["pinch_heat"][i0]  # > 0: above the target
            if not M > 0.0:
                continue
            T = (c["mT"][i1] - c["mT"][i0]) / M
            duty = Q if kind == "hot" else -Q
            dT = (T - spec.target) if kind == "hot" else (spec.target - T)
            if not (duty > 0.0 and dT > _T_SAME):
                continue
            CP = duty / (d * dT)
        else:
            T, CP = spec.supply, _mean_CP(spec.CP, ts[i0], ts[i1])
            if not CP > 0.0:
                continue
        out.append(PinchStream(spec.name, T, spec.target, CP))
        T_s[k], CPs[k] = T, CP
    return out, T_s, CPs


def _targets(streams: Sequence[PinchStream], dT_min: float) -> PinchResult | None:
    kinds = {s.kind for s in streams}
    return problem_table(streams, dT_min) if kinds == {"hot", "cold"} else None


def run_targets(
    ts: np.ndarray,
    connections: Mapping[str, Mapping[str, np.ndarray]],
    specs: Sequence[RunStream],
    dT_min: float,
    bounds: np.ndarray,
    phase: Sequence[str] | None = None,
    recovered: np.ndarray | None = None,
) -> RunTargets:
    """Pinch targets of a simulated run, slice by slice and over the whole run.

    Each slice between consecutive ``bounds`` (indices into the output times ``ts``, s)
    is treated as steady: a connection stream's supply temperature is its flow-weighted
    mean, ``∫ m T dt / ∫ m dt``, and its heat-capacity flow rate the one that gives up
    (hot) or takes (cold) the simulated enthalpy ``∫ m (h - h(T_target)) dt`` over that
    temperature span in the slice's duration; a stream given by numbers takes its CP's time
    mean. A stream is hot if its target lies below its supply over the whole run; in a slice
    where it does not run, or sits on the wrong side of its target, it is left out. Each
    slice is targeted by :func:`problem_table` (time-slice model: direct recovery only),
    and the whole run once with its mean streams (time-average model: the bound with ideal
    heat storage, ``>=`` the direct target; Kemp 2007, ch. 10).

    Parameters
    ----------
    ts : Output times of the run, s.
    connections : Per connection named by a stream, the cumulative integrals
        ``pinch_heat`` [J], ``mass`` [kg] and ``mT`` [kg K] at ``ts``.
    specs : The streams.
    dT_min : Minimum approach temperature, K.
    bounds : Slice bounds, from :func:`slice_bounds`.
    phase : Label of each slice (default ``""``).
    recovered : Cumulative heat the plant recovered, J, at ``ts`` (default: unknown, NaN).
    """
    ts = np.asarray(ts, dtype=float)
    _check_dT_min(dT_min)
    whole = np.array([0, len(ts) - 1])
    kinds = []
    for spec in specs:
        if spec.connection is not None:
            c = connections[spec.connection]
            M = c["mass"][-1]
            T_mean = c["mT"][-1] / M if M > 0 else spec.target
            kinds.append("hot" if T_mean > spec.target else "cold")
        else:
            kinds.append("hot" if spec.supply > spec.target else "cold")
    n = len(bounds) - 1
    rows = [_slice_streams(specs, ts, connections, bounds[j], bounds[j + 1], kinds) for j in range(n)]
    results = tuple(_targets(r[0], dT_min) for r in rows)
    d = np.diff(ts[bounds])

    def per_slice(field: str) -> np.ndarray:
        return np.array([getattr(r, field) * d[j] if r is not None else 0.0 for j, r in enumerate(results)])

    avg_streams, _, _ = _slice_streams(specs, ts, connections, whole[0], whole[1], kinds)
    storage = _targets(avg_streams, dT_min)
    rec = (np.diff(np.asarray(recovered, dtype=float)[bounds]) if recovered is not None
           else np.full(n, np.nan))
    q_rec = per_slice("Q_rec_max")
    return RunTargets(
        dT_min=float(dT_min), t_start=ts[bounds[:-1]], t_end=ts[bounds[1:]],
        phase=tuple(phase) if phase is not None else ("",) * n,
        streams=tuple(s.name for s in specs), T_target=np.array([s.target for s in specs]),
        kind=tuple(kinds), T_supply=np.array([r[1] for r in rows]).reshape(n, len(specs)),
        CP=np.array([r[2] for r in rows]).reshape(n, len(specs)), slices=results,
        Q_rec_max=q_rec, Q_H_min=per_slice("Q_H_min"), Q_C_min=per_slice("Q_C_min"),
        T_pinch_hot=np.array([r.T_pinch_hot if r is not None and r.T_pinch_hot is not None
                              else np.nan for r in results]),
        recovered=rec, direct=float(np.sum(q_rec)), storage=storage,
        storage_J=(storage.Q_rec_max * (ts[-1] - ts[0]) if storage is not None else 0.0),
        storage_streams=tuple(avg_streams),
    )
