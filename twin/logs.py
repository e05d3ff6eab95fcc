"""Plant logs: noisy, gappy, irregular sensor data read into SI and UTC, for calibration.

A log is a table (CSV, or Parquet with ``pyarrow``) with one timestamp column and one column
per sensor tag; a *map* file (YAML) says which tag is which model signal, in which unit, how
precise it is, and what to do with the log's flaws. The full format, with an example, is in
``data/plant_logs/README.md``; in short::

    start: 2026-03-02T06:00:00+01:00   # the instant that is model time t = 0
    time_column: timestamp
    timezone: Europe/Vienna            # IANA name (or '+01:00'), for naive timestamps only
    clock_offset: -90 s                # logger clock minus true time: subtracted
    duplicates: mean                   # error | mean | first | last
    out_of_order: sort                 # error | sort
    gaps: drop                         # error | drop (an empty or NaN cell)
    max_gap: 10 min                    # longer gaps between a tag's samples ...
    long_gaps: split                   # ... are errors, or split it into segments
    signals:
      TI_301: {signal: boiler.T, unit: degC, sigma: 0.3 K, window: {from: 1 h}}

Conventions
-----------
* Instants are ISO 8601 (ISO 8601-1:2019; RFC 3339 profile: ``2026-03-02T06:00:00+01:00``,
  ``...Z``, a space instead of ``T`` and fractions of a second allowed). A column is either
  all with offsets (mixed offsets are fine: each is converted) or all without; naive ones are
  local times of the map's ``timezone:`` (IANA time zone database, via :mod:`zoneinfo`).
  Local times that occur twice (the fall-back hour) are errors unless ``ambiguous_times:
  infer`` and the rows run forward through the hour twice; local times that do not exist
  (the spring-forward hour) are always errors. Everything inside is UTC, and model time is
  seconds since ``start``.
* Values are converted to SI with twin's units (:mod:`twin.units`): ``degC`` is an absolute
  temperature (20 degC -> 293.15 K), whereas ``sigma`` and ``bias`` of a temperature are
  differences (0.3 K -> 0.3). ``sigma`` is the standard uncertainty of one sample (JCGM
  100:2008, GUM): the weight of its residual in a fit is 1/sigma^2.
* Safe defaults: every policy is ``error`` until the map declares otherwise.
* Problems are reported all at once as ``file:line: column-or-field: given, accepted``
  (:class:`LogError`); a log's line is the line a text editor shows (header = line 1 when
  the file has no comment lines); Parquet files have no lines: the 1-based row is given.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import difflib
import re
import types
import zoneinfo
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pydantic
from pydantic import Field

from twin.scenario.errors import Problem, ScenarioError, problems_from_pydantic
from twin.scenario.fields import PositiveTime, StrictModel, Time
from twin.scenario.yamlio import LineMap, load_yaml
from twin.units import DIMENSIONS, UnitError, format_quantity, get_registry, parse_quantity, si_unit

__all__ = ["LogError", "LogMap", "LogSummary", "LoggedSignal", "PlantLog", "SignalMap", "load_map", "read_log"]

_SHOWN = 5  # rows reported per kind of problem and column; the rest are counted
_ISO = r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(?::\d\d(?:\.\d+)?)? ?(?:[Zz]|[+-]\d\d(?::?\d\d)?)?"
_OFFSET = r"(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"  # an ISO 8601 instant ends with it if it has one
_NAT = np.iinfo(np.int64).min
_FIXED = re.compile(r"^(?:UTC)?([+-])(\d\d):?(\d\d)$")
_SIGNAL = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
_EXAMPLE = "e.g. 2026-03-02T06:00:00+01:00"


class LogError(ScenarioError, ValueError):
    """Every problem found in a log or its map, one ``file:line: field: given, accepted`` per
    line (:class:`~twin.scenario.errors.Problem`); a :class:`ScenarioError` too, so the CLI
    reports it as it reports scenario mistakes."""


# ---------------------------------------------------------------------- the map file
class _Window(StrictModel):
    from_: Any = Field(None, alias="from")
    to: Any = None


class _Signal(StrictModel):
    signal: str
    unit: str
    sigma: str | float
    window: _Window | None = None
    max_gap: PositiveTime | None = None
    bias: str | float | None = None
    description: str = ""


class _Map(StrictModel):
    """The map file (data/plant_logs/README.md): quantities as text, checked by :func:`load_map`."""

    description: str = ""
    start: Any
    time_column: str
    timezone: str | None = None
    clock_offset: Time = 0.0
    delimiter: Literal[",", ";", "\t", "|"] = ","
    decimal: Literal[".", ","] = "."
    na_values: tuple[str, ...] = ("", "NaN", "nan", "NA", "N/A", "null")
    duplicates: Literal["error", "mean", "first", "last"] = "error"
    out_of_order: Literal["error", "sort"] = "error"
    gaps: Literal["error", "drop"] = "error"
    ambiguous_times: Literal["error", "infer"] = "error"
    max_gap: PositiveTime | None = None
    long_gaps: Literal["error", "split"] = "error"
    window: _Window | None = None
    signals: dict[str, _Signal] = Field(min_length=1)


@dataclasses.dataclass(frozen=True)
class SignalMap:
    """One mapped tag, in SI: model ``signal``, source ``unit`` and its ``dimension``,
    ``sigma`` and known ``bias`` [SI], ``window`` [s since start], ``max_gap`` [s]."""

    tag: str
    signal: str
    unit: str
    dimension: str
    sigma: float
    bias: float
    fit_bias: bool
    window: tuple[float, float]
    max_gap: float | None
    line: int


@dataclasses.dataclass(frozen=True)
class LogMap:
    """A validated map file (:func:`load_map`): instants in UTC, durations in seconds."""

    file: str
    start: pd.Timestamp
    time_column: str
    timezone: dt.tzinfo | None
    clock_offset: float
    delimiter: str
    decimal: str
    na_values: tuple[str, ...]
    duplicates: str
    out_of_order: str
    gaps: str
    ambiguous_times: str
    long_gaps: str
    signals: Mapping[str, SignalMap]
    linemap: LineMap = dataclasses.field(repr=False)


def _timezone(name: str) -> dt.tzinfo:
    m = _FIXED.match(name.strip())
    if m:
        sign = -1 if m.group(1) == "-" else 1
        return dt.timezone(sign * dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    if name.strip().upper() in ("UTC", "Z"):
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"unknown time zone; {hint}accepted: an IANA name such as "
                         "'Europe/Vienna', 'UTC', or a fixed offset such as '+01:00'") from None


def _localize(naive: pd.Timestamp, tz: dt.tzinfo | None) -> pd.Timestamp:
    if tz is None:
        raise ValueError(f"has no UTC offset and the map has no timezone:; write the offset, {_EXAMPLE}")
    summer, winter = (naive.tz_localize(tz, ambiguous=dst, nonexistent="NaT") for dst in (True, False))
    if summer is pd.NaT:
        raise ValueError(f"does not exist in {tz} (clocks spring forward); write the offset, {_EXAMPLE}")
    if summer != winter:
        raise ValueError(f"occurs twice in {tz} (clocks fall back); write the offset, {_EXAMPLE}")
    return summer


def _instant(value: Any, tz: dt.tzinfo | None) -> pd.Timestamp:
    """An ISO 8601 instant (text or a YAML timestamp) as a UTC ``Timestamp``."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        raise ValueError(f"is a date without a time of day; write the instant, {_EXAMPLE}")
    if not isinstance(value, (str, dt.datetime)):
        raise ValueError(f"must be an ISO 8601 date and time, {_EXAMPLE}")
    if isinstance(value, str) and not re.fullmatch(_ISO, value.strip()):
        raise ValueError(f"is not an ISO 8601 date and time; write e.g. {_EXAMPLE[5:]}")
    try:
        ts = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError):
        raise ValueError(f"is not a valid date and time; write e.g. {_EXAMPLE[5:]}") from None
    return (ts if ts.tzinfo is not None else _localize(ts, tz)).tz_convert("UTC")


def _dimension(unit: str) -> str | None:
    """twin's dimension of a unit text (``degC``, ``K`` -> temperature; ``%`` -> fraction)."""
    ureg = get_registry()
    un = ureg.parse_units(unit)
    if un.dimensionality == ureg.parse_units("K").dimensionality:
        return "temperature_difference" if "delta_" in str(un) else "temperature"
    for d in DIMENSIONS:
        if d not in ("dimensionless", "temperature"):
            si = si_unit(d)
            if (ureg.parse_units(si) if si else ureg.dimensionless).dimensionality == un.dimensionality:
                return d
    return None


def _by_convention(signal: str) -> str | None:
    """Dimension of a model signal from twin's names (``T``, ``m_flow``, ``Q_flow``, ``P_``)."""
    last = signal.rsplit(".", 1)[-1]
    if last == "T" or last.startswith("T_"):
        return "temperature"
    if last.endswith("m_flow"):
        return "mass_flow"
    if last.startswith(("Q_flow", "P_")) or last == "P":
        return "power"
    if last in ("E_stored", "X_stored"):
        return "energy"
    return None


def _expected(signal: str, model_units) -> tuple[str | None, str | None]:
    """``(dimension, problem)`` of a model signal: from the model's units, else by name."""
    if model_units is None:
        return _by_convention(signal), None
    si = model_units.get(signal) if isinstance(model_units, Mapping) else model_units(signal)
    if si is None:
        known = sorted(model_units) if isinstance(model_units, Mapping) else []
        close = difflib.get_close_matches(signal, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return None, f"unknown model signal; {hint}accepted: a signal of the plant (as in its results file)"
    return (_dimension(si) if si not in ("1", "") else "fraction"), None


def _seconds(value: Any, start: pd.Timestamp, tz: dt.tzinfo | None) -> float:
    """A window bound: an instant, or a time since start (``"2 h"``). [s]"""
    if isinstance(value, dt.date) or (isinstance(value, str) and re.match(r"\s*\d{4}-\d\d-\d\d", value)):
        return (_instant(value, tz) - start).total_seconds()
    try:
        return parse_quantity(value, "time")
    except UnitError as exc:
        raise ValueError(f"{exc.accepted}; or an instant, {_EXAMPLE}") from None


def load_map(path: str | Path, *, model_units: Mapping[str, str] | Callable[[str], str | None] | None = None
             ) -> LogMap:
    """Read and check a map file.

    Parameters
    ----------
    path
        The YAML map file.
    model_units
        The plant's signals and their SI units (``{"boiler.T": "K", ...}``, or a function
        of the name returning None for an unknown one, e.g. ``partial(signal_units, plant)``
        of :mod:`twin.scenario.build`): signal names and unit dimensions are checked against
        it. Without it, names are checked by twin's naming convention only (``T`` is a
        temperature, ``m_flow`` a mass flow, ``Q_flow``/``P_`` a power).

    Raises
    ------
    LogError
        With every problem of the file, each at its line.
    """
    file = str(path)
    try:
        data, lines = load_yaml(path)
    except ScenarioError as exc:
        raise LogError(exc.problems) from None
    try:
        raw = _Map.model_validate(data)
    except pydantic.ValidationError as exc:
        raise LogError(problems_from_pydantic(exc, file, lines, data, _Map)) from None
    problems: list[Problem] = []

    def check(path: tuple, given: Any, fn: Callable, *args: Any, default: Any = None) -> Any:
        """``fn(*args)``, or ``default`` with a problem at ``path`` if it raises ValueError."""
        try:
            return fn(*args)
        except ValueError as exc:
            problems.append(Problem(file, lines.line(path), ".".join(map(str, path)), _given(given),
                                    str(exc.args[0] if exc.args else exc)))
            return default

    tz = check(("timezone",), raw.timezone, _timezone, raw.timezone) if raw.timezone else None
    start = check(("start",), raw.start, _instant, raw.start, tz)
    if start is None:
        raise LogError(problems)

    def window(w: _Window | None, path: tuple) -> tuple[float, float]:
        if w is None:
            return 0.0, np.inf
        lo = 0.0 if w.from_ is None else check(path + ("from",), w.from_, _seconds, w.from_, start, tz, default=0.0)
        hi = np.inf if w.to is None else check(path + ("to",), w.to, _seconds, w.to, start, tz, default=np.inf)
        if not hi > lo:
            problems.append(Problem(file, lines.line(path + ("to",)), ".".join(path) + ".to", _given(w.to),
                                    f"must be after from ({w.from_})"))
        return max(lo, 0.0), hi

    everywhere = window(raw.window, ("window",))
    signals = {}
    for tag, s in raw.signals.items():
        at = ("signals", tag)
        dim, missing = _expected(s.signal, model_units) if _SIGNAL.match(s.signal) else (None, (
            "accepted: a model signal such as 'boiler.T' or 'feed.outlet.m_flow' (component.quantity, "
            "as in the results file)"))
        if missing:
            problems.append(Problem(file, lines.line(at + ("signal",)), ".".join(at) + ".signal", repr(s.signal),
                                    missing))
            continue
        dim = check(at + ("unit",), s.unit, _unit_dimension, s.unit, dim, s.signal)
        if dim is None:
            continue
        delta = "temperature_difference" if dim == "temperature" else dim
        sigma = check(at + ("sigma",), s.sigma, _positive, s.sigma, delta)
        fit_bias = s.bias == "fit"
        bias = 0.0 if s.bias is None or fit_bias else check(at + ("bias",), s.bias, _quantity, s.bias, delta)
        lo, hi = window(s.window, at + ("window",))
        if sigma is not None and bias is not None:
            signals[tag] = SignalMap(tag, s.signal, s.unit, dim, sigma, bias, fit_bias,
                                     (max(lo, everywhere[0]), min(hi, everywhere[1])),
                                     s.max_gap if s.max_gap is not None else raw.max_gap, lines.line(at))
    if problems:
        raise LogError(problems)
    return LogMap(file, start, raw.time_column, tz, raw.clock_offset, raw.delimiter, raw.decimal,
                  tuple(raw.na_values), raw.duplicates, raw.out_of_order, raw.gaps, raw.ambiguous_times,
                  raw.long_gaps, types.MappingProxyType(signals), lines)


def _unit_dimension(unit: str, expected: str | None, signal: str) -> str:
    """The dimension a tag's unit is read in: the signal's, else the unit's own."""
    plain = unit.strip() in ("", "1")
    try:
        found, known = ("fraction" if plain else _dimension(unit)), True
    except Exception:  # pint's UndefinedUnitError and syntax errors: twin.units explains below
        found, known = None, False
    if known and found is None and expected is None:
        raise ValueError("is not a quantity twin models; accepted: units such as degC, K, kW, kg/s, t/h, bar, %")
    try:
        parse_quantity(1.0 if plain else f"1 {unit}", expected or found or "dimensionless")
    except UnitError as exc:
        why = f"; {signal} is {_article(expected)}" if expected else ""
        raise ValueError(f"{exc.accepted}{why}") from None
    return expected or found


def _article(dimension: str) -> str:
    name = dimension.replace("_", " ")
    return ("an " if name[0] in "aeiou" else "a ") + name


def _quantity(value: Any, dimension: str) -> float:
    try:
        return parse_quantity(value, dimension)
    except UnitError as exc:
        raise ValueError(exc.accepted) from None


def _positive(value: Any, dimension: str) -> float:
    x = _quantity(value, dimension)
    if not (np.isfinite(x) and x > 0):
        raise ValueError("must be > 0 (the standard deviation of one sample, e.g. '0.3 K', '2 kW')")
    return x


def _given(value: Any) -> str:
    value = value.item() if isinstance(value, np.generic) else value
    text = repr(value.isoformat() if isinstance(value, dt.date) else value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------- the log file
def _read_table(path: Path, m: LogMap, problems: list[Problem]) -> tuple[list[str], dict[str, np.ndarray], np.ndarray]:
    """``(columns, {column: cells}, lines)``: CSV cells as text, Parquet columns as stored."""
    file = str(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            df = pd.read_parquet(path)
        except ImportError:
            raise LogError([Problem(file, None, "", "", "reading Parquet needs pyarrow: "
                                                        "pip install 'twin[parquet]'")]) from None
        except Exception as exc:
            raise LogError([Problem(file, None, "", "", f"cannot read the Parquet file: {exc}")]) from None
        df = df.reset_index(drop=True)
        return [str(c) for c in df.columns], {str(c): df[c] for c in df.columns}, np.arange(1, len(df) + 1)
    rows, lines, header = [], [], None
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=m.delimiter, strict=True)
            line = 1
            for rec in reader:
                here, line = line, reader.line_num + 1
                if not "".join(rec).strip():
                    continue
                if header is None:
                    if not rec[0].lstrip().startswith("#"):
                        header, header_line = [c.strip() for c in rec], here
                    continue
                if len(rec) != len(header):
                    problems.append(Problem(file, here, "", f"{len(rec)} fields",
                                            f"the header (line {header_line}) has {len(header)}; "
                                            f"delimiter {m.delimiter!r}"))
                    continue
                rows.append(rec)
                lines.append(here)
    except (OSError, UnicodeDecodeError) as exc:
        raise LogError([Problem(file, None, "", "", f"cannot read the file: {exc}")]) from None
    except csv.Error as exc:
        raise LogError([Problem(file, reader.line_num, "", "", f"not readable as CSV: {exc}")]) from None
    if header is None:
        raise LogError([Problem(file, None, "", "", "no header row: expected a line of column names")])
    for name in {c for c in header if header.count(c) > 1}:
        problems.append(Problem(file, header_line, name, "", "the column name appears twice in the header"))
    cells = np.array(rows, dtype=object).reshape(len(rows), len(header))
    return header, {c: cells[:, i] for i, c in enumerate(header)}, np.asarray(lines)


def _rows(problems: list, file: str, column: str, lines, given, accepted: str) -> None:
    """Report ``accepted`` at the first rows (``_SHOWN``) and count the others."""
    for line, g in list(zip(lines, given))[:_SHOWN]:
        problems.append(Problem(file, int(line), column, _given(g), accepted))
    if len(lines) > _SHOWN:
        problems.append(Problem(file, None, column, "", f"{len(lines) - _SHOWN} more rows: {accepted}"))


def _utc(cells, lines: np.ndarray, m: LogMap, file: str, problems: list) -> np.ndarray:
    """Instants of the time column [ns since 1970-01-01 UTC] in file order; rows with a
    problem (reported) hold ``_NAT``."""
    col, out = m.time_column, np.full(len(cells), _NAT)
    if pd.api.types.is_datetime64_any_dtype(cells):  # Parquet timestamps
        local = pd.DatetimeIndex(cells)
        naive = ~np.asarray(local.isna())
        text = np.where(naive, np.asarray(local.astype(str), dtype=object), "NaT")
        _rows(problems, file, col, lines[~naive], text[~naive], "no timestamp")
        if local.tz is not None:
            out[naive] = local[naive].tz_convert("UTC").as_unit("ns").asi8
            return out
    else:
        series = pd.Series(cells, dtype=object).astype(str).str.strip()
        iso = series.str.fullmatch(_ISO).to_numpy(dtype=bool)
        aware = series.str.contains(_OFFSET).to_numpy(dtype=bool)
        # naive text is read as if it were UTC: its wall time, localised below
        stamp = pd.DatetimeIndex(pd.to_datetime(series.where(iso), format="ISO8601", utc=True, errors="coerce"))
        text, bad = series.to_numpy(), np.asarray(stamp.isna())
        _rows(problems, file, col, lines[bad], text[bad], f"not an ISO 8601 date and time; write e.g. {_EXAMPLE[5:]}")
        aware, naive = aware & ~bad, ~aware & ~bad
        if aware.any() and naive.any():
            a, b = np.flatnonzero(aware)[0], np.flatnonzero(naive)[0]
            rows = aware if aware.sum() < naive.sum() else naive
            _rows(problems, file, col, lines[rows], text[rows],
                  f"mixes timestamps with and without UTC offset (line {lines[a]}: {text[a]!r}, line "
                  f"{lines[b]}: {text[b]!r}); write every timestamp with its offset, or none and declare "
                  "timezone: in the map")
            return out
        out[aware] = stamp[aware].as_unit("ns").asi8
        local = stamp.tz_localize(None)
    rows = np.flatnonzero(naive)
    if rows.size and m.timezone is None:
        _rows(problems, file, col, lines[rows], text[rows], f"has no UTC offset and {m.file} declares no "
              "timezone:; write the offset or declare the loggers' time zone (IANA name, e.g. Europe/Vienna)")
    elif rows.size:
        idx = local[rows]
        dst = idx.tz_localize(m.timezone, ambiguous=np.ones(rows.size, bool), nonexistent="NaT")
        std = idx.tz_localize(m.timezone, ambiguous=np.zeros(rows.size, bool), nonexistent="NaT")
        gone, twice = np.asarray(dst.isna()), np.asarray((dst != std) & ~dst.isna())
        _rows(problems, file, col, lines[rows[gone]], text[rows[gone]],
              f"does not exist in {m.timezone} (clocks spring forward); if the logger ignores daylight "
              "saving time, declare its fixed offset, e.g. timezone: '+01:00'")
        flags = np.ones(rows.size, bool)  # True: summer time, where a local time occurs twice
        if twice.any() and m.ambiguous_times == "error":
            _rows(problems, file, col, lines[rows[twice]], text[rows[twice]],
                  f"occurs twice in {m.timezone} (clocks fall back); write the offset, or declare "
                  "ambiguous_times: infer if the rows run forward through that hour twice")
        elif twice.any():
            wall, at = idx.as_unit("ns").asi8, np.flatnonzero(twice)
            for run in np.split(at, np.flatnonzero(np.diff(at) > 1) + 1):
                back = np.flatnonzero(np.diff(wall[run]) <= 0)
                if len(back) == 1:  # forward in summer time, one step back, forward in winter time
                    flags[run[back[0] + 1:]] = False
                else:
                    _rows(problems, file, col, lines[rows[run]], text[rows[run]],
                          f"occurs twice in {m.timezone} and ambiguous_times: infer cannot tell which: the rows "
                          "do not run forward through the hour twice; write the offsets")
        out[rows] = idx.tz_localize(m.timezone, ambiguous=flags, nonexistent="NaT").as_unit("ns").asi8
    return out


def _numbers(cells, lines: np.ndarray, m: LogMap, tag: str, file: str, problems: list
             ) -> tuple[np.ndarray, np.ndarray]:
    """``(values, missing)``: cells as floats (NaN where missing or reported as not a number)."""
    if pd.api.types.is_numeric_dtype(cells) and not pd.api.types.is_bool_dtype(cells):
        x = text = np.array(cells, dtype=float)
        missing = np.isnan(x)
    else:
        text = pd.Series(cells, dtype=object).astype(str).str.strip()
        missing = text.isin(m.na_values) | pd.Series(cells, dtype=object).isna()
        clean = text.str.replace(",", ".", regex=False) if m.decimal == "," else text
        x = pd.to_numeric(clean.where(~missing, "nan"), errors="coerce").to_numpy(dtype=float, copy=True)
        missing = missing.to_numpy()
        bad = np.isnan(x) & ~missing
        names = ", ".join(repr(v) for v in m.na_values)
        _rows(problems, file, tag, lines[bad], text[bad], f"not a number; decimal mark {m.decimal!r}, "
              f"missing values are written as {names} (na_values)")
        text = text.to_numpy()
    inf = np.isinf(x)
    _rows(problems, file, tag, lines[inf], text[inf], "must be a finite number")
    return x, missing


def _to_si(x: np.ndarray, s: SignalMap) -> np.ndarray:
    ureg = get_registry()
    si = si_unit(s.dimension)
    unit = s.unit if s.unit.strip() not in ("", "1") else ureg.dimensionless
    return np.asarray(ureg.Quantity(x, unit).to(si or ureg.dimensionless).magnitude, dtype=float)


# ---------------------------------------------------------------------- the result
def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclasses.dataclass(frozen=True)
class LoggedSignal:
    """The samples of one tag, after the map's policies.

    Attributes
    ----------
    tag, signal
        The log's column and the model signal it measures (``boiler.T``).
    unit, si_unit
        The log's unit (``degC``) and the SI unit of ``values`` (``K``; ``""`` for fractions).
    t
        Sample times since the map's start, strictly increasing. [s]
    values
        Samples, known bias removed. [SI]
    sigma
        Standard deviation of one sample. [SI]
    bias, fit_bias
        Known bias already subtracted [SI]; whether an unknown constant bias is to be fitted.
    lines
        The log line (Parquet: row) of each sample (the first of merged duplicates).
    gaps
        ``(t_before, t_after)`` of each gap longer than ``max_gap`` (``long_gaps: split``):
        the data are segments between them, not to be interpolated across. [s]
    missing, outside
        Samples dropped as missing (``gaps: drop``) and outside the window or before start.
    """

    tag: str
    signal: str
    unit: str
    si_unit: str
    t: np.ndarray
    values: np.ndarray
    sigma: float
    bias: float
    fit_bias: bool
    lines: np.ndarray
    gaps: tuple[tuple[float, float], ...]
    missing: int
    outside: int


@dataclasses.dataclass(frozen=True)
class LogSummary:
    """Counts over the whole log: data ``rows`` read, rows merged as ``duplicates``, rows
    ``reordered`` into time order, and the log's columns the map does not use."""

    rows: int
    duplicates: int
    reordered: int
    unmapped: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class PlantLog:
    """A plant log in SI and UTC (:func:`read_log`): one :class:`LoggedSignal` per mapped tag.

    ``start`` (UTC) is model time t = 0; print the object (or :meth:`describe`) for a summary.
    """

    file: str
    map: LogMap
    signals: Mapping[str, LoggedSignal]
    summary: LogSummary

    @property
    def start(self) -> pd.Timestamp:
        return self.map.start

    def describe(self) -> str:
        """What was read and what the policies did, for people."""
        m, s = self.map, self.summary
        out = [(f"{self.file} ({m.file}): {s.rows} rows; t = 0 at {self.start.isoformat()}; "
                f"clock offset {m.clock_offset:g} s removed"),
               (f"  duplicates: {_count(s.duplicates, 'row')} merged ({m.duplicates}); out of order: "
                f"{_count(s.reordered, 'row')} sorted in ({m.out_of_order})")]
        table = [("tag", "signal", "unit", "sigma", "samples", "missing", "outside", "long gaps")]
        for tag, g in self.signals.items():
            spec = m.signals[tag]
            delta = spec.dimension == "temperature"
            sigma = format_quantity(g.sigma, "temperature_difference" if delta else spec.dimension,
                                    unit="K" if delta else spec.unit, digits=2)
            table.append((tag, g.signal, g.unit, sigma, str(g.t.size), str(g.missing), str(g.outside),
                          str(len(g.gaps))))
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        out += ["  " + "  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                for r in table]
        for tag, g in self.signals.items():
            for a, b in g.gaps:
                t = self.start + pd.Timedelta(seconds=a)
                out.append(f"  {tag}: no sample for {format_quantity(b - a, 'time', digits=2)} after "
                           f"{t.isoformat()} (t = {a:.0f} s), kept as a segment break")
        if s.unmapped:
            out.append(f"  columns not mapped (ignored): {', '.join(s.unmapped)}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.describe()

    def to_dataset(self):
        """The log as an ``xarray.Dataset``: one variable per tag on its own time dimension
        ``<tag>_time`` [s since start], SI ``units``, sigma, signal and source unit in
        ``attrs``; start, files and policies in the Dataset's attributes."""
        import xarray as xr

        out = {}
        for tag, g in self.signals.items():
            dim = f"{tag}_time"
            attrs = {"units": g.si_unit or "1", "long_name": f"{tag}: logged {g.signal}", "signal": g.signal,
                     "tag": tag, "source_unit": g.unit, "sigma": g.sigma, "bias": g.bias, "fit_bias": int(g.fit_bias)}
            if g.gaps:
                attrs["gaps"] = np.asarray(g.gaps, dtype=float).ravel()
            time = xr.Variable((dim,), g.t, {"units": "s", "long_name": f"time of the {tag} samples since start"})
            out[tag] = xr.DataArray(g.values, dims=(dim,), coords={dim: time}, attrs=attrs)
        m = self.map
        return xr.Dataset(out, attrs={
            "start": self.start.isoformat(), "log_file": self.file, "map_file": m.file,
            "clock_offset": m.clock_offset, "duplicates": m.duplicates, "out_of_order": m.out_of_order,
            "gaps": m.gaps, "long_gaps": m.long_gaps, "ambiguous_times": m.ambiguous_times})


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _columns(name: str, columns: list[str], taken) -> str:
    close = difflib.get_close_matches(name, [c for c in columns if c not in taken], n=1)
    return (f"did you mean {close[0]!r}? " if close else "") + f"columns: {', '.join(columns)}"


def read_log(log: str | Path, mapping: str | Path | LogMap, *,
             model_units: Mapping[str, str] | Callable[[str], str | None] | None = None) -> PlantLog:
    """Read a plant log with its map: SI values, UTC instants, the map's policies applied.

    Parameters
    ----------
    log
        CSV file (``.parquet``/``.pq``: Parquet, needs pyarrow).
    mapping
        The map file, or a :class:`LogMap` from :func:`load_map`.
    model_units
        See :func:`load_map` (used when ``mapping`` is a file).

    Returns
    -------
    PlantLog

    Raises
    ------
    LogError
        With every problem found, each at its file, line and column or field.
    """
    m = mapping if isinstance(mapping, LogMap) else load_map(mapping, model_units=model_units)
    path, file = Path(log), str(log)
    problems: list[Problem] = []
    columns, cells, lines = _read_table(path, m, problems)
    if m.time_column not in cells:
        problems.append(Problem(m.file, m.linemap.line(("time_column",)), "time_column", repr(m.time_column),
                                f"not a column of {file}; {_columns(m.time_column, columns, m.signals)}"))
    for tag in m.signals:
        if tag not in cells:
            problems.append(Problem(m.file, m.linemap.line(("signals", tag)), f"signals.{tag}", repr(tag),
                                    f"no such column in {file}; {_columns(tag, columns, [*m.signals, m.time_column])}"))
    if problems:
        raise LogError(problems)
    text = pd.Series(cells[m.time_column], dtype=object).astype(str).str.strip().to_numpy()
    t_ns = _utc(cells[m.time_column], lines, m, file, problems)
    raw = {}
    for tag in m.signals:
        raw[tag], missing = _numbers(cells[tag], lines, m, tag, file, problems)
        if m.gaps == "error":
            _rows(problems, file, tag, lines[missing], np.asarray(cells[tag])[missing],
                  "missing value; declare gaps: drop in the map to leave such samples out of this tag")
    if problems:
        raise LogError(problems)

    t_ns = t_ns - round(m.clock_offset * 1e9)
    n = len(t_ns)
    ahead = np.maximum.accumulate(t_ns)
    late = np.flatnonzero(t_ns < ahead)
    if late.size and m.out_of_order == "error":
        owner = np.maximum.accumulate(np.where(t_ns == ahead, np.arange(n), 0))
        for i in late[:_SHOWN]:
            j = owner[i]
            problems.append(Problem(file, int(lines[i]), m.time_column, repr(text[i]),
                                    f"earlier than line {lines[j]} ({text[j]!r}); accepted: timestamps in "
                                    "increasing order, or declare out_of_order: sort in the map"))
        if late.size > _SHOWN:
            problems.append(Problem(file, None, m.time_column, "", f"{late.size - _SHOWN} more rows earlier "
                                    "than a row above them (out_of_order: error)"))
    order = np.argsort(t_ns, kind="stable")
    t_ns, lines, text = t_ns[order], lines[order], text[order]
    raw = {tag: x[order] for tag, x in raw.items()}
    repeat = np.flatnonzero(np.diff(t_ns) == 0) + 1
    if repeat.size and m.duplicates == "error":
        for i in repeat[:_SHOWN]:
            problems.append(Problem(file, int(lines[i]), m.time_column, repr(text[i]),
                                    f"the same instant as line {lines[i - 1]} ({text[i - 1]!r}); declare "
                                    "duplicates: mean, first or last in the map to merge such rows"))
        if repeat.size > _SHOWN:
            problems.append(Problem(file, None, m.time_column, "", f"{repeat.size - _SHOWN} more rows repeat "
                                    "an instant (duplicates: error)"))
    if problems:
        raise LogError(problems)
    if repeat.size:  # first/last: the first/last value present, in file order
        groups = pd.DataFrame(raw).groupby(t_ns, sort=False)
        raw = {tag: x.to_numpy(dtype=float) for tag, x in getattr(groups, m.duplicates)().items()}
        lines = pd.Series(lines).groupby(t_ns, sort=False).first().to_numpy()
        t_ns = np.unique(t_ns)

    t = (t_ns - m.start.as_unit("ns").value) / 1e9
    signals = {}
    for tag, spec in m.signals.items():
        x = _to_si(raw[tag], spec) - spec.bias
        present = ~np.isnan(x)
        inside = (t >= spec.window[0]) & (t <= spec.window[1])
        keep = present & inside
        where = f"{spec.window[0]:g} s to {spec.window[1]:g} s after start"
        if not keep.any():
            problems.append(Problem(m.file, spec.line, f"signals.{tag}", "", f"no sample of {tag} in {file} "
                                    f"from {where} ({m.start.isoformat()} is t = 0)"))
            continue
        if spec.dimension == "temperature":
            cold = keep & (x + spec.bias <= 0)
            _rows(problems, file, tag, lines[cold], raw[tag][cold], f"below absolute zero in {spec.unit}")
        tk, lk = t[keep], lines[keep]
        gaps = ()
        if spec.max_gap is not None:
            long = np.flatnonzero(np.diff(tk) > spec.max_gap)
            gaps = tuple((float(tk[i]), float(tk[i + 1])) for i in long)
            if long.size and m.long_gaps == "error":
                limit = format_quantity(spec.max_gap, "time", digits=3)
                _rows(problems, file, tag, lk[long + 1], [f"{tk[i + 1] - tk[i]:g} s" for i in long],
                      f"without a sample of {tag} before this line, longer than max_gap {limit}; declare "
                      "long_gaps: split to keep the data in segments")
        signals[tag] = LoggedSignal(tag, spec.signal, spec.unit, si_unit(spec.dimension), _frozen(tk),
                                    _frozen(x[keep]), spec.sigma, spec.bias, spec.fit_bias, _frozen(lk),
                                    gaps, int((~present & inside).sum()), int((present & ~inside).sum()))
    if problems:
        raise LogError(problems)
    unmapped = tuple(c for c in columns if c != m.time_column and c not in m.signals)
    summary = LogSummary(n, int(repeat.size), int(late.size), unmapped)
    return PlantLog(file, m, types.MappingProxyType(signals), summary)
