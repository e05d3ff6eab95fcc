"""Pinch analysis: problem table, composite curves, recovery gap, time slices."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.pinch import (
    PinchStream,
    composite_curves,
    problem_table,
    recovery_gap,
    sliced_targets,
)

C0 = 273.15  # K at 0 degC
KW = 1e3  # W per kW


def kemp_streams() -> list[PinchStream]:
    """The four-stream example (Linnhoff et al. 1982 User Guide; Kemp 2007, ch. 2), SI."""
    return [
        PinchStream("1 cold", 20 + C0, 135 + C0, 2.0 * KW),
        PinchStream("2 hot", 170 + C0, 60 + C0, 3.0 * KW),
        PinchStream("3 cold", 80 + C0, 140 + C0, 4.0 * KW),
        PinchStream("4 hot", 150 + C0, 30 + C0, 1.5 * KW),
    ]


# ---------------------------------------------------------------- independent references


def heat_deficit_targets(streams, dT_min) -> tuple[float, float]:
    """(Q_H_min, Q_C_min) without intervals: the hot utility is the largest net demand of
    the streams above any shifted temperature (Kemp 2007, ch. 2), then energy balance."""

    def shifted(s):
        shift = -dT_min / 2 if s.kind == "hot" else dT_min / 2
        return min(s.T_supply, s.T_target) + shift, max(s.T_supply, s.T_target) + shift

    def demand_above(theta):
        sign = {"hot": -1.0, "cold": 1.0}
        return sum(
            sign[s.kind] * s.CP * max(0.0, shifted(s)[1] - max(theta, shifted(s)[0]))
            for s in streams
        )

    Q_H = max(0.0, *(demand_above(t) for s in streams for t in shifted(s)))
    balance = sum(s.duty if s.kind == "hot" else -s.duty for s in streams)
    return Q_H, Q_H + balance


def limit_T(H, T, h, side):
    """Temperature of a composite curve just left or right of enthalpy ``h``.

    The curves are monotone with possible vertical segments (temperature ranges no stream
    crosses), which carry no heat, so the approach is compared through one-sided limits.
    """
    i = np.searchsorted(H, h, side=side)
    j = i - 1
    return T[j] + (T[i] - T[j]) * (h - H[j]) / (H[i] - H[j])


def overlap_approaches(hot, cold, sliver=0.0) -> tuple[float, np.ndarray]:
    """(horizontal overlap, hot minus cold temperature at both ends of every piece).

    Pieces of the overlap no longer than ``sliver`` (W) are skipped: round-off in the
    enthalpies can shift a breakpoint of one curve just past a vertical segment of the
    other, opening a sliver where the curves seem to cross.
    """
    lo, hi = max(hot[0][0], cold[0][0]), min(hot[0][-1], cold[0][-1])
    H = np.unique(np.concatenate((hot[0], cold[0], [lo, hi])))
    H = H[(H >= lo) & (H <= hi)]
    gaps = [
        limit_T(*hot, h, side) - limit_T(*cold, h, side)
        for a, b in pairwise(H)
        if b - a > sliver
        for h, side in ((a, "right"), (b, "left"))
    ]
    return max(hi - lo, 0.0), np.array(gaps)


# ---------------------------------------------------------------- random stream sets

temperature = st.one_of(st.integers(250, 700).map(float), st.floats(250.0, 700.0))
stream = st.builds(
    lambda T, dT, hot, CP: PinchStream("s", *((T + dT, T) if hot else (T, T + dT)), CP),
    temperature,
    st.one_of(st.integers(1, 200).map(float), st.floats(0.5, 200.0)),
    st.booleans(),
    st.one_of(st.sampled_from([1.0, 2.0, 3.0]), st.floats(0.1, 1e4)),
)
stream_sets = st.lists(stream, min_size=1, max_size=6)
dT_mins = st.one_of(st.sampled_from([0.0, 10.0]), st.floats(0.0, 40.0))


# ---------------------------------------------------------------- 1. the classic example


def test_four_stream_example_targets():
    # Kemp (2007) gives 20 kW hot, 60 kW cold, pinch at 85 degC shifted (90/80 degC):
    # energy balance fixes Q_H - Q_C = cold duty (470 kW) - hot duty (510 kW) = -40 kW.
    r = problem_table(kemp_streams(), 10.0)
    assert r.Q_H_min == pytest.approx(20.0 * KW, rel=1e-9)
    assert r.Q_C_min == pytest.approx(60.0 * KW, rel=1e-9)
    assert r.Q_rec_max == pytest.approx(450.0 * KW, rel=1e-9)
    assert r.pinches == pytest.approx((85 + C0,), rel=1e-9)
    assert r.T_pinch == pytest.approx(85 + C0, rel=1e-9)
    assert r.T_pinch_hot == pytest.approx(90 + C0, rel=1e-9)
    assert r.T_pinch_cold == pytest.approx(80 + C0, rel=1e-9)


def test_four_stream_example_problem_table():
    r = problem_table(kemp_streams(), 10.0)
    np.testing.assert_allclose(r.T_shifted, np.array([165, 145, 140, 85, 55, 25]) + C0, rtol=1e-12)
    np.testing.assert_allclose(r.interval_surplus, np.array([60, 2.5, -82.5, 75, -15]) * KW, rtol=1e-9)
    np.testing.assert_allclose(r.cascade, np.array([20, 80, 82.5, 0, 75, 60]) * KW, rtol=1e-9, atol=1e-6)
    H, T = r.grand_composite_curve
    assert H is r.cascade and T is r.T_shifted
    with pytest.raises(ValueError):
        r.cascade[0] = 0.0  # read-only


def test_four_stream_composite_curves_touch_at_pinch():
    hot, cold = composite_curves(kemp_streams(), 10.0)
    np.testing.assert_allclose(hot[1], np.array([30, 60, 150, 170]) + C0, rtol=1e-12)
    np.testing.assert_allclose(hot[0], np.array([0, 45, 450, 510]) * KW, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(cold[1], np.array([20, 80, 135, 140]) + C0, rtol=1e-12)
    np.testing.assert_allclose(cold[0], np.array([60, 180, 510, 530]) * KW, rtol=1e-9)
    overlap, approach = overlap_approaches(hot, cold)
    assert overlap == pytest.approx(450.0 * KW, rel=1e-9)
    assert approach.min() == pytest.approx(10.0, rel=1e-9)


@pytest.mark.parametrize(("T_pinch_hot", "dT_min"), [(90.7, 8.7), (107.0, 6.8), (97.1, 5.8)])
def test_decimal_celsius_pinch_is_one_boundary(T_pinch_hot, dT_min):
    # A hot end and a cold end meet at the pinch; converted to K and shifted they differ
    # by round-off, which must give one pinch, not two around a sliver of an interval.
    T_pinch_cold = round(T_pinch_hot - dT_min, 1)
    streams = [
        PinchStream("h1", 150 + C0, T_pinch_hot + C0, 2.0 * KW),
        PinchStream("h2", T_pinch_hot + C0, 20 + C0, 1.0 * KW),
        PinchStream("c", T_pinch_cold + C0, 140 + C0, 3.0 * KW),
    ]
    r = problem_table(streams, dT_min)
    # above the pinch c takes more than h1 gives; below it h2 has no cold stream to heat
    Q_H = 3.0 * KW * (140 - T_pinch_cold) - 2.0 * KW * (150 - T_pinch_hot)
    assert r.Q_H_min == pytest.approx(Q_H, rel=1e-9)
    assert r.Q_C_min == pytest.approx(1.0 * KW * (T_pinch_hot - 20), rel=1e-9)
    assert len(r.pinches) == 1
    assert r.T_pinch_hot == pytest.approx(T_pinch_hot + C0, rel=1e-9)
    assert r.T_pinch_cold == pytest.approx(T_pinch_cold + C0, rel=1e-9)


# ---------------------------------------------------------------- 2. identities, random sets


@settings(max_examples=50, deadline=None)
@given(stream_sets, dT_mins)
def test_energy_balance_and_cascade(streams, dT_min):
    r = problem_table(streams, dT_min)
    hot = sum(s.duty for s in streams if s.kind == "hot")
    cold = sum(s.duty for s in streams if s.kind == "cold")
    tol = 1e-9 * (hot + cold)
    assert r.Q_H_min - r.Q_C_min == pytest.approx(cold - hot, abs=tol)
    assert r.Q_rec_max == pytest.approx(hot - r.Q_C_min, abs=tol)
    Q_H, Q_C = heat_deficit_targets(streams, dT_min)
    assert r.Q_H_min == pytest.approx(Q_H, abs=tol)
    assert r.Q_C_min == pytest.approx(Q_C, abs=tol)
    assert np.all(r.cascade >= 0.0)
    assert r.cascade.min() == 0.0
    assert r.cascade[0] == r.Q_H_min and r.cascade[-1] == r.Q_C_min
    for T in r.pinches:
        assert r.cascade[np.argmin(abs(r.T_shifted - T))] <= tol
    if r.T_pinch is None:
        assert min(r.Q_H_min, r.Q_C_min) <= tol  # no pinch: a threshold problem


# ---------------------------------------------------------------- 3. composite curves


@settings(max_examples=50, deadline=None)
@given(stream_sets, dT_mins)
def test_composite_overlap_and_approach(streams, dT_min):
    r = problem_table(streams, dT_min)
    hot, cold = composite_curves(streams, dT_min)
    tol = 1e-9 * sum(s.duty for s in streams)
    if not (hot[0].size and cold[0].size):
        assert r.Q_rec_max == 0.0
        return
    assert hot[0][0] == 0.0 and cold[0][0] == r.Q_C_min
    assert hot[0][-1] == pytest.approx(sum(s.duty for s in streams if s.kind == "hot"), rel=1e-9)
    overlap, approach = overlap_approaches(hot, cold, sliver=tol)
    assert overlap == pytest.approx(r.Q_rec_max, abs=tol)
    # 1e-9 K, plus the enthalpies' round-off (1e-13 relative, ample) through slope 1/CP
    T_tol = 1e-9 + 1e-13 * sum(s.duty for s in streams) / min(s.CP for s in streams)
    assert np.all(approach >= dT_min - T_tol)


# ---------------------------------------------------------------- 4. threshold problems


@pytest.mark.parametrize(
    ("streams", "Q_H", "Q_C"),
    [
        ([PinchStream("h", 450.0, 350.0, 100.0), PinchStream("h2", 400.0, 300.0, 50.0)], 0.0, 15e3),
        ([PinchStream("c", 300.0, 350.0, 200.0)], 10e3, 0.0),
        ([PinchStream("h", 800.0, 600.0, 50.0), PinchStream("c", 300.0, 400.0, 20.0)], 0.0, 8e3),
        ([PinchStream("h", 500.0, 400.0, 10.0), PinchStream("c", 300.0, 480.0, 20.0)], 2600.0, 0.0),
    ],
    ids=["only hot", "only cold", "ample hot above", "ample cold below"],
)
def test_threshold_problems(streams, Q_H, Q_C):
    r = problem_table(streams, 10.0)
    assert r.Q_H_min == pytest.approx(Q_H, rel=1e-9)
    assert r.Q_C_min == pytest.approx(Q_C, rel=1e-9)
    assert r.pinches == () and r.T_pinch is None
    assert r.T_pinch_hot is None and r.T_pinch_cold is None


# ---------------------------------------------------------------- 5. bad input


@pytest.mark.parametrize(
    ("T_supply", "T_target", "CP", "field"),
    [
        (400.0, 300.0, 0.0, "CP"),
        (400.0, 300.0, -1.0, "CP"),
        (400.0, 300.0, math.inf, "CP"),
        (math.nan, 300.0, 1.0, "T_supply"),
        (400.0, math.nan, 1.0, "T_target"),
        (-5.0, 300.0, 1.0, "T_supply"),
        (300.0, 300.0, 1.0, "T_target"),
    ],
)
def test_bad_stream_names_field(T_supply, T_target, CP, field):
    with pytest.raises(ValueError, match=f"'bad'.*{field}"):
        PinchStream("bad", T_supply, T_target, CP)


@pytest.mark.parametrize("dT_min", [-1.0, math.nan, math.inf])
def test_bad_dT_min(dT_min):
    with pytest.raises(ValueError, match="dT_min"):
        problem_table(kemp_streams(), dT_min)
    with pytest.raises(ValueError, match="dT_min"):
        composite_curves(kemp_streams(), dT_min)


def test_no_streams():
    with pytest.raises(ValueError, match="streams"):
        problem_table([], 10.0)


# ---------------------------------------------------------------- recovery gap


def test_recovery_gap():
    r = problem_table(kemp_streams(), 10.0)
    assert recovery_gap(r, 225.0 * KW) == pytest.approx(0.5, rel=1e-12)
    assert recovery_gap(r, 450.0 * KW) == pytest.approx(1.0, rel=1e-12)
    only_hot = problem_table([PinchStream("h", 400.0, 300.0, 10.0)], 10.0)
    assert only_hot.Q_rec_max == 0.0
    assert math.isnan(recovery_gap(only_hot, 0.0))


# ---------------------------------------------------------------- 6. time slices


def test_sliced_targets_sum_energies():
    day, night = 8 * 3600.0, 16 * 3600.0
    slices = {"day": kemp_streams(), "night": [PinchStream("h", 400.0, 300.0, 1e3)]}
    out = sliced_targets(slices, {"night": night, "day": day}, 10.0)
    assert out["slices"]["day"].Q_H_min == pytest.approx(20.0 * KW, rel=1e-9)
    assert out["slices"]["night"].Q_C_min == pytest.approx(100.0 * KW, rel=1e-9)
    assert out["Q_H_min_J"] == pytest.approx(20.0 * KW * day, rel=1e-9)
    assert out["Q_C_min_J"] == pytest.approx(60.0 * KW * day + 100.0 * KW * night, rel=1e-9)
    assert out["Q_rec_max_J"] == pytest.approx(450.0 * KW * day, rel=1e-9)


@pytest.mark.parametrize(
    "durations", [{"day": 1.0}, {"day": 1.0, "night": 1.0, "x": 1.0}, {"day": 1.0, "night": -1.0}]
)
def test_sliced_targets_bad_durations(durations):
    slices = {"day": kemp_streams(), "night": kemp_streams()}
    with pytest.raises(ValueError, match="durations"):
        sliced_targets(slices, durations, 10.0)


# ---------------------------------------------------------------- targets of a simulated run
def _cumulative(ts, m, T, T_target, cp):
    """The integrals the plant keeps for a pinch connection, for a constant-cp stream with
    mass flow m(t) and temperature T(t) given at the times ts (trapezoid)."""
    def cum(f):
        return np.concatenate(([0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(ts))))
    return {"pinch_heat": cum(m * cp * (T - T_target)), "mass": cum(m), "mT": cum(m * T)}


def test_run_targets_of_steady_streams_equal_the_problem_table():
    """Steady flows through the four-stream example: every slice has the power targets of
    the problem table, and direct and storage targets are both Q_rec_max x duration."""
    from twin.pinch import RunStream, run_targets, slice_bounds

    ts = np.linspace(0.0, 10 * 3600.0, 121)
    cp = 1000.0
    specs, conns = [], {}
    for s in kemp_streams():
        if s.kind == "hot":  # hot streams as connections with m cp = CP
            m = np.full_like(ts, s.CP / cp)
            conns[s.name] = _cumulative(ts, m, np.full_like(ts, s.T_supply), s.T_target, cp)
            specs.append(RunStream(s.name, s.T_target, connection=s.name))
        else:  # cold ones by numbers
            specs.append(RunStream(s.name, s.T_target, supply=s.T_supply, CP=lambda t, c=s.CP: np.full_like(t, c)))
    bounds = slice_bounds(ts, 4 * 3600.0)
    assert list(ts[bounds] / 3600) == [0.0, 10 / 3, 20 / 3, 10.0]
    res = run_targets(ts, conns, specs, 10.0, bounds)
    ref = problem_table(kemp_streams(), 10.0)
    d = np.diff(ts[bounds])
    np.testing.assert_allclose(res.Q_rec_max, ref.Q_rec_max * d, rtol=1e-12)
    np.testing.assert_allclose(res.Q_H_min, ref.Q_H_min * d, rtol=1e-12)
    np.testing.assert_allclose(res.T_pinch_hot, ref.T_pinch_hot, rtol=1e-12)
    assert res.direct == pytest.approx(ref.Q_rec_max * 36000.0, rel=1e-12)
    assert res.storage_J == pytest.approx(res.direct, rel=1e-12)
    np.testing.assert_allclose(res.CP, [[s.CP for s in kemp_streams()]] * 3, rtol=1e-12)
    assert res.kind == ("cold", "hot", "cold", "hot") and math.isnan(res.attainment)


def test_run_targets_storage_beats_direct_recovery_across_slices():
    """A hot stream by day and a cold one by night: no direct recovery at all, while ideal
    storage could pass min(hot duty, cold duty) (Kemp 2007, ch. 10, time-average model);
    the plant's recovered heat is split per slice and compared with the storage target."""
    from twin.pinch import RunStream, run_targets, slice_bounds

    ts = np.linspace(0.0, 24 * 3600.0, 289)
    day = (ts < 12 * 3600.0).astype(float)
    cp = 1100.0
    hot = _cumulative(ts, 2.0 * day, np.full_like(ts, 500.0), 350.0, cp)  # 2.2 kW/K, 150 K, day
    specs = [
        RunStream("flue", 350.0, connection="flue"),
        RunStream("water", 360.0, supply=300.0, CP=lambda t: np.where(t >= 12 * 3600.0, 3000.0, 0.0)),
    ]
    recovered = np.linspace(0.0, 1.0e9, ts.size)
    bounds = slice_bounds(ts, 24 * 3600.0, cuts=[12 * 3600.0])
    res = run_targets(ts, {"flue": hot}, specs, 10.0, bounds, phase=["day", "night"], recovered=recovered)
    assert res.direct == 0.0 and list(res.phase) == ["day", "night"]
    # time-average streams: hot 1.1 kW/K over 150 K, cold 1.5 kW/K over 60 K, 500->350 vs 300->360
    # with dT_min 10 K: all of the cold duty (90 kW) can be met
    assert res.storage_J == pytest.approx(1.5e3 * 60.0 * 86400.0, rel=2e-3)
    np.testing.assert_allclose(res.recovered, [0.5e9, 0.5e9], rtol=1e-2)
    assert res.attainment == pytest.approx(1.0e9 / res.storage_J, rel=1e-12)
    assert np.isnan(res.T_supply[1, 0]) and res.CP[1, 0] == 0.0  # the flue is idle at night


def test_slice_bounds_cut_at_phases_and_split_long_slices():
    from twin.pinch import slice_bounds

    ts = np.arange(0.0, 72 * 3600.0 + 1, 300.0)
    h = ts[slice_bounds(ts, 86400.0, [16 * 3600.0, 24 * 3600.0, 40 * 3600.0])] / 3600
    assert list(h) == [0, 16, 24, 40, 56, 72]
    h = ts[slice_bounds(ts, 86400.0, [1000.0])] / 3600  # cuts move to the nearest output time
    assert h[1] == pytest.approx(1000.0 / 3600, abs=150 / 3600)
