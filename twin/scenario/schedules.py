"""Schedules in scenario files: named and inline schedules, and fields that may follow one.

A field that may vary in time (a *scheduled* field: firing fraction, production rate, pump
flow fraction, ambient temperature, heat demand, ...) accepts

* a constant: ``0.8``, ``"80 %"``, ``"15 degC"``, ``"300 kW"`` (units as the field needs);
* the name of a schedule defined under ``schedules:``, e.g. ``production``;
* an inline schedule ``{kind, period, times, values}``;
* ``{nominal: 300 kW, schedule: shifts}``: a nominal quantity times a dimensionless
  schedule (a name or an inline schedule).

A schedule has ``times`` (strictly increasing, starting at 0, inside ``period`` when it
repeats), ``values`` of the same length, ``kind`` ``step`` (held until the next time; the
default) or ``linear`` (interpolated; a periodic one wraps to the first value), and an
optional ``period`` (without it the last value is held to the end of the run). Named
schedules are checked where they are used: their values must fit the using field.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    ValidationInfo,
    create_model,
    field_validator,
)

from twin.scenario.fields import (
    PositiveTime,
    Quantity,
    QuantitySpec,
    StrictModel,
    quantity_spec,
)
from twin.units import si_unit

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMERIC = re.compile(r"^\s*[+-]?(?:\d|\.\d)")
_YAML11_BOOLEANS = {"y", "yes", "n", "no", "on", "off", "true", "false"}

# ---------------------------------------------------------------------- schedules
@dataclass(frozen=True)
class ScheduleSpec:
    """A validated schedule in SI units, ready for :class:`twin.core.schedule.Schedule`.

    Attributes
    ----------
    times
        Breakpoints, strictly increasing from 0. [s]
    values
        Value from each breakpoint on. [SI unit of the field]
    period
        Repeat period, or None for a one-off profile holding its last value. [s]
    kind
        ``"step"`` or ``"linear"``.
    name
        The named schedule it came from (None for constants and inline schedules).
    """

    times: tuple[float, ...]
    values: tuple[float, ...]
    period: float | None = None
    kind: str = "step"
    name: str | None = dataclasses.field(default=None, compare=False)

    @classmethod
    def constant(cls, value: float) -> ScheduleSpec:
        """A schedule that is ``value`` at all times."""
        return cls((0.0,), (float(value),))

    @property
    def is_constant(self) -> bool:
        """True when the schedule has a single value."""
        return len(self.values) == 1

    def as_dict(self) -> dict[str, Any]:
        """Plain data in SI units (for JSON and provenance)."""
        return {"kind": self.kind, "period": self.period, "times": list(self.times),
                "values": list(self.values), "name": self.name}


def _time_check(times: list[float], period: float | None) -> list[float]:
    if times[0] != 0.0:
        raise ValueError("the first time must be 0: a schedule must cover the run from its "
                         "start (times are offsets from the start of the run or of each period)")
    for k in range(1, len(times)):
        if not times[k] > times[k - 1]:
            raise ValueError(f"times must increase strictly (item {k} is not after item {k - 1})")
    if period is not None and times[-1] >= period:
        raise ValueError(f"times must lie within one period (< {period:g} s)")
    return times


def _raw_value(value: Any) -> float | str:
    """A schedule value before its dimension is known: a finite number or quantity text."""
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a number, or a quantity with a unit like '15 degC'")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return float(value)
    if isinstance(value, str) and _NUMERIC.match(value):
        return value
    raise ValueError("must be a number, or a quantity with a unit like '15 degC'")


class _ScheduleBase(StrictModel):
    """Fields and checks shared by named and inline schedules."""

    kind: Literal["step", "linear"] = "step"
    period: Optional[PositiveTime] = None
    times: Annotated[list[Quantity("time", ge=0)], Field(min_length=1)]

    @field_validator("times")
    @classmethod
    def _times(cls, times: list[float], info: ValidationInfo) -> list[float]:
        return _time_check(times, info.data.get("period"))

    @field_validator("values", check_fields=False)
    @classmethod
    def _values(cls, values: list, info: ValidationInfo) -> list:
        times = info.data.get("times")
        if times is not None and len(values) != len(times):
            raise ValueError(f"must have one value per time ({len(times)} times, "
                             f"{len(values)} values)")
        return values


class NamedSchedule(_ScheduleBase):
    """An entry of the ``schedules:`` section.

    Attributes
    ----------
    kind
        ``step`` (default: each value holds until the next time) or ``linear``.
    period
        Repeat period, e.g. ``24 h`` or ``168 h``; omit for a one-off profile. [s]
    times
        Breakpoints with units (``[0 h, 6 h, 22 h]``), from 0, strictly increasing. [s]
    values
        One per time: plain numbers for fractions, or quantities with units (``15 degC``)
        when the schedule feeds a dimensional field.
    description
        Free text.
    """

    values: Annotated[list[Annotated[Union[float, str], BeforeValidator(_raw_value)]],
                      Field(min_length=1)]
    description: str = ""


def _values_at(name: str, raw: NamedSchedule, spec: QuantitySpec) -> tuple[float, ...]:
    out = []
    for k, v in enumerate(raw.values):
        try:
            out.append(spec.validate(v))
        except ValueError as exc:
            raise ValueError(f"schedule {name!r} value {k} ({v!r}): {exc}") from None
    return tuple(out)


def _spec_of(quantity: Any) -> QuantitySpec:
    spec = quantity_spec(quantity)
    assert spec is not None
    return spec


@functools.lru_cache(maxsize=None)
def _inline_model(spec: QuantitySpec):
    q = Quantity(spec.dimension, gt=spec.gt, ge=spec.ge, lt=spec.lt, le=spec.le)
    return create_model(
        "InlineSchedule",
        __base__=_ScheduleBase,
        __doc__="A schedule written in place: {kind, period, times, values}.",
        values=(Annotated[list[q], Field(min_length=1)], ...),
    )


def _reference(spec: QuantitySpec):
    def resolve(name: str, info: ValidationInfo) -> ScheduleSpec:
        schedules = (info.context or {}).get("schedules")
        if schedules is None or name not in schedules:
            defined = sorted(schedules or ())
            close = difflib.get_close_matches(name, defined, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            listed = f"defined schedules: {', '.join(defined)}" if defined else \
                "no schedules are defined (add a 'schedules:' section)"
            if name.lower() in _YAML11_BOOLEANS:  # 'off' meant as 0, as YAML 1.1 would read it
                listed += f"; {name!r} is text in YAML 1.2, not a boolean: write 0 or 1"
            raise ValueError(f"unknown schedule; {hint}{listed}")
        raw = schedules[name]
        if raw is None:  # the schedule itself is invalid: reported at its own definition
            return ScheduleSpec.constant(math.nan)
        return ScheduleSpec(tuple(raw.times), _values_at(name, raw, spec), raw.period, raw.kind,
                            name)

    return resolve


def _pick(allow_scaled: bool):
    def pick(value: Any) -> str:
        if isinstance(value, dict):
            return "ScaledSchedule" if allow_scaled and "nominal" in value else "InlineSchedule"
        if isinstance(value, str) and _IDENT.match(value):
            return "ScheduleName"
        return "constant"

    return pick


def _from_inline(value: Any) -> ScheduleSpec:
    return ScheduleSpec(tuple(value.times), tuple(value.values), value.period, value.kind)


def _scheduled(spec: QuantitySpec, allow_scaled: bool):
    q = Quantity(spec.dimension, gt=spec.gt, ge=spec.ge, lt=spec.lt, le=spec.le)
    members: list[Any] = [
        Annotated[Annotated[q, AfterValidator(ScheduleSpec.constant)], Tag("constant")],
        Annotated[Annotated[str, AfterValidator(_reference(spec))], Tag("ScheduleName")],
        Annotated[Annotated[_inline_model(spec), AfterValidator(_from_inline)],
                  Tag("InlineSchedule")],
    ]
    if allow_scaled:
        multiplier = _scheduled(QuantitySpec("dimensionless", ge=0.0), allow_scaled=False)
        scaled = create_model(
            "ScaledSchedule",
            __base__=StrictModel,
            __doc__="A nominal quantity times a dimensionless schedule.",
            nominal=(q, ...),
            schedule=(multiplier, ...),
        )

        def times_nominal(v: Any) -> ScheduleSpec:
            s = v.schedule
            return ScheduleSpec(s.times, tuple(v.nominal * x for x in s.values), s.period,
                                s.kind, s.name)

        members.append(Annotated[Annotated[scaled, AfterValidator(times_nominal)],
                                 Tag("ScaledSchedule")])
    return Annotated[
        Union[tuple(members)],
        Discriminator(_pick(allow_scaled)),
        PlainSerializer(_dumper(spec.dimension), when_used="json"),
    ]


def _dumper(dimension: str):
    """JSON form of a :class:`ScheduleSpec` that validates back to an equal one."""
    unit = si_unit(dimension)

    def value(x: float) -> float | str:
        return f"{x!r} {unit}" if unit else x

    def dump(s: Any) -> Any:
        if not isinstance(s, ScheduleSpec):
            return s
        if s.is_constant and s.period is None:
            return value(s.values[0])
        out: dict[str, Any] = {"kind": s.kind}
        if s.period is not None:
            out["period"] = f"{s.period!r} s"
        out["times"] = [f"{t!r} s" for t in s.times]
        out["values"] = [value(v) for v in s.values]
        return out

    return dump


def Scheduled(  # noqa: N802  (a type factory, used like a type)
    dimension: str,
    *,
    gt: float | str | None = None,
    ge: float | str | None = None,
    lt: float | str | None = None,
    le: float | str | None = None,
) -> Any:
    """A field that is constant or follows a schedule; validates to a :class:`ScheduleSpec`.

    Parameters
    ----------
    dimension
        Dimension of the values (:data:`twin.units.DIMENSIONS`), e.g. ``"fraction"``.
    gt, ge, lt, le
        Bounds on every value, in SI or as quantity text.

    Returns
    -------
    typing.Annotated
        A tagged union: constant, schedule name, inline schedule, ``{nominal, schedule}``.
    """
    return _scheduled(_spec_of(Quantity(dimension, gt=gt, ge=ge, lt=lt, le=le)), True)


FractionSchedule = Scheduled("fraction")
"""A fraction in [0, 1] over time (firing)."""
Multiplier = Scheduled("dimensionless", ge=0)
"""A non-negative multiplier of a nominal value over time (production, flow fraction)."""


