"""Pydantic field types that read quantities with units and store SI floats.

Schemas declare fields with these annotated types::

    class Furnace(StrictModel):
        type: Literal["furnace"]
        firing_rate: PositivePower          # "4 MW" -> 4e6
        wall_area: Quantity("area", gt=0)   # "250 m^2" -> 250.0
        efficiency: Fraction = 0.9          # 0.9 or "90 %"

A field validator raises ``ValueError`` with the user-facing *accepted* text (for instance
``"not an area (expected units like 'm^2')"`` or ``"must be > 0 W"``), which
:func:`twin.scenario.errors.problems_from_pydantic` reports next to the given value.

Bare numbers are rejected for dimensional fields. Code that already holds SI floats validates
with ``Model.model_validate(data, context={"si": True})``. In JSON mode, dimensional fields
serialize as ``"<repr> <SI unit>"`` (``"4000000.0 W"``), which reads back bitwise-identically,
so ``model_validate_json(model_dump_json())`` round-trips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
)

from twin.units import (
    UnitError,
    example_units,
    format_quantity,
    parse_quantity,
    si_unit,
)

__all__ = [
    "Area", "Density", "Dimensionless", "EmissionFactor", "Energy", "Fraction",
    "HeatTransferCoefficient", "Length", "Mass", "MassFlow", "PositiveArea", "PositiveEnergy",
    "PositiveLength", "PositiveMass", "PositiveMassFlow", "PositivePower", "PositiveTime",
    "PositiveVolume", "Power", "Pressure", "Quantity", "QuantitySpec", "SpecificEnergy",
    "SpecificHeat", "StrictModel", "Temperature", "TemperatureDifference",
    "ThermalConductance", "ThermalConductivity", "Time", "Velocity", "Volume", "VolumeFlow",
    "quantity_spec",
]


class StrictModel(BaseModel):
    """Base for scenario schemas: unknown keys are errors and instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _number(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 or x == 0 else f"{x:.6g}"


@dataclass(frozen=True)
class QuantitySpec:
    """What a :func:`Quantity` field accepts: its dimension and SI bounds.

    It is kept in the field's ``Annotated`` metadata; see :func:`quantity_spec`.
    """

    dimension: str
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    def bounds_text(self) -> str:
        """``"must be > 0 W"``-style description of the bounds ("" if unbounded)."""
        unit = si_unit(self.dimension)

        def show(x: float) -> str:
            text = f"{_number(x)}{' ' + unit if unit else ''}"
            if self.dimension == "temperature":
                text += f" ({format_quantity(x, 'temperature', digits=5)})"
            return text

        if self.ge is not None and self.le is not None and self.gt is None and self.lt is None:
            text = f"must be between {show(self.ge)} and {show(self.le)}"
            if self.dimension == "fraction":
                text += f" ({_number(100 * self.ge)} % to {_number(100 * self.le)} %)"
            return text
        parts = [f"{op} {show(bound)}"
                 for op, bound in ((">", self.gt), (">=", self.ge), ("<", self.lt), ("<=", self.le))
                 if bound is not None]
        return "must be " + " and ".join(parts) if parts else ""

    def in_bounds(self, x: float) -> bool:
        """Whether the SI value ``x`` satisfies every bound."""
        return not (
            (self.gt is not None and not x > self.gt)
            or (self.ge is not None and not x >= self.ge)
            or (self.lt is not None and not x < self.lt)
            or (self.le is not None and not x <= self.le)
        )

    def validate(self, value: Any, si: bool = False) -> float:
        """Parse ``value`` to SI and check the bounds; raises ``ValueError`` (accepted text)."""
        if si and isinstance(value, (int, float)) and not isinstance(value, bool):
            x = float(value)
            if not math.isfinite(x):
                raise ValueError("must be a finite number")
        else:
            try:
                x = parse_quantity(value, self.dimension)
            except UnitError as exc:
                raise ValueError(exc.accepted) from None
        if not self.in_bounds(x):
            raise ValueError(self.bounds_text())
        return x


def _bound(value: float | str | None, dimension: str) -> float | None:
    if value is None or isinstance(value, (int, float)):
        return None if value is None else float(value)
    return parse_quantity(value, dimension)


def Quantity(  # noqa: N802  (a type factory, used like a type)
    dimension: str,
    *,
    gt: float | str | None = None,
    ge: float | str | None = None,
    lt: float | str | None = None,
    le: float | str | None = None,
) -> Any:
    """An annotated float type that reads ``dimension`` with units and checks bounds in SI.

    Parameters
    ----------
    dimension
        A name from :data:`twin.units.DIMENSIONS`, e.g. ``"power"``.
    gt, ge, lt, le
        Bounds, as SI floats or as quantity text (``lt="2000 degC"``), checked after
        conversion; a violation reads ``"must be > 0 W"``.

    Returns
    -------
    typing.Annotated
        ``Annotated[float, BeforeValidator, PlainSerializer, WithJsonSchema, QuantitySpec]``.
    """
    spec = QuantitySpec(dimension, *(_bound(b, dimension) for b in (gt, ge, lt, le)))

    def _validate(value: Any, info: ValidationInfo) -> float:
        si = bool(info.context and info.context.get("si"))
        return spec.validate(value, si=si)

    unit = si_unit(dimension)
    schema: dict[str, Any] = {"x-dimension": dimension, "x-si-unit": unit}
    if not unit:
        schema["anyOf"] = [{"type": "number"}, {"type": "string", "examples": ["80 %"]}]
        return Annotated[float, BeforeValidator(_validate), WithJsonSchema(schema), spec]
    schema |= {"type": "string", "examples": [f"1 {u}" for u in example_units(dimension)]}
    serializer = PlainSerializer(lambda x: f"{x!r} {unit}", return_type=str, when_used="json")
    return Annotated[float, BeforeValidator(_validate), serializer, WithJsonSchema(schema), spec]


def quantity_spec(field: Any) -> QuantitySpec | None:
    """The :class:`QuantitySpec` of a pydantic ``FieldInfo`` or annotated type, if any."""
    metadata = getattr(field, "metadata", None)
    if metadata is None:
        metadata = getattr(field, "__metadata__", ())
    return next((m for m in metadata if isinstance(m, QuantitySpec)), None)


Temperature = Quantity("temperature")
TemperatureDifference = Quantity("temperature_difference")
Power = Quantity("power")
PositivePower = Quantity("power", gt=0)
Energy = Quantity("energy")
PositiveEnergy = Quantity("energy", gt=0)
Mass = Quantity("mass", ge=0)
PositiveMass = Quantity("mass", gt=0)
MassFlow = Quantity("mass_flow")
PositiveMassFlow = Quantity("mass_flow", gt=0)
Time = Quantity("time")
PositiveTime = Quantity("time", gt=0)
Length = Quantity("length", ge=0)
PositiveLength = Quantity("length", gt=0)
Area = Quantity("area", ge=0)
PositiveArea = Quantity("area", gt=0)
Volume = Quantity("volume", ge=0)
PositiveVolume = Quantity("volume", gt=0)
ThermalConductance = Quantity("thermal_conductance", ge=0)
HeatTransferCoefficient = Quantity("heat_transfer_coefficient", ge=0)
ThermalConductivity = Quantity("thermal_conductivity", gt=0)
SpecificHeat = Quantity("specific_heat", gt=0)
SpecificEnergy = Quantity("specific_energy")
Density = Quantity("density", gt=0)
Pressure = Quantity("pressure", gt=0)
Velocity = Quantity("velocity")
VolumeFlow = Quantity("volume_flow")
EmissionFactor = Quantity("emission_factor", ge=0)
Dimensionless = Quantity("dimensionless")
Fraction = Quantity("fraction", ge=0, le=1)
