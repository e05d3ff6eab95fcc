"""Physical units at the input boundary: text like ``"4 MW"`` in, SI floats out.

Everything inside twin is an SI float (K, Pa, kg, s, J, W, m). Units exist only here, where
scenario text is read (:func:`parse_quantity`) and where summaries are printed
(:func:`format_quantity`). Money is not a unit: ``"12 EUR"`` is rejected.

Behaviours worth knowing (checked against pint 0.25):

* The number is read from the text exactly (as a decimal fraction) and multiplied by the unit's
  conversion factor as an exact rational, then rounded once. Physically equal inputs therefore
  give bitwise-identical floats: ``"450 degC"`` and ``"723.15 K"`` are both ``723.15``,
  ``"300 mm"`` and ``"0.3 m"`` both ``0.3``. (Plain float addition ``134.66 + 273.15`` differs
  from ``407.81`` by one ulp; about a third of two-decimal Celsius values do.)
* Pint turns an offset unit inside a *compound* unit into its delta unit:
  ``"25 W/m^2/degC"`` is 25 W/m^2/K and ``"2 kJ/kg/degC"`` is 2000 J/kg/K. That is the
  physically meant value, so it is accepted. A lone ``degC`` stays absolute: it is a
  temperature, and ambiguous (rejected) where a temperature *difference* is asked for.
* Pint is case sensitive: ``"mw"`` and ``"kw"`` are unknown (we suggest ``MW``/``mW`` and
  ``kW``); ``"mW"`` is a milliwatt, ``"mJ"`` a millijoule. ``"t"`` is the tonne, but pint's
  ``"ton"`` is the US short ton (907 kg), so ``ton`` is rejected; ``"kt"`` is a knot.
  ``"h"`` is the hour, ``"d"`` the day, ``"a"`` the year; ``"m2"`` is unknown (write ``m^2``).
"""

from __future__ import annotations

import difflib
import functools
import itertools
import math
import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "DIMENSIONS",
    "UnitError",
    "example_units",
    "format_quantity",
    "get_registry",
    "parse_quantity",
    "si_unit",
]


class UnitError(ValueError):
    """A quantity that cannot be read as the requested dimension.

    ``str(err)`` is the full message (``"'12 kW' is a power, not an area (...)"``);
    ``err.accepted`` is the same without the given value, for field-level reports.
    """

    def __init__(self, message: str, accepted: str | None = None):
        super().__init__(message)
        self.accepted = accepted if accepted is not None else message


@dataclass(frozen=True)
class _Dim:
    si: str  # SI unit, parsable by pint ("" for dimensionless)
    examples: tuple[str, ...]  # units shown in messages, most common first
    display: tuple[str, ...]  # ladder of units for format_quantity, ascending size


_DIMS: dict[str, _Dim] = {
    "temperature": _Dim("K", ("degC", "K"), ("degC",)),
    "temperature_difference": _Dim("K", ("K", "delta_degC"), ("K",)),
    "temperature_rate": _Dim("K/s", ("K/min", "K/h"), ("K/s", "K/min", "K/h")),
    "power": _Dim("W", ("MW", "kW", "W"), ("W", "kW", "MW", "GW")),
    "energy": _Dim("J", ("MWh", "kWh", "GJ"), ("J", "kJ", "MJ", "GJ", "TJ")),
    "mass": _Dim("kg", ("t", "kg"), ("kg", "t")),
    "mass_flow": _Dim("kg/s", ("kg/s", "t/h"), ("kg/s",)),
    "time": _Dim("s", ("h", "min", "s", "d"), ("s", "min", "h", "d")),
    "frequency": _Dim("1/s", ("1/h", "1/s"), ("1/s",)),
    "length": _Dim("m", ("m", "mm"), ("mm", "m", "km")),
    "area": _Dim("m^2", ("m^2",), ("m^2",)),
    "volume": _Dim("m^3", ("m^3", "L"), ("L", "m^3")),
    "thermal_conductance": _Dim("W/K", ("kW/K", "W/K"), ("W/K", "kW/K", "MW/K")),
    "heat_capacity": _Dim("J/K", ("kJ/K", "MJ/K"), ("J/K", "kJ/K", "MJ/K")),
    "heat_transfer_coefficient": _Dim("W/m^2/K", ("W/m^2/K",), ("W/m^2/K",)),
    "heat_flux": _Dim("W/m^2", ("W/m^2", "kW/m^2"), ("W/m^2", "kW/m^2")),
    "thermal_conductivity": _Dim("W/m/K", ("W/m/K",), ("W/m/K",)),
    "specific_heat": _Dim("J/kg/K", ("kJ/kg/K", "J/kg/K"), ("J/kg/K", "kJ/kg/K")),
    "specific_energy": _Dim("J/kg", ("kJ/kg", "MJ/kg"), ("J/kg", "kJ/kg", "MJ/kg")),
    "energy_density": _Dim("J/m^3", ("MJ/m^3", "kWh/m^3"), ("J/m^3", "kJ/m^3", "MJ/m^3")),
    "density": _Dim("kg/m^3", ("kg/m^3",), ("kg/m^3",)),
    "pressure": _Dim("Pa", ("bar", "kPa", "Pa"), ("Pa", "kPa", "bar")),
    "velocity": _Dim("m/s", ("m/s",), ("m/s",)),
    "volume_flow": _Dim("m^3/s", ("m^3/h", "L/min"), ("m^3/h",)),
    "dynamic_viscosity": _Dim("Pa*s", ("Pa*s", "mPa*s"), ("Pa*s",)),
    "kinematic_viscosity": _Dim("m^2/s", ("m^2/s",), ("m^2/s",)),
    "molar_mass": _Dim("kg/mol", ("g/mol", "kg/mol"), ("kg/mol",)),
    "emission_factor": _Dim("kg/J", ("kg/kWh", "g/kWh"), ("kg/kWh",)),
    # money is not a unit: a price is "per" something, in the currency the scenario names
    "price_per_energy": _Dim("1/J", ("1/kWh", "1/MWh"), ("1/kWh",)),
    "price_per_mass": _Dim("1/kg", ("1/t", "1/kg"), ("1/t",)),
    "dimensionless": _Dim("", ("", "%"), ("",)),
    "fraction": _Dim("", ("", "%"), ("%",)),
}

DIMENSIONS: tuple[str, ...] = tuple(_DIMS)
"""Names accepted as ``dimension`` by :func:`parse_quantity` and :func:`format_quantity`."""

_REJECTED = {
    "ton": "'ton' is the US short ton (907 kg) in pint: write 't' for the tonne (1000 kg)",
    "tons": "'tons' is the US short ton (907 kg) in pint: write 't' for the tonne (1000 kg)",
}
_NUMBER = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$", re.S)
_WORD = re.compile(r"[^\W\d]\w*")


@functools.lru_cache(maxsize=1)
def get_registry():
    """Return the process-wide pint ``UnitRegistry``, created on first use (about 0.2 s).

    Offset units are never converted implicitly (``autoconvert_offset_to_baseunit=False``);
    :func:`parse_quantity` handles absolute temperatures itself.
    """
    import pint

    return pint.UnitRegistry(autoconvert_offset_to_baseunit=False)


def si_unit(dimension: str) -> str:
    """The SI unit (pint syntax) that :func:`parse_quantity` returns for ``dimension``."""
    return _dim(dimension).si


def example_units(dimension: str) -> tuple[str, ...]:
    """Units commonly written for ``dimension``, most common first (for messages and docs)."""
    return _dim(dimension).examples


def _dim(dimension: str) -> _Dim:
    try:
        return _DIMS[dimension]
    except KeyError:
        raise KeyError(f"unknown dimension {dimension!r}; known: {', '.join(_DIMS)}") from None


def _human(dimension: str) -> str:
    name = dimension.replace("_", " ")
    return ("an " if name[0] in "aeiou" else "a ") + name


def _expected(dimension: str) -> str:
    d = _dim(dimension)
    if d.si == "":
        return "expected a plain number like 0.8 or a percentage like '80 %'"
    return "expected units like " + ", ".join(repr(u) for u in d.examples)


def _fail(given: str, reason: str) -> UnitError:
    return UnitError(f"{given} {reason}", reason)


def _rational(x: float) -> Fraction:
    """The simplest fraction within a few ulp of ``x`` (0.2777... becomes 5/18).

    Pint's factors are floats with a little round-off (its degF offset 255.37222222222223 is
    45967/180 plus 2 ulp); snapping them back to small fractions makes ``-40 degF`` exactly
    ``233.15``.
    """
    r = Fraction(x).limit_denominator(10**6)
    return r if abs(float(r) - x) <= 1e-13 * abs(x) else Fraction(x)


def _suggest(token: str, dimension: str) -> list[str]:
    """Units close to an unknown ``token``: other casings first, then spelling neighbours."""
    ureg = get_registry()
    si = ureg.parse_units(_dim(dimension).si) if _dim(dimension).si else None
    found: list[str] = []
    if len(token) <= 5:
        for chars in itertools.product(*[(c.upper(), c.lower()) for c in token]):
            cand = "".join(chars)
            if cand == token or cand in found:
                continue
            try:
                un = ureg.parse_units(cand)
            except Exception:
                continue
            if si is None or un.dimensionality == si.dimensionality:
                found.append(cand)
    found.sort(key=lambda c: c not in _dim(dimension).examples)
    m = re.fullmatch(r"([^\W\d]+)([23])", token)
    if m:
        found.append(f"{m.group(1)}^{m.group(2)}")
    if found:
        return found[:4]
    return difflib.get_close_matches(token, _spelling_pool(dimension), n=2)


@functools.lru_cache(maxsize=1)
def _all_names() -> dict[str, object]:
    """Every unit name pint defines (no prefixes), with its dimensionality. Error path only."""
    ureg = get_registry()
    out = {}
    for name in ureg:
        try:
            out[name] = ureg.parse_units(name).dimensionality
        except Exception:
            continue
    return out


@functools.lru_cache(maxsize=None)
def _spelling_pool(dimension: str) -> list[str]:
    """Unit names of one dimension (all names if dimensionless), some with SI prefixes."""
    d = _dim(dimension)
    target = get_registry().parse_units(d.si).dimensionality if d.si else None
    names = [n for n, dims in _all_names().items() if target is None or dims == target]
    long = [n for n in names if len(n) > 3 and n.islower() and "decibel" not in n]
    prefixed = [p + n for p in ("kilo", "mega", "giga", "milli") for n in long]
    return sorted({u for u in d.examples + d.display if u} | set(names) | set(prefixed))


@functools.lru_cache(maxsize=512)
def _conversion(unit_text: str, dimension: str) -> tuple[Fraction, Fraction]:
    """``(scale, offset)`` with ``SI = number * scale + offset``; raises ``UnitError``."""
    ureg = get_registry()
    d = _dim(dimension)
    for word in _WORD.findall(unit_text):
        if word in _REJECTED:
            raise UnitError(_REJECTED[word])
    try:
        un = ureg.parse_units(unit_text)
    except Exception as exc:  # UndefinedUnitError, syntax errors from the tokenizer
        names = getattr(exc, "unit_names", None) or ()
        if isinstance(names, str):
            names = (names,)
        if names:
            bad = names[0]
            hints = _suggest(bad, dimension)
            hint = f"; did you mean {' or '.join(repr(h) for h in hints)}?" if hints else ""
            raise UnitError(f"unknown unit {bad!r}{hint} ({_expected(dimension)})") from None
        raise UnitError(f"cannot read unit {unit_text!r} ({_expected(dimension)})") from None
    target = ureg.parse_units(d.si) if d.si else ureg.dimensionless
    if un.dimensionality != target.dimensionality:
        actual = next(
            (n for n, o in _DIMS.items() if o.si and ureg.parse_units(o.si).dimensionality
             == un.dimensionality),
            None,
        )
        what = f"is {_human(actual)}, not" if actual else "is not"
        raise UnitError(f"{what} {_human(dimension)} ({_expected(dimension)})")
    zero = ureg.Quantity(0.0, un).to(target).magnitude
    one = ureg.Quantity(1.0, un).to(target).magnitude
    if zero != 0.0:  # an absolute offset unit (degC, degF) standing alone
        if dimension != "temperature":
            delta = f"delta_{unit_text}" if unit_text.isidentifier() else "delta_degC"
            raise UnitError(
                f"is ambiguous for {_human(dimension)}: {unit_text!r} is an absolute "
                f"temperature; write 'K' or {delta!r} for a difference"
            )
        return _rational(one - zero), _rational(zero)
    if dimension == "temperature" and "delta_" in str(un):
        raise UnitError(
            "is a temperature difference, not a temperature; write e.g. '450 degC' or '723.15 K'"
        )
    return _rational(one), Fraction(0)


def parse_quantity(text: str | float, dimension: str) -> float:
    """Read a quantity like ``"25 kW/K"`` and return its SI magnitude as a float.

    Parameters
    ----------
    text
        A number followed by a unit (``"450 degC"``, ``"20 t"``, ``"1e-3 m^3/s"``). For the
        ``dimensionless`` and ``fraction`` dimensions also a plain number or ``"80 %"``.
    dimension
        One of :data:`DIMENSIONS`, e.g. ``"power"`` or ``"thermal_conductance"``.

    Returns
    -------
    float
        The value in SI units (:func:`si_unit`); temperatures are absolute kelvin.

    Raises
    ------
    UnitError
        For bare numbers in dimensional fields, unknown or wrongly cased units, the wrong
        dimension, ambiguous ``degC`` differences and temperatures at or below 0 K.
    """
    d = _dim(dimension)
    if isinstance(text, bool) or text is None:
        what = "is empty" if text is None else "is a boolean"
        raise _fail(repr(text), f"{what}, not {_human(dimension)} ({_expected(dimension)})")
    if isinstance(text, (int, float)):
        if not math.isfinite(text):
            raise _fail(repr(text), f"is not a finite number ({_expected(dimension)})")
        if d.si == "":
            return float(text)
        example = f"{text} {d.examples[0]}"
        raise UnitError(
            f"bare number {text} for {_human(dimension)}: write it with a unit, e.g. {example!r}",
            f"bare number for {_human(dimension)}: write it with a unit, e.g. {example!r}",
        )
    if not isinstance(text, str):
        raise _fail(repr(text), f"is not {_human(dimension)} ({_expected(dimension)})")
    m = _NUMBER.match(text)
    if m is None:
        raise _fail(repr(text), f"does not start with a number ({_expected(dimension)})")
    exponent = m.group(1).lower().partition("e")[2]
    if exponent and abs(int(exponent)) > 400:  # Fraction("1e99999999") would take forever
        raise _fail(repr(text), "is out of range")
    number, unit_text = Fraction(m.group(1)), m.group(2)
    if re.match(r"^:\d", unit_text):  # 1:30, sexagesimal in YAML 1.1, text in YAML 1.2
        raise _fail(repr(text), f"reads like a clock time (h:mm); write a quantity with a unit, "
                                f"e.g. '90 min' or '1.5 h' ({_expected(dimension)})")
    if not unit_text and d.si != "":
        example = f"{m.group(1)} {d.examples[0]}"
        raise UnitError(
            f"bare number {text!r} for {_human(dimension)}: write it with a unit, "
            f"e.g. {example!r}",
            f"bare number for {_human(dimension)}: write it with a unit, e.g. {example!r}",
        )
    try:
        scale, offset = _conversion(unit_text, dimension) if unit_text else (Fraction(1), 0)
    except UnitError as exc:
        raise _fail(repr(text), exc.accepted) from None
    value = number * scale + offset
    if dimension == "temperature" and value <= 0:
        raise _fail(repr(text), "is at or below absolute zero (0 K = -273.15 degC)")
    try:
        return float(value)
    except OverflowError:
        raise _fail(repr(text), "is out of range") from None


def _round_sig(x: float, digits: int) -> float:
    return float(f"{x:.{digits - 1}e}")


def _format_number(x: float, digits: int) -> str:
    if x == 0:
        return f"{0:.{digits - 1}f}"
    if not 1e-3 <= abs(x) < 1e6:
        return f"{x:.{digits - 1}e}"
    decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
    return f"{x:.{decimals}f}"


def format_quantity(
    value_si: float, dimension: str, *, unit: str | None = None, digits: int = 3
) -> str:
    """Format an SI value for people, e.g. ``format_quantity(4e6, "power") == "4.00 MW"``.

    Parameters
    ----------
    value_si
        The value in SI units (absolute kelvin for temperatures).
    dimension
        One of :data:`DIMENSIONS`.
    unit
        Display unit; by default the largest unit of the dimension's ladder (W, kW, MW, GW;
        s, min, h, d; ...) that keeps the number at or above 1. Temperatures print in degC,
        fractions in %.
    digits
        Significant figures.

    Returns
    -------
    str
        ``"<number> <unit>"``, readable back by :func:`parse_quantity` (to ``digits``).
    """
    d = _dim(dimension)
    if not math.isfinite(value_si):
        return f"{value_si} {unit or d.si}".strip()
    ladder = (unit,) if unit is not None else d.display
    convs = [(u, *(_conversion(u, dimension) if u else (Fraction(1), Fraction(0))))
             for u in ladder]
    rounded = _round_sig(value_si, digits)
    chosen = convs[0]
    for conv in convs:
        if abs(rounded - float(conv[2])) >= float(conv[1]):
            chosen = conv
    name, scale, offset = chosen
    exact = float((Fraction(value_si) - offset) / scale)
    if abs(exact) <= 4 * math.ulp(value_si) / float(scale):  # 273.15 K is 0 degC, not -2e-14
        exact = 0.0
    mantissa = _round_sig(exact, digits)
    return f"{_format_number(mantissa, digits)} {name}".strip()
