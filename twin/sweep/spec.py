"""What a sweep varies: parameter axes, and the variants drawn from them.

A sweep parameter is addressed by the same path as ``twin run --set`` (``recuperator.UA``,
``pcm_bank.mass``, ``schedules.pull.values.1``, ``furnace.wall.layers.0.thickness``) and is
given as

* a range ``"10 kW/K..60 kW/K"`` (both ends with units, or plain numbers for dimensionless
  parameters), sampled on a grid (``--grid N``: N evenly spaced levels per range, full
  factorial) or by Latin hypercube sampling (``--samples N --seed S``: McKay, Beckman &
  Conover 1979; :class:`scipy.stats.qmc.LatinHypercube`);
* a list of levels ``"5 t, 20 t, 40 t"`` (grid only);
* or, for arbitrary variants, a CSV file (``--list FILE``): one column per path (a unit in
  the header, ``recuperator.UA [kW/K]``, or in every cell, ``30 kW/K``), one row per variant.

Every value of one axis is held as a number in one unit (the unit of the axis's first value;
other units are converted with pint), and each variant is handed to the scenario loader as
``--set`` text (``recuperator.UA=30 kW/K``), so a variant is validated and read exactly like
the file.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["Axis", "SweepSpecError", "Variants", "grid", "latin_hypercube", "parse_vary", "read_list",
           "from_block"]

_NUMBER = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$", re.S)


class SweepSpecError(ValueError):
    """A sweep definition that cannot be read; the message names the option or file and field."""


@dataclasses.dataclass(frozen=True)
class Axis:
    """One swept parameter.

    Attributes
    ----------
    path
        Scenario path, as for ``--set``.
    unit
        Unit of the numbers (pint syntax; ``""`` for a plain number).
    low, high
        Range ends for grid and Latin-hypercube sampling (None for a list of levels).
    levels
        Explicit levels (None for a range).
    """

    path: str
    unit: str
    low: float | None = None
    high: float | None = None
    levels: tuple[float, ...] | None = None

    def text(self, value: float) -> str:
        """``value`` as ``--set`` value text (``"30000 W/K"``); round-trips exactly."""
        number = repr(float(value))
        if number.endswith(".0"):
            number = number[:-2]
        return f"{number} {self.unit}".strip()


@dataclasses.dataclass(frozen=True)
class Variants:
    """The variants of a sweep: ``values[i, j]`` is axis j's value in variant i, in ``axes[j].unit``."""

    axes: tuple[Axis, ...]
    values: np.ndarray
    method: str = "grid"

    def __post_init__(self):
        v = np.asarray(self.values, dtype=float).reshape(-1, len(self.axes))
        object.__setattr__(self, "values", v)

    def __len__(self) -> int:
        return self.values.shape[0]

    def overrides(self, i: int) -> list[str]:
        """``--set`` strings of variant ``i``."""
        return [f"{a.path}={a.text(v)}" for a, v in zip(self.axes, self.values[i])]


def split_number(text: str, where: str) -> tuple[float, str]:
    """``"30 kW/K"`` -> ``(30.0, "kW/K")``; a SweepSpecError naming ``where`` otherwise."""
    m = _NUMBER.match(str(text))
    if not m:
        raise SweepSpecError(f"{where}: {text!r} is not a number with an optional unit (like '30 kW/K')")
    return float(m.group(1)), m.group(2).strip()


def _convert(value: float, unit: str, to: str, where: str) -> float:
    if unit == to:
        return value
    from twin.units import get_registry

    ureg = get_registry()
    try:
        return float(ureg.Quantity(value, unit or "dimensionless").to(to or "dimensionless").magnitude)
    except Exception as exc:  # pint raises several unrelated types for bad units
        raise SweepSpecError(f"{where}: cannot convert {value:g} {unit} to {to or 'a plain number'}: {exc}") from None


def _axis(path: str, spec: str | Sequence, where: str) -> Axis:
    path = path.strip()
    if not path or any(not part for part in path.split(".")):
        raise SweepSpecError(f"{where}: {path!r} is not a parameter path like recuperator.UA")
    if isinstance(spec, str) and ".." in spec:
        lo_text, hi_text = spec.split("..", 1)
        lo, unit = split_number(lo_text, where)
        hi, hi_unit = split_number(hi_text, where)
        unit = unit or hi_unit  # "10..60 kW/K": one unit for both ends
        hi = _convert(hi, hi_unit or unit, unit, where)
        if not math.isfinite(lo) or not math.isfinite(hi):
            raise SweepSpecError(f"{where}: range {spec!r} must have finite ends")
        if hi <= lo:
            raise SweepSpecError(f"{where}: range {spec!r} must go from a lower to a higher value")
        return Axis(path, unit, low=lo, high=hi)
    items = [s for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    items = [s for s in items if str(s).strip()]
    if not items:
        raise SweepSpecError(f"{where}: give a range 'LOW..HIGH' or levels 'A, B, C'")
    first, unit = split_number(items[0], where)
    levels = [first] + [_convert(*split_number(x, where), unit, where) for x in items[1:]]
    if not all(math.isfinite(x) for x in levels):
        raise SweepSpecError(f"{where}: levels {', '.join(str(x).strip() for x in items)} must be finite")
    return Axis(path, unit, levels=tuple(levels))


def parse_vary(items: Sequence[str]) -> list[Axis]:
    """Axes from ``--vary PATH=LOW..HIGH`` or ``--vary PATH=A,B,C`` strings."""
    axes = []
    for item in items:
        path, sep, spec = item.partition("=")
        if not sep:
            raise SweepSpecError(f"--vary {item!r}: write PATH=LOW..HIGH or PATH=A,B,C "
                                 "(e.g. --vary recuperator.UA='10 kW/K..60 kW/K')")
        axes.append(_axis(path, spec, f"--vary {path.strip()}"))
    _unique(axes, "--vary")
    return axes


def _unique(axes: Sequence[Axis], where: str) -> None:
    seen = set()
    for a in axes:
        if a.path in seen:
            raise SweepSpecError(f"{where}: {a.path} is varied twice")
        seen.add(a.path)


def grid(axes: Sequence[Axis], n: int) -> Variants:
    """Full factorial: ``n`` evenly spaced levels of every range (ends included), every level
    of every list; the last axis varies fastest."""
    if n < 1:
        raise SweepSpecError(f"--grid {n}: the number of levels must be at least 1")
    if not axes:
        raise SweepSpecError("nothing to vary: give --vary PATH=LOW..HIGH (or a sweep: block)")
    levels = []
    for a in axes:
        if a.levels is not None:
            levels.append(np.asarray(a.levels))
        else:
            levels.append(np.linspace(a.low, a.high, n) if n > 1 else np.asarray([(a.low + a.high) / 2]))
    values = np.array(list(itertools.product(*levels)), dtype=float).reshape(-1, len(axes))
    return Variants(tuple(axes), values, "grid")


def latin_hypercube(axes: Sequence[Axis], n: int, seed: int | None) -> Variants:
    """``n`` variants by Latin hypercube sampling of the ranges (scipy's ``LatinHypercube``,
    reproducible with ``seed``)."""
    from scipy.stats import qmc

    if n < 1:
        raise SweepSpecError(f"--samples {n}: the number of samples must be at least 1")
    if not axes:
        raise SweepSpecError("nothing to vary: give --vary PATH=LOW..HIGH (or a sweep: block)")
    for a in axes:
        if a.levels is not None:
            raise SweepSpecError(f"{a.path}: Latin hypercube sampling needs a range LOW..HIGH, not levels")
    u = qmc.LatinHypercube(d=len(axes), seed=seed).random(n)
    lo = np.array([a.low for a in axes])
    hi = np.array([a.high for a in axes])
    return Variants(tuple(axes), lo + u * (hi - lo), "lhs")


_HEADER = re.compile(r"^\s*([^\[\]]+?)\s*(?:\[(.*)\])?\s*$")


def read_list(path: str | Path) -> Variants:
    """Variants from a CSV file: a header of parameter paths (optionally ``path [unit]``), one
    row per variant; a cell is a number (in the header's unit) or a number with a unit."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepSpecError(f"{path}: cannot read the variant list: {exc}") from None
    rows = [r for r in csv.reader(line for line in text.splitlines() if line.strip() and not line.startswith("#"))]
    if len(rows) < 2:
        raise SweepSpecError(f"{path}: a variant list needs a header of parameter paths and at least one row")
    header = []
    for k, cell in enumerate(rows[0]):
        m = _HEADER.match(cell)
        if not m or not m.group(1).strip():
            raise SweepSpecError(f"{path}: column {k + 1}: {cell!r} is not 'path' or 'path [unit]'")
        header.append((m.group(1).strip(), (m.group(2) or "").strip()))
    axes, values = [], np.empty((len(rows) - 1, len(header)))
    for j, (p, unit) in enumerate(header):
        col_unit = unit
        for i, row in enumerate(rows[1:]):
            where = f"{path}:{i + 2}: {p}"
            if len(row) != len(header):
                raise SweepSpecError(f"{path}:{i + 2}: {len(row)} values for {len(header)} columns")
            v, u = split_number(row[j], where)
            if i == 0 and not unit:
                col_unit = u
            values[i, j] = _convert(v, u or unit, col_unit, where)
            if not math.isfinite(values[i, j]):
                raise SweepSpecError(f"{where}: {row[j]!r} is not finite")
        axes.append(Axis(p, col_unit, levels=tuple(values[:, j])))
    _unique(axes, str(path))
    return Variants(tuple(axes), values, "list")


def from_block(block, base_dir: Path) -> Variants:
    """Variants from a scenario's validated ``sweep:`` block (:class:`twin.scenario.schema.SweepModel`)."""
    if block.method == "list":
        f = Path(block.list)
        return read_list(f if f.is_absolute() else base_dir / f)
    axes = [_axis(p, spec, f"sweep.parameters.{p}") for p, spec in block.parameters.items()]
    if block.method == "lhs":
        return latin_hypercube(axes, block.samples, block.seed)
    return grid(axes, block.points)
