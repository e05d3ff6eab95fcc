"""Plant logs (twin.logs): the synthetic log of data/plant_logs read into SI and UTC with its
declared policies, and every user mistake reported as one LogError at its file, line and
column or field. No plant is compiled: the file runs in seconds."""

import json
import math
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.logs import LogError, PlantLog, load_map, read_log
from twin.scenario.errors import ScenarioError

SYNTHETIC = Path(__file__).resolve().parents[1] / "data" / "plant_logs" / "synthetic"

MAP = """\
start: 2026-03-02T06:00:00+01:00
time_column: time
{policies}
signals:
  TI_1: {{signal: boiler.T, unit: {unit}, sigma: {sigma}}}
  QI_1: {{signal: boiler.P_input, unit: kW, sigma: 2 kW}}
"""
ROWS = ["2026-03-02T06:00:00+01:00,50.0,100.0",
        "2026-03-02T06:01:00+01:00,50.5,101.0",
        "2026-03-02T06:02:00+01:00,51.0,102.0"]


def write(folder: Path, rows=ROWS, policies="", unit="degC", sigma="0.3 K", header="time,TI_1,QI_1"):
    """A log (header on line 1, rows from line 2) and its map in ``folder``."""
    log, mapping = folder / "log.csv", folder / "map.yaml"
    log.write_text("\n".join([header, *rows]) + "\n")
    mapping.write_text(MAP.format(policies=textwrap.dedent(policies), unit=unit, sigma=sigma))
    return log, mapping


def problem(folder: Path, **kw) -> str:
    log, mapping = write(folder, **kw)
    with pytest.raises(LogError) as err:
        read_log(log, mapping)
    return str(err.value)


# ---------------------------------------------------------------------- the synthetic case
@pytest.fixture(scope="module")
def synthetic() -> tuple[PlantLog, dict]:
    truth = json.loads((SYNTHETIC / "truth.json").read_text())
    return read_log(SYNTHETIC / "log.csv", SYNTHETIC / "map.yaml"), truth


def test_synthetic_log_is_read_in_si_and_utc(synthetic):
    log, truth = synthetic
    assert log.start == pd.Timestamp("2026-03-02T05:00:00Z") == pd.Timestamp(truth["start"])
    assert list(log.signals) == list(truth["tags"])
    ranges = {"TI_101": (280, 290), "FI_101": (0.6, 1.3), "TI_301": (295, 345), "QI_301": (5e4, 2.5e5),
              "XI_301": (0.3, 0.9)}  # K, kg/s, K, W and a fraction, not degC, t/h, kW and %
    for tag, s in log.signals.items():
        assert s.signal == truth["tags"][tag]["signal"] and s.unit == truth["tags"][tag]["unit"]
        assert s.sigma == pytest.approx(truth["tags"][tag]["sigma_si"], rel=1e-12)
        lo, hi = ranges[tag]
        assert lo < s.values.min() and s.values.max() < hi, tag
        assert s.t.dtype == np.float64 and np.all(np.diff(s.t) > 0) and 0 <= s.t[0] and s.t[-1] <= 86400
        assert not s.t.flags.writeable and not s.values.flags.writeable
    assert log.signals["TI_101"].fit_bias and log.signals["TI_101"].bias == 0.0


def test_clock_offset_is_removed(synthetic):
    """The true scans were at 60 k + 30 s +- 20 s (whole seconds); the logger's clock ran 90 s
    slow, so without the map's clock_offset every sample would sit 90 s early."""
    log, truth = synthetic
    assert truth["clock_offset_s"] == log.map.clock_offset == -90.0
    t = np.concatenate([s.t for s in log.signals.values()])
    assert np.all(t == np.round(t)) and np.all((t % 60 >= 10) & (t % 60 <= 50))


def test_values_are_the_logged_cells_converted(synthetic):
    log, _ = synthetic
    lines = (SYNTHETIC / "log.csv").read_text().splitlines()
    header = lines[1].split(",")
    for tag, shift, scale in (("TI_301", 273.15, 1.0), ("QI_301", 0.0, 1e3), ("FI_101", 0.0, 1 / 3.6),
                              ("XI_301", 0.0, 1e-2)):
        s = log.signals[tag]
        for k in (0, 700, -1):
            cell = lines[s.lines[k] - 1].split(",")[header.index(tag)]  # lines count from 1
            assert s.values[k] == pytest.approx(float(cell) * scale + shift, rel=1e-12)


def test_policies_merge_sort_and_drop_per_tag(synthetic):
    log, truth = synthetic
    s = log.summary
    assert (s.rows, s.duplicates, s.reordered, s.unmapped) == (truth["rows"], 5, 4, ("PI_301",))
    for tag, g in log.signals.items():  # one sample per scan, unless that tag's cell was empty
        assert g.t.size + g.missing == truth["scans"] and g.outside == 0, tag
    outage = truth["outages"]["TI_301"]
    (gap,) = log.signals["TI_301"].gaps  # longer than max_gap: a segment break
    assert gap[0] < outage["from_s"] and gap[1] > outage["to_s"] and gap[1] - gap[0] > 600
    assert log.signals["FI_101"].gaps == ()  # a 6 min outage is shorter than max_gap
    text = log.describe()
    assert "5 rows merged (mean)" in text and "4 rows sorted in (sort)" in text and "PI_301" in text
    ds = log.to_dataset()
    assert ds["TI_301"].attrs["units"] == "K" and ds["TI_301"].attrs["source_unit"] == "degC"
    assert ds["TI_301_time"].attrs["units"] == "s" and ds.attrs["start"].startswith("2026-03-02T05:00:00")


def test_a_repeat_is_averaged_first_or_last(tmp_path):
    rows = [ROWS[0], "2026-03-02T06:00:00+01:00,52.0,", ROWS[1]]
    for policy, T, Q in (("mean", 51.0, 100.0), ("first", 50.0, 100.0), ("last", 52.0, 100.0)):
        log = read_log(*write(tmp_path, rows=rows, policies=f"duplicates: {policy}\ngaps: drop"))
        assert log.signals["TI_1"].values[0] == pytest.approx(T + 273.15)
        assert log.signals["QI_1"].values[0] == Q * 1e3  # the empty cell is missing, not zero
        assert list(log.signals["TI_1"].lines) == [2, 4]


def test_local_times_and_fall_back_hour_inferred_from_the_order(tmp_path):
    rows = [f"2026-10-25 {hm},{50 + k},{100 + k}" for k, hm in
            enumerate(["01:30", "02:00", "02:30", "02:00", "02:30", "03:00"])]
    log = read_log(*write(tmp_path, rows=rows, policies="timezone: Europe/Vienna\nambiguous_times: infer"))
    start = pd.Timestamp("2026-03-02T05:00:00Z")
    utc = [start + pd.Timedelta(seconds=t) for t in log.signals["TI_1"].t]
    assert [u.strftime("%H:%M") for u in utc] == ["23:30", "00:00", "00:30", "01:00", "01:30", "02:00"]


@given(st.lists(st.floats(-200.0, 2000.0), min_size=1, max_size=20), st.floats(1e-3, 50.0))
@settings(max_examples=15, deadline=None)
def test_degc_is_an_offset_but_its_sigma_is_a_difference(values, sigma):
    """20 degC is 293.15 K; a standard deviation of 0.3 K (or 0.3 delta_degC) is 0.3 K."""
    with tempfile.TemporaryDirectory() as folder:
        rows = [f"2026-03-02T06:{k:02d}:00Z,{v!r},1.0" for k, v in enumerate(values)]
        for unit, sig, shift in (("degC", f"{sigma!r} K", 273.15), ("degC", f"{sigma!r} delta_degC", 273.15),
                                 ("K", f"{sigma!r} K", 0.0)):
            if shift == 0.0 and min(values) <= 0:
                continue
            s = read_log(*write(Path(folder), rows=rows, unit=unit, sigma=sig)).signals["TI_1"]
            assert s.sigma == pytest.approx(sigma, rel=1e-12)
            assert np.allclose(s.values, np.asarray(values) + shift, rtol=1e-15, atol=1e-12)
        twenty = read_log(*write(Path(folder), rows=["2026-03-02T06:00:00Z,20,1"])).signals["TI_1"]
        assert twenty.values[0] == pytest.approx(293.15, abs=1e-12) and twenty.sigma == 0.3


def test_parquet_reads_like_csv(tmp_path):
    pytest.importorskip("pyarrow")
    log, mapping = write(tmp_path)
    df = pd.DataFrame({"time": pd.to_datetime([r.split(",")[0] for r in ROWS], utc=True),
                       "TI_1": [50.0, 50.5, 51.0], "QI_1": [100.0, 101.0, 102.0]})
    df.to_parquet(tmp_path / "log.parquet")
    a, b = read_log(log, mapping), read_log(tmp_path / "log.parquet", mapping)
    for tag in a.signals:
        np.testing.assert_array_equal(a.signals[tag].t, b.signals[tag].t)
        np.testing.assert_allclose(a.signals[tag].values, b.signals[tag].values, rtol=1e-15)


# ---------------------------------------------------------------------- mistakes in the log
def test_out_of_order_is_an_error_by_default(tmp_path):
    msg = problem(tmp_path, rows=[ROWS[0], ROWS[2], ROWS[1]])
    assert f"{tmp_path / 'log.csv'}:4: time: '2026-03-02T06:01:00+01:00', earlier than line 3" in msg
    assert "out_of_order: sort" in msg


def test_duplicate_timestamps_are_an_error_by_default(tmp_path):
    msg = problem(tmp_path, rows=[ROWS[0], ROWS[1], ROWS[1].replace("50.5", "50.7"), ROWS[2]])
    assert f"{tmp_path / 'log.csv'}:4: time: '2026-03-02T06:01:00+01:00', the same instant as line 3" in msg
    assert "duplicates: mean, first or last" in msg


def test_a_missing_value_is_an_error_with_gaps_error(tmp_path):
    msg = problem(tmp_path, rows=[ROWS[0], "2026-03-02T06:01:00+01:00,NaN,101.0", ROWS[2]])
    assert f"{tmp_path / 'log.csv'}:3: TI_1: 'NaN', missing value; declare gaps: drop" in msg
    msg = problem(tmp_path, rows=[ROWS[0], "2026-03-02T06:01:00+01:00,5O.5,101.0"], policies="gaps: drop")
    assert "log.csv:3: TI_1: '5O.5', not a number" in msg


def test_naive_and_aware_timestamps_do_not_mix(tmp_path):
    rows = [ROWS[0], "2026-03-02T06:01:00,50.5,101.0", ROWS[2]]
    msg = problem(tmp_path, rows=rows, policies="timezone: Europe/Vienna")
    assert f"{tmp_path / 'log.csv'}:3: time: '2026-03-02T06:01:00', mixes timestamps with and without" in msg
    log = read_log(*write(tmp_path, rows=[ROWS[0], "2026-03-02T05:01:00Z,50.5,101.0",
                                          "2026-03-02T07:02:00+02:00,51.0,102.0"]))
    assert list(log.signals["TI_1"].t) == [0.0, 60.0, 120.0]  # explicit offsets may differ


def test_naive_timestamps_need_a_timezone(tmp_path):
    msg = problem(tmp_path, rows=["2026-03-02T06:00:00,50.0,100.0"])
    assert "log.csv:2: time: '2026-03-02T06:00:00', has no UTC offset" in msg and "timezone:" in msg


def test_fall_back_hour_is_ambiguous_by_default(tmp_path):
    rows = [f"2026-10-25T{hm}:00,50.0,100.0" for hm in ("01:30", "02:15", "02:45", "03:15")]
    msg = problem(tmp_path, rows=rows, policies="timezone: Europe/Vienna")
    assert "log.csv:3: time: '2026-10-25T02:15:00', occurs twice in Europe/Vienna" in msg
    assert "log.csv:4: time: '2026-10-25T02:45:00'" in msg and "ambiguous_times: infer" in msg
    # a single pass through the hour: infer cannot tell summer from winter time
    msg = problem(tmp_path, rows=rows, policies="timezone: Europe/Vienna\nambiguous_times: infer")
    assert "log.csv:3: time: '2026-10-25T02:15:00'" in msg and "cannot tell which" in msg


def test_spring_forward_hour_does_not_exist(tmp_path):
    rows = ["2026-03-29T01:30:00,50.0,100.0", "2026-03-29T02:30:00,50.0,100.0"]
    msg = problem(tmp_path, rows=rows, policies="timezone: Europe/Vienna\nambiguous_times: infer")
    assert "log.csv:3: time: '2026-03-29T02:30:00', does not exist in Europe/Vienna" in msg


def test_long_gap_is_an_error_unless_split(tmp_path):
    rows = [ROWS[0], "2026-03-02T06:30:00+01:00,50.5,101.0"]
    msg = problem(tmp_path, rows=rows, policies="max_gap: 10 min")
    assert "log.csv:3: TI_1: '1800 s', without a sample of TI_1 before this line, longer than max_gap" in msg
    log = read_log(*write(tmp_path, rows=rows, policies="max_gap: 10 min\nlong_gaps: split"))
    assert log.signals["TI_1"].gaps == ((0.0, 1800.0),)


def test_row_with_a_missing_field_and_problems_reported_together(tmp_path):
    msg = problem(tmp_path, rows=[ROWS[0], "2026-03-02T06:01:00+01:00,50.5", ROWS[2]])
    assert "log.csv:3: 2 fields, the header (line 1) has 3" in msg
    msg = problem(tmp_path, rows=[ROWS[0], "2026-03-02T06:01:00+01:00,x,y", "yesterday,1,2"])
    assert all(s in msg for s in ("log.csv:3: TI_1: 'x'", "log.csv:3: QI_1: 'y'", "log.csv:4: time: 'yesterday'"))


# ---------------------------------------------------------------------- mistakes in the map
@pytest.mark.parametrize("unit, accepted", [
    ("degc", "unknown unit 'degc'; did you mean 'degC'?"),
    ("kW", "is a power, not a temperature (expected units like 'degC', 'K'); boiler.T is a temperature"),
    ("delta_degC", "is a temperature difference, not a temperature"),
])
def test_unit_is_checked_against_the_signal(tmp_path, unit, accepted):
    msg = problem(tmp_path, unit=unit)
    assert f"{tmp_path / 'map.yaml'}:5: signals.TI_1.unit: '{unit}', {accepted}" in msg


def test_unit_is_checked_against_the_model_units(tmp_path):
    log, mapping = write(tmp_path)
    units = {"boiler.T": "K", "boiler.P_input": "W", "boiler.Q_flow": "W"}
    assert read_log(log, mapping, model_units=units).signals["QI_1"].values[0] == 1e5
    mapping.write_text(mapping.read_text().replace("boiler.P_input", "boiler.P_inptu"))
    with pytest.raises(LogError) as err:
        load_map(mapping, model_units=units)
    assert "map.yaml:6: signals.QI_1.signal: 'boiler.P_inptu', unknown model signal; did you mean " \
           "'boiler.P_input'?" in str(err.value)


def test_unknown_tag_in_the_map(tmp_path):
    msg = problem(tmp_path, header="time,TI_1,QI_2")
    assert f"{tmp_path / 'map.yaml'}:6: signals.QI_1: 'QI_1', no such column in" in msg
    assert "did you mean 'QI_2'? columns: time, TI_1, QI_2" in msg


def test_unknown_policy_value(tmp_path):
    msg = problem(tmp_path, policies="duplicates: average")
    assert f"{tmp_path / 'map.yaml'}:3: duplicates: 'average', accepted: error, mean, first, last" in msg
    msg = problem(tmp_path, policies="out_of_order: sorted\ngapz: drop")
    assert "map.yaml:3: out_of_order: 'sorted', did you mean 'sort'? accepted: error, sort" in msg
    assert "map.yaml:4: gapz: 'drop', unknown key 'gapz'; did you mean 'gaps'?" in msg


@pytest.mark.parametrize("sigma", ["0 K", "-0.3 K"])
def test_sigma_must_be_positive(tmp_path, sigma):
    msg = problem(tmp_path, sigma=sigma)
    assert f"map.yaml:5: signals.TI_1.sigma: '{sigma}', must be > 0" in msg


@pytest.mark.parametrize("policies, where, accepted", [
    ("timezone: Europe/Viena", "3: timezone: 'Europe/Viena'", "did you mean 'Europe/Vienna'?"),
    ("clock_offset: 90", "3: clock_offset: 90", "bare number for a time"),
    ("window: {from: 2 h, to: 1 h}", "3: window.to: '1 h'", "must be after from"),
])
def test_other_map_fields(tmp_path, policies, where, accepted):
    msg = problem(tmp_path, policies=policies)
    assert f"map.yaml:{where}, " in msg and accepted in msg


def test_start_needs_a_zone(tmp_path):
    _, mapping = write(tmp_path)
    text = mapping.read_text()
    for start, accepted in (("2026-03-02T06:00:00", "has no UTC offset"), ("2026-03-02", "is a date without a time"),
                            ("2026-10-25T02:30:00\ntimezone: Europe/Vienna", "occurs twice in Europe/Vienna")):
        mapping.write_text(text.replace("2026-03-02T06:00:00+01:00", start))
        with pytest.raises(LogError) as err:
            load_map(mapping)
        assert f"map.yaml:1: start: '{start.splitlines()[0]}', {accepted}" in str(err.value)


def test_log_error_is_a_value_error_and_a_scenario_error():
    assert issubclass(LogError, ValueError) and issubclass(LogError, ScenarioError)
    assert math.isfinite(load_map(SYNTHETIC / "map.yaml").clock_offset)


def test_only_iso_8601_instants(tmp_path):
    msg = problem(tmp_path, rows=["now,50.0,100.0", "02.03.2026 06:01,50.0,100.0", "2026-03-02T06:02:00+01:00,inf,"])
    assert "log.csv:2: time: 'now', not an ISO 8601 date and time" in msg
    assert "log.csv:3: time: '02.03.2026 06:01', not an ISO 8601" in msg
    assert "log.csv:4: TI_1: 'inf', must be a finite number" in msg and "log.csv:4: QI_1: '', missing value" in msg


def test_parquet_naive_timestamps_take_the_timezone(tmp_path):
    pytest.importorskip("pyarrow")
    _, mapping = write(tmp_path, policies="timezone: Europe/Vienna")
    df = pd.DataFrame({"time": pd.to_datetime(["2026-03-02 06:00", "2026-03-02 06:01", None]),
                       "TI_1": [50.0, np.nan, 51.0], "QI_1": [100.0, 101.0, 102.0]})
    df.to_parquet(tmp_path / "log.parquet")
    with pytest.raises(LogError) as err:
        read_log(tmp_path / "log.parquet", mapping)
    assert "log.parquet:3: time: 'NaT', no timestamp" in str(err.value)  # Parquet: the 1-based row
    df.iloc[:2].to_parquet(tmp_path / "log.parquet")
    with pytest.raises(LogError, match=r"log.parquet:2: TI_1: nan, missing value"):
        read_log(tmp_path / "log.parquet", mapping)
    mapping.write_text(mapping.read_text().replace("timezone:", "gaps: drop\ntimezone:"))
    log = read_log(tmp_path / "log.parquet", mapping)
    assert list(log.signals["QI_1"].t) == [0.0, 60.0] and list(log.signals["TI_1"].t) == [0.0]


def test_bias_windows_and_max_gap_per_tag(tmp_path):
    log, mapping = write(tmp_path, rows=ROWS + ["2026-03-02T06:05:00+01:00,52.0,103.0"])
    mapping.write_text(textwrap.dedent("""\
        start: 2026-03-02 06:00            # naive: a local time of the timezone
        timezone: Europe/Vienna
        time_column: time
        window: {to: 2026-03-02T05:04:00Z}
        max_gap: 90 s
        signals:
          TI_1: {signal: boiler.T, unit: degF, sigma: 0.54 delta_degF, bias: 0.5 K, window: {from: 30 s}}
          QI_1: {signal: boiler.P_input, unit: MW, sigma: 2 kW, max_gap: 1 h}
        """))
    log = read_log(log, mapping)
    T, Q = log.signals["TI_1"], log.signals["QI_1"]
    assert list(T.t) == [60.0, 120.0] and T.outside == 2  # before 30 s, after 05:04Z
    assert T.values[0] == pytest.approx((50.5 + 459.67) * 5 / 9 - 0.5, rel=1e-14) and T.sigma == pytest.approx(0.3)
    assert list(Q.t) == [0.0, 60.0, 120.0] and Q.values[0] == 100e6 and Q.gaps == ()
