"""The scenario file schema: pydantic models that read a plant description with units.

A scenario file is YAML. Quantities carry units (``"4 MW"``, ``"450 degC"``, ``"30 t"``) and
are stored as SI floats; dimensionless numbers are plain numbers (``0.7``) or percentages
(``"70 %"``). Every model forbids unknown keys. Validate the plain data of a file with
:meth:`ScenarioModel.model_validate`, which also resolves schedule names (see below); build
a plant from it with :func:`twin.scenario.build.load_scenario`.

Top level (``ScenarioModel``)::

    schema_version: 1                  # optional; only 1 is understood
    name: glass-furnace-mould-preheat
    description: ...                   # optional text
    duration: 72 h
    output_interval: 5 min             # default 1 min
    ambient: {temperature: 15 degC}    # default 15 degC; also a schedule (name or inline)
    solver: {method: tsit5, rtol: 1.0e-6, atol: 1.0e-6, max_steps: 200000}
    schedules:
      production: {kind: step, period: 24 h, times: [0 h, 6 h, 22 h], values: [1.0, 1.0, 0.5]}
    components:
      furnace: {type: furnace, ...}    # one entry per component, keyed by its name
    connections:
      - [furnace.exhaust, recuperator.hot_in]   # [component.outlet, component.inlet]
    economics: {product_value: 0.9 EUR/kg, grid_emission_factor: 0.35 kg/kWh}   # optional
    checks:
      - {kpi: energy_closure, max: 1.0e-6}

Schedules. A field that may vary in time (a *scheduled* field: firing fraction, production
rate, pump flow fraction, ambient temperature, heat demand, ...) accepts

* a constant: ``0.8``, ``"80 %"``, ``"15 degC"``, ``"300 kW"`` (units as the field needs);
* the name of a schedule defined under ``schedules:``, e.g. ``production``;
* an inline schedule ``{kind, period, times, values}``;
* ``{nominal: 300 kW, schedule: shifts}``: a nominal quantity times a dimensionless
  schedule (a name or an inline schedule).

A schedule has ``times`` (strictly increasing, starting at 0, inside ``period`` when it
repeats), ``values`` of the same length, ``kind`` ``step`` (held until the next time; the
default) or ``linear`` (interpolated; a periodic one wraps to the first value), and an
optional ``period`` (without it the last value is held to the end of the run). Named
schedules are checked where they are used: their values must fit the using field (plain
fractions for a firing fraction, temperatures with units for the ambient).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
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
    model_validator,
)
from pydantic_core import PydanticCustomError

from twin.scenario.fields import (
    Fraction,
    PositiveArea,
    PositiveLength,
    PositiveMass,
    PositivePower,
    PositiveTime,
    Quantity,
    QuantitySpec,
    StrictModel,
    Temperature,
    quantity_spec,
)
from twin.units import si_unit

__all__ = [
    "COMPONENT_TYPES",
    "CheckModel",
    "ComponentModel",
    "CounterflowExchangerModel",
    "EconomicsModel",
    "FurnaceModel",
    "HeatDemandModel",
    "MouldPreheaterModel",
    "NamedSchedule",
    "PCMBankModel",
    "PumpModel",
    "SCHEMA_VERSION",
    "ScenarioModel",
    "ScheduleSpec",
    "Scheduled",
    "SolverModel",
    "SourceModel",
    "StackModel",
    "fluid_names",
    "fuel_names",
    "is_port_ref",
    "material_names",
    "named_schedules",
]

SCHEMA_VERSION = 1
"""The scenario schema version this package reads."""

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMERIC = re.compile(r"^\s*[+-]?(?:\d|\.\d)")


# ---------------------------------------------------------------------- choice lists
def fuel_names() -> list[str]:
    """Accepted ``fuel:`` values: :data:`twin.thermo.combustion.FUELS` and ``electric``."""
    from twin.thermo.combustion import FUELS

    return [*FUELS, "electric"]


def fluid_names(gases: bool = True) -> list[str]:
    """Accepted fluid names: ``flue_gas`` and ``air`` (if ``gases``) and every liquid."""
    from twin.thermo.fluids import LIQUIDS

    return (["flue_gas", "air"] if gases else []) + sorted(LIQUIDS)


def material_names() -> list[str]:
    """Material cards shipped with twin (:func:`twin.thermo.pcm.available_materials`)."""
    from twin.thermo.pcm import available_materials

    return available_materials()


def _choice_error(given: Any, choices: list[str], what: str) -> ValueError:
    close = difflib.get_close_matches(str(given), choices, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return ValueError(f"unknown {what}; {hint}accepted: {', '.join(choices)}")


def _check_fuel(value: str) -> str:
    if value not in fuel_names():
        raise _choice_error(value, fuel_names(), "fuel")
    return value


def _fluid_checker(gases: bool, what: str):
    def check(value: str) -> str:
        names = fluid_names(gases)
        if value not in names:
            if not gases and value in fluid_names(True):
                raise ValueError(f"{what} must be a liquid; accepted: {', '.join(names)}")
            raise _choice_error(value, names, "fluid")
        return value

    return check


def _check_material(value: str, info: ValidationInfo) -> str:
    """A material card name (case-insensitive) or a path to a ``.yaml`` card."""
    if value.lower().endswith((".yaml", ".yml")):
        base = Path((info.context or {}).get("base_dir", "."))
        path = Path(value) if Path(value).is_absolute() else base / value
        if not path.is_file():
            raise ValueError(f"material card file not found ({path}); or use a card name: "
                             f"{', '.join(material_names())}")
        return str(path)
    cards = {n.lower(): n for n in material_names()}
    if value.lower() not in cards:
        raise _choice_error(value, material_names(), "material")
    return cards[value.lower()]


Fuel = Annotated[str, AfterValidator(_check_fuel)]
"""A fuel name (``natural_gas``, ``hydrogen``, ``methane``) or ``electric``."""
AnyFluid = Annotated[str, AfterValidator(_fluid_checker(True, "fluid"))]
"""``flue_gas``, ``air`` or a liquid such as ``therminol66`` or ``water``."""
LiquidName = Annotated[str, AfterValidator(_fluid_checker(False, "this fluid"))]
"""A liquid such as ``therminol66`` or ``water``."""
Material = Annotated[str, AfterValidator(_check_material)]
"""A material card name (``NaNO3``, ``RT44HC``, ``soda_lime_glass``, ...) or a card path."""


def _count(ge: int = 1):
    return Annotated[int, Field(ge=ge, strict=True)]


Count = _count(1)
"""A whole number >= 1 (cells, nodes)."""


def _per_kelvin(value: Any) -> float:
    """A gain in 1/K: a plain number, or text such as ``"0.02 1/K"`` or ``"2 %/K"``."""
    accepted = "expected a number in 1/K like 0.02, or '0.02 1/K' or '2 %/K'"
    if isinstance(value, bool) or value is None:
        raise ValueError(accepted)
    if isinstance(value, (int, float)):
        x = float(value)
    elif isinstance(value, str):
        m = re.match(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$", value)
        if m is None:
            raise ValueError(accepted)
        x = float(m.group(1))
        if m.group(2):
            from twin.units import get_registry

            ureg = get_registry()
            try:
                unit = ureg.parse_units(m.group(2))
            except Exception:
                raise ValueError(f"cannot read unit {m.group(2)!r} ({accepted})") from None
            if unit.dimensionality != ureg.parse_units("1/K").dimensionality:
                raise ValueError(f"is not per kelvin ({accepted})")
            x = float(ureg.Quantity(x, unit).to("1/K").magnitude)
    else:
        raise ValueError(accepted)
    if not math.isfinite(x):
        raise ValueError("must be a finite number")
    if x <= 0:
        raise ValueError("must be > 0 1/K")
    return x


PerKelvin = Annotated[float, BeforeValidator(_per_kelvin)]
"""A positive gain per kelvin [1/K]: ``0.02``, ``"0.02 1/K"`` or ``"2 %/K"``."""


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
        raise ValueError("the first time must be 0 (times are offsets from the start of the "
                         "run or of each period)")
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


# ---------------------------------------------------------------------- components
class _Component(StrictModel):
    description: str = Field("", description="Free text (tag number, notes).")


class PIControl(StrictModel):
    """PI control of the load temperature by the firing rate.

    Attributes
    ----------
    mode
        ``pi`` (the only mode; omit the ``control`` block for schedule-driven firing).
    set_point
        Load temperature set point (constant or scheduled). [K]
    kp
        Proportional gain: fraction of nominal firing per kelvin of error. [1/K]
    integral_time
        Integral (reset) time. [s]
    firing_min
        Lowest firing fraction (burner turndown). [-]
    """

    mode: Literal["pi"] = "pi"
    set_point: Scheduled("temperature")
    kp: PerKelvin
    integral_time: PositiveTime
    firing_min: Fraction = 0.2


class FurnaceLoad(StrictModel):
    """The charge (load) of a furnace.

    Attributes
    ----------
    material
        Charge material card (``soda_lime_glass``) with its h(T). [-]
    area
        Load surface seen by the flame and crown. [m^2]
    inventory
        Charge mass in the furnace at the start. [kg]
    initial_temperature
        Charge temperature at the start. [K]
    charge_rate
        Charging (and pulling) mass flow at schedule value 1, e.g. ``40 t/d``. [kg/s]
    production
        Charging multiplier over time (constant or schedule). [-]
    pull
        Pulling multiplier over time; defaults to ``production``. [-]
    """

    material: Material
    area: PositiveArea
    inventory: PositiveMass
    initial_temperature: Temperature
    charge_rate: Quantity("mass_flow", ge=0)
    production: Multiplier = Field(default_factory=lambda: ScheduleSpec.constant(1.0))
    pull: Optional[Multiplier] = None


class WallLayer(StrictModel):
    """One refractory layer, inner layers first.

    Attributes
    ----------
    name
        Free text (``fused-cast AZS``).
    thickness
        [m]
    conductivity
        [W/(m K)]
    density
        [kg/m^3]
    specific_heat
        [J/(kg K)]
    """

    name: str = ""
    thickness: PositiveLength
    conductivity: Quantity("thermal_conductivity", gt=0)
    density: Quantity("density", gt=0)
    specific_heat: Quantity("specific_heat", gt=0)


class FurnaceWall(StrictModel):
    """The multi-layer refractory wall of a furnace.

    Attributes
    ----------
    area
        Inner refractory area. [m^2]
    h_outer
        Outer-surface coefficient to ambient (convection + radiation). [W/(m^2 K)]
    initial_inner_temperature
        Inner surface temperature at the start (steady profile assumed). [K]
    nodes_per_layer
        Control volumes per layer. [-]
    layers
        The layers, inner first.
    """

    area: PositiveArea
    h_outer: Quantity("heat_transfer_coefficient", gt=0)
    initial_inner_temperature: Temperature
    nodes_per_layer: Count = 3
    layers: Annotated[list[WallLayer], Field(min_length=1)]


class FurnaceHeatTransfer(StrictModel):
    """Zone exchange coefficients of a furnace.

    Attributes
    ----------
    eps_gas_load, eps_gas_wall, eps_wall_load
        Effective exchange emissivities gas-load, gas-wall and wall-load, in [0, 1]. [-]
    h_conv
        Convective coefficient gas -> surfaces. [W/(m^2 K)]
    """

    eps_gas_load: Fraction = 0.35
    eps_gas_wall: Fraction = 0.35
    eps_wall_load: Fraction = 0.7
    h_conv: Quantity("heat_transfer_coefficient", ge=0) = 10.0


class FurnaceModel(_Component):
    """``type: furnace``: fuel-fired or electric furnace (:class:`twin.components.furnace.Furnace`).

    Attributes
    ----------
    fuel
        ``natural_gas``, ``hydrogen``, ``methane`` or ``electric``.
    firing_rate
        Nominal (maximum) firing rate: fuel LHV power, or electric power. [W]
    firing
        Firing fraction of nominal over time (without ``control``), or the PI controller's
        initial output. [-]
    control
        Optional PI control of the load temperature (:class:`PIControl`).
    excess_air
        Excess air, lambda - 1 (``0.1`` or ``"10 %"``). [-]
    gas_dynamics
        ``quasi_steady`` (default, non-stiff) or ``dynamic`` (needs an implicit solver).
    gas_holdup
        Gas mass in the combustion space (``dynamic`` only). [kg]
    load, wall, heat_transfer
        See :class:`FurnaceLoad`, :class:`FurnaceWall`, :class:`FurnaceHeatTransfer`.
    """

    type: Literal["furnace"]
    fuel: Fuel
    firing_rate: PositivePower
    firing: FractionSchedule = Field(default_factory=lambda: ScheduleSpec.constant(1.0))
    control: Optional[PIControl] = None
    excess_air: Quantity("dimensionless", ge=0) = 0.1
    gas_dynamics: Literal["quasi_steady", "dynamic"] = "quasi_steady"
    gas_holdup: PositiveMass = 10.0
    load: FurnaceLoad
    wall: FurnaceWall
    heat_transfer: FurnaceHeatTransfer = FurnaceHeatTransfer()


def _holdup_needed(side: str):
    def check(value: float | None, info: ValidationInfo) -> float | None:
        if value is None and info.data.get(f"{side}_dynamics") == "dynamic":
            # reported as a missing field at its own path ("required field missing")
            raise PydanticCustomError("missing", f"required when {side}_dynamics is 'dynamic'")
        return value

    return check


class CounterflowExchangerModel(_Component):
    """``type: counterflow_exchanger`` (:class:`twin.components.exchanger.CounterflowExchanger`).

    Attributes
    ----------
    cells
        Finite-volume cells per side. [-]
    UA
        Overall conductance between the fluids. [W/K]
    hA_ratio
        Hot-side over cold-side film conductance. [-]
    wall_heat_capacity
        Heat capacity of the wall (tubes, shell). [J/K]
    hot_fluid, cold_fluid
        Fluid names (``flue_gas``, ``air``, ``therminol66``, ``water``).
    hot_dynamics, cold_dynamics
        ``quasi_steady`` (no hold-up; gas sides) or ``dynamic`` (hold-up per cell).
    hot_holdup, cold_holdup
        Fluid mass on each side; required for a ``dynamic`` side. [kg]
    initial_temperature
        Initial temperature of wall and hold-ups. [K]
    """

    type: Literal["counterflow_exchanger"]
    cells: Count = 20
    UA: Quantity("thermal_conductance", gt=0)
    hA_ratio: Quantity("dimensionless", gt=0) = 1.0
    wall_heat_capacity: Quantity("heat_capacity", gt=0)
    hot_fluid: AnyFluid = "flue_gas"
    cold_fluid: AnyFluid
    hot_dynamics: Literal["quasi_steady", "dynamic"] = "quasi_steady"
    cold_dynamics: Literal["quasi_steady", "dynamic"] = "dynamic"
    hot_holdup: Annotated[Optional[PositiveMass], AfterValidator(_holdup_needed("hot"))] = \
        Field(None, validate_default=True)
    cold_holdup: Annotated[Optional[PositiveMass], AfterValidator(_holdup_needed("cold"))] = \
        Field(None, validate_default=True)
    initial_temperature: Temperature


class PCMBankModel(_Component):
    """``type: pcm_bank``: latent-heat storage (:class:`twin.components.pcm_bank.PCMBank`).

    Attributes
    ----------
    material
        PCM card (``NaNO3``, ``RT44HC``, ``RT35HC``) or a card path. [-]
    mass
        PCM mass. [kg]
    thickness
        PCM layer thickness from the channel wall to the adiabatic mid-plane. [m]
    h_conv
        Film coefficient fluid -> PCM surface (incl. container wall). [W/(m^2 K)]
    fluid
        Heat-transfer liquid.
    fluid_dynamics
        ``dynamic`` (a fluid hold-up per channel cell) or ``quasi_steady`` (no hold-up). [-]
    fluid_holdup
        Heat-transfer fluid mass in the bank; required when dynamic. [kg]
    UA_loss
        Shell conductance to ambient. [W/K]
    channels
        Cells along the flow. [-]
    nodes
        Nodes through the PCM thickness. [-]
    initial_temperature
        Initial temperature of PCM and fluid. [K]
    """

    type: Literal["pcm_bank"]
    material: Material
    mass: PositiveMass
    thickness: PositiveLength
    h_conv: Quantity("heat_transfer_coefficient", gt=0)
    fluid: LiquidName
    fluid_dynamics: Literal["quasi_steady", "dynamic"] = "dynamic"
    fluid_holdup: Annotated[Optional[PositiveMass], AfterValidator(_holdup_needed("fluid"))] = \
        Field(None, validate_default=True)
    UA_loss: Quantity("thermal_conductance", ge=0) = 0.0
    channels: Count = 10
    nodes: Count = 4
    initial_temperature: Temperature


class PumpModel(_Component):
    """``type: pump``: flow-controlled pump (:class:`twin.components.pump.Pump`).

    Attributes
    ----------
    fluid
        Pumped liquid.
    mass_flow
        Nominal mass flow. [kg/s]
    schedule
        Fraction of nominal flow over time. [-]
    pressure_rise
        Pressure rise. [Pa]
    efficiency
        Total (hydraulic x motor) efficiency, in (0, 1]. [-]
    """

    type: Literal["pump"]
    fluid: LiquidName
    mass_flow: Quantity("mass_flow", gt=0)
    schedule: Multiplier = Field(default_factory=lambda: ScheduleSpec.constant(1.0))
    pressure_rise: Quantity("pressure", ge=0)
    efficiency: Quantity("fraction", gt=0, le=1) = 0.7


class MouldPreheaterModel(_Component):
    """``type: mould_preheater`` (:class:`twin.components.consumer.MouldPreheater`).

    Attributes
    ----------
    fluid
        Loop liquid.
    UA
        Heating-coil conductance. [W/K]
    mould_mass
        Mould mass held in the oven. [kg]
    mould_specific_heat
        Specific heat of the mould metal (cast iron/steel about 460 J/(kg K)). [J/(kg K)]
    mould_rate
        Mould throughput at schedule value 1. [kg/s]
    schedule
        Throughput multiplier over time (shifts). [-]
    UA_loss
        Oven envelope conductance to ambient. [W/K]
    target_temperature
        Preheat target before casting. [K]
    initial_temperature
        Initial mould (and coil fluid) temperature. [K]
    fluid_dynamics
        ``quasi_steady`` coil (no hold-up) or ``dynamic`` (one well-mixed hold-up). [-]
    fluid_holdup
        Fluid in the coil and its pipework; required when dynamic. [kg]
    """

    type: Literal["mould_preheater"]
    fluid: LiquidName
    UA: Quantity("thermal_conductance", gt=0)
    mould_mass: PositiveMass
    mould_specific_heat: Quantity("specific_heat", gt=0) = 460.0
    mould_rate: Quantity("mass_flow", ge=0)
    schedule: Multiplier = Field(default_factory=lambda: ScheduleSpec.constant(1.0))
    UA_loss: Quantity("thermal_conductance", ge=0) = 0.0
    target_temperature: Temperature
    initial_temperature: Temperature
    fluid_dynamics: Literal["quasi_steady", "dynamic"] = "quasi_steady"
    fluid_holdup: Annotated[Optional[PositiveMass], AfterValidator(_holdup_needed("fluid"))] = \
        Field(None, validate_default=True)


class HeatDemandModel(_Component):
    """``type: heat_demand``: a scheduled heat sink (:class:`twin.components.consumer.HeatDemand`).

    Attributes
    ----------
    fluid
        Loop liquid.
    demand
        Heat demand (constant, a schedule of powers, or ``{nominal, schedule}``). [W]
    fluid_holdup
        Fluid mass of the consumer cell. [kg]
    min_temperature
        Temperature below which no heat is drawn. [K]
    fade_width
        Width over which the draw fades out above ``min_temperature``. [K]
    initial_temperature
        Initial cell temperature. [K]
    """

    type: Literal["heat_demand"]
    fluid: LiquidName
    demand: Scheduled("power", ge=0)
    fluid_holdup: PositiveMass
    min_temperature: Temperature
    fade_width: Quantity("temperature_difference", gt=0) = 5.0
    initial_temperature: Temperature


class SourceModel(_Component):
    """``type: source``: a prescribed inflow (:class:`twin.components.boundaries.Source`).

    Attributes
    ----------
    fluid
        A liquid or ``air``.
    mass_flow
        Mass flow (constant or scheduled). [kg/s]
    temperature
        Supply temperature (constant or scheduled). [K]
    """

    type: Literal["source"]
    fluid: AnyFluid
    mass_flow: Scheduled("mass_flow", ge=0)
    temperature: Scheduled("temperature")

    @field_validator("fluid")
    @classmethod
    def _not_flue_gas(cls, value: str) -> str:
        if value == "flue_gas":
            accepted = ", ".join(n for n in fluid_names() if n != "flue_gas")
            raise ValueError("a source supplies a liquid or air (flue gas has no fixed "
                             f"composition); accepted: {accepted}")
        return value


class StackModel(_Component):
    """``type: stack``: where a stream leaves the plant (:class:`twin.components.boundaries.Stack`).

    Attributes
    ----------
    fluid
        The fluid discharged; by default the fluid of the outlet connected to it.
    """

    type: Literal["stack"]
    fluid: Optional[AnyFluid] = None


COMPONENT_MODELS = (FurnaceModel, CounterflowExchangerModel, PCMBankModel, PumpModel,
                    MouldPreheaterModel, HeatDemandModel, SourceModel, StackModel)
COMPONENT_TYPES: dict[str, type] = {
    m.model_fields["type"].annotation.__args__[0]: m for m in COMPONENT_MODELS
}
"""``type:`` value -> component model."""

ComponentModel = Annotated[Union[COMPONENT_MODELS], Field(discriminator="type")]


# ---------------------------------------------------------------------- top level
class AmbientModel(StrictModel):
    """The surroundings, also the dead state of the exergy audit.

    Attributes
    ----------
    temperature
        Ambient temperature (constant or scheduled). [K]
    """

    temperature: Scheduled("temperature") = Field(
        default_factory=lambda: ScheduleSpec.constant(288.15))


class SolverModel(StrictModel):
    """Numerical settings (:class:`twin.core.solve.SolverConfig`).

    Attributes
    ----------
    method
        ``tsit5`` (default), ``dopri5``, ``dopri8``, ``bosh3``, ``kvaerno3``, ``kvaerno5``.
    rtol, atol
        Relative and absolute tolerances. [-], [state units]
    max_steps
        Upper bound on solver steps.
    pcoeff, icoeff
        PI step-size controller coefficients.
    dtmax
        Largest step, or omitted for none. [s]
    """

    method: Literal["tsit5", "dopri5", "dopri8", "bosh3", "kvaerno3", "kvaerno5"] = "tsit5"
    rtol: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = 1e-6
    atol: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1e-6
    max_steps: _count(1) = 200_000
    pcoeff: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.4
    icoeff: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.3
    dtmax: Optional[PositiveTime] = None


def _money_per_mass(value: Any) -> float:
    """``0.9`` or ``"0.9 EUR/kg"`` / ``"900 EUR/t"`` -> currency per kg."""
    accepted = "expected a value per kg of product like 0.9 or '0.9 EUR/kg' or '900 EUR/t'"
    if isinstance(value, bool) or value is None:
        raise ValueError(accepted)
    if isinstance(value, (int, float)):
        x = float(value)
    elif isinstance(value, str):
        m = re.match(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*"
                     r"(?:[A-Z]{3}\s*/\s*(kg|t))?\s*$", value)
        if m is None:
            raise ValueError(accepted)
        x = float(m.group(1)) / (1000.0 if m.group(2) == "t" else 1.0)
    else:
        raise ValueError(accepted)
    if not math.isfinite(x) or x < 0:
        raise ValueError("must be a finite number >= 0")
    return x


class EconomicsModel(StrictModel):
    """Economic data for the carbon-intensity KPI.

    Attributes
    ----------
    currency
        Three-letter currency code (``EUR``).
    product_value
        Value of the product, per kg (``0.9 EUR/kg`` or ``900 EUR/t``). [currency/kg]
    grid_emission_factor
        CO2 per electric energy drawn (constant or scheduled, e.g. ``0.35 kg/kWh``). [kg/J]
    """

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    product_value: Annotated[float, BeforeValidator(_money_per_mass)] = 0.0
    grid_emission_factor: Scheduled("emission_factor", ge=0) = Field(
        default_factory=lambda: ScheduleSpec.constant(0.0))


class CheckModel(StrictModel):
    """A condition the run must satisfy, e.g. ``{kpi: energy_closure, max: 1.0e-6}``.

    Attributes
    ----------
    kpi
        KPI name.
    min, max
        Bounds on its value (in the KPI's SI unit); at least one.
    description
        Free text.
    """

    kpi: Annotated[str, Field(min_length=1)]
    min: Optional[Annotated[float, Field(allow_inf_nan=False)]] = None
    max: Optional[Annotated[float, Field(allow_inf_nan=False)]] = None
    description: str = ""

    @model_validator(mode="after")
    def _bounds(self) -> CheckModel:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        return self


def _check_name(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError("names are letters, digits and '_' and start with a letter or '_' "
                         "(no dots or spaces: ports are written 'component.port')")
    return name


Name = Annotated[str, AfterValidator(_check_name)]


def is_port_ref(text: str) -> bool:
    """Whether ``text`` reads ``component.port`` (two identifiers joined by one dot)."""
    name, dot, port = text.partition(".")
    return bool(dot and _IDENT.match(name) and _IDENT.match(port))


def _check_port(text: str) -> str:
    if not is_port_ref(text):
        raise ValueError("expected 'component.port', e.g. 'furnace.exhaust'")
    return text


PortRef = Annotated[str, AfterValidator(_check_port)]


def _check_version(value: int) -> int:
    if value != SCHEMA_VERSION:
        raise ValueError(f"this version of twin reads schema_version {SCHEMA_VERSION} only "
                         f"(a file for schema {value} needs the twin release that defines it)")
    return value


class ScenarioModel(StrictModel):
    """A whole scenario file (see the module docstring for the layout).

    Attributes
    ----------
    schema_version
        Must be 1 (optional).
    name
        Scenario name.
    description
        Free text.
    duration
        Simulated time. [s]
    output_interval
        Spacing of saved outputs; at most ``duration``. [s]
    ambient
        :class:`AmbientModel`.
    solver
        :class:`SolverModel`.
    schedules
        Named schedules (:class:`NamedSchedule`), referenced by name from scheduled fields.
    components
        Components by name; the ``type`` key selects the model (:data:`COMPONENT_TYPES`).
    connections
        ``[component.outlet, component.inlet]`` pairs.
    economics
        :class:`EconomicsModel` (optional).
    checks
        :class:`CheckModel` list.

    Notes
    -----
    :meth:`model_validate` puts the file's valid named schedules into the validation context
    (``context["schedules"]``), so that scheduled fields can resolve names. Pass
    ``context={"base_dir": ...}`` to resolve material card paths relative to the file.
    """

    schema_version: Annotated[int, Field(strict=True), AfterValidator(_check_version)] = \
        SCHEMA_VERSION
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    duration: PositiveTime
    output_interval: PositiveTime = 60.0
    ambient: AmbientModel = Field(default_factory=AmbientModel)
    solver: SolverModel = SolverModel()
    schedules: dict[Name, NamedSchedule] = {}
    components: Annotated[dict[Name, ComponentModel], Field(min_length=1)]
    connections: list[tuple[PortRef, PortRef]] = []
    economics: Optional[EconomicsModel] = None
    checks: list[CheckModel] = []

    @field_validator("output_interval")
    @classmethod
    def _interval(cls, value: float, info: ValidationInfo) -> float:
        duration = info.data.get("duration")
        if duration is not None and value > duration:
            raise ValueError(f"must not exceed the duration ({duration:g} s)")
        return value

    @classmethod
    def model_validate(cls, obj: Any, *, context: dict | None = None, **kwargs: Any):
        """Validate plain scenario data; named schedules are resolved through the context."""
        ctx = dict(context or {})
        if "schedules" not in ctx:
            ctx["schedules"] = named_schedules(obj)
        return super().model_validate(obj, context=ctx, **kwargs)


def named_schedules(data: Any) -> dict[str, NamedSchedule | None]:
    """The ``schedules:`` section of plain data: name -> validated schedule (None if invalid)."""
    raw = data.get("schedules") if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        return {}
    out: dict[str, NamedSchedule | None] = {}
    for name, value in raw.items():
        try:
            out[str(name)] = NamedSchedule.model_validate(value)
        except Exception:  # reported where the schedule is defined
            out[str(name)] = None
    return out
