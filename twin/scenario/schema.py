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
    recovery:                          # optional: the KPI boundary of waste-heat recovery
      waste_heat: [furnace.exhaust]    #   connections carrying recoverable waste heat
      recovered: [oil_heater.heat_recovered]   # heat taken from them (tallies)
      delivered: [moulds.heat_delivered]       # recovered heat put to use
    economics:                         # optional: prices, grid CO2, value of the output
      currency: EUR
      fuel_price: 0.045 EUR/kWh        # per kWh of fuel LHV
      electricity_price: 0.16 EUR/kWh  # also {nominal: 0.16 EUR/kWh, schedule: tariff}
      grid_co2: 0.38 kg/kWh            # constant or scheduled
      output_value: {furnace.product_mass: 420 EUR/t}
      output_rate: 2500 EUR/h          # or/and: value of output per hour (unmodelled products)
    pinch:                             # optional: heat-integration targets (twin.pinch)
      dT_min: 20 K
      phases: production               # slices cut where this schedule changes
      streams:
        flue: {connection: furnace.exhaust, target: 120 degC}       # from the run
        moulds: {supply: 15 degC, target: 250 degC, heat_capacity_rate: 1.15 kW/K}
    sweep:                             # optional: the variants `twin sweep` runs (twin.sweep)
      method: lhs                      #   grid (default), lhs or list
      samples: 256                     #   lhs: number of variants; grid: `points` per range
      seed: 1
      parameters:                      #   paths as for --set: a range or a list of levels
        recuperator.UA: 400 W/K..800 W/K
        pcm_bank.mass: [20 t, 40 t, 60 t]   # (grid only)
      # list: variants.csv             #   method list: one column per path, one row per variant
    checks:
      - {kpi: energy_closure, max: 1.0e-6}
      - {kpi: recapture_rate, min: 0.3}
      - {compare: furnace.T_load, reference: ref/T_load.csv, tolerance: 2 K}   # a signal vs a file

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

import difflib
import re
from typing import Annotated, Any, List, Literal, Optional, Union

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from twin.scenario.component_models import (  # noqa: F401  (re-exported)
    COMPONENT_MODELS,
    COMPONENT_TYPES,
    ComponentModel,
    CounterflowExchangerModel,
    FurnaceModel,
    HeatDemandModel,
    MouldPreheaterModel,
    PCMBankModel,
    PumpModel,
    SourceModel,
    StackModel,
    _count,
    fluid_names,
    fuel_names,
    material_names,
)
from twin.scenario.fields import (
    PositiveTime,
    Quantity,
    StrictModel,
    Temperature,
)
from twin.scenario.schedules import NamedSchedule, Scheduled, ScheduleSpec  # noqa: F401

__all__ = [
    "COMPONENT_TYPES",
    "CheckModel",
    "ComponentModel",
    "CounterflowExchangerModel",
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
    dead_state: Optional[Temperature] = None
    """Dead-state temperature of the exergy audit; default: the ambient at t = 0. [K]"""


class RecoveryModel(StrictModel):
    """Where the scenario draws the boundary of its waste-heat KPIs (:mod:`twin.kpi`).

    Attributes
    ----------
    waste_heat
        Connections, named by their outlet ``component.port``, whose heat above the dead
        state counts as recoverable waste heat (a furnace's exhaust, an oven's exhaust air).
    recovered
        ``component.term`` tallies (or boundary flows) of heat recovered from them.
    delivered
        ``component.term`` of recovered heat delivered to a use.
    """

    waste_heat: Annotated[list[PortRef], Field(min_length=1)]
    recovered: list[PortRef] = []
    delivered: list[PortRef] = []


_PRICE = re.compile(r"^\s*(\S+)\s*([A-Z]{3})\s*/\s*(\S.*?)\s*$")
_MONEY = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*[A-Z]{3}\s*$")  # "12 EUR"


def _price_text(value: Any) -> Any:
    """``"0.15 EUR/kWh"`` -> ``"0.15 1/(kWh)"``: the currency code is checked against the
    scenario's ``currency`` by :class:`EconomicsModel` and is not a unit (twin.units)."""
    if isinstance(value, str):
        m = _PRICE.match(value)
        if m is None and _MONEY.match(value):
            raise ValueError("is an amount of money, not a price: write it per unit, "
                             "e.g. 'EUR/kWh', 'EUR/t' or 'EUR/h'")
        return f"{m[1]} 1/({m[3]})" if m else value
    if isinstance(value, dict) and "nominal" in value:
        return {**value, "nominal": _price_text(value["nominal"])}
    return value


def _currencies(value: Any) -> set[str]:
    if isinstance(value, str):
        m = _PRICE.match(value)
        return {m[2]} if m else set()
    if isinstance(value, dict):
        return set().union(*(_currencies(v) for v in value.values())) if value else set()
    return set()


class EconomicsModel(StrictModel):
    """Prices, the grid's CO2 factor and the value of the plant's output.

    Prices are written with the currency and the unit they are per, ``"0.045 EUR/kWh"``,
    ``"420 EUR/t"``; the currency must be the one named in ``currency`` (money is never
    converted).

    Attributes
    ----------
    currency
        Three-letter currency code (ISO 4217), default ``EUR``.
    fuel_price
        Fuel price per unit of lower-heating-value energy. [currency/J]
    electricity_price
        Grid electricity price, constant or scheduled (time-of-use tariffs). [currency/J]
    grid_co2
        Grid CO2 emission factor, constant or scheduled. [kg/J]
    output_value
        ``{component.tally: value per unit}`` of the plant's output, e.g.
        ``{furnace.product_mass: 420 EUR/t}``. [currency/kg]
    output_rate
        Value of output per unit time, for products twin does not model as a mass, e.g.
        ``2500 EUR/h``. [currency/s]
    """

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    fuel_price: Annotated[Optional[Quantity("price_per_energy", ge=0)], BeforeValidator(_price_text)] = None
    electricity_price: Annotated[Optional[Scheduled("price_per_energy", ge=0)], BeforeValidator(_price_text)] = None
    grid_co2: Optional[Scheduled("emission_factor", ge=0)] = None
    output_value: dict[PortRef, Annotated[Quantity("price_per_mass", ge=0), BeforeValidator(_price_text)]] = {}
    output_rate: Annotated[Optional[Quantity("frequency", ge=0)], BeforeValidator(_price_text)] = None

    @model_validator(mode="before")
    @classmethod
    def _one_currency(cls, data: Any) -> Any:
        if isinstance(data, dict):
            currency = data.get("currency", "EUR")
            used = _currencies({k: v for k, v in data.items() if k != "currency"})
            other = sorted(used - {currency})
            if other:
                raise ValueError(f"prices are in {', '.join(other)} but currency is {currency!r}; "
                                 "twin never converts money: use one currency")
        return data


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


def _check_kpi(name: str) -> str:
    from twin.kpi import UNITS

    if name not in UNITS:
        close = difflib.get_close_matches(name, list(UNITS), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ValueError(f"unknown KPI; {hint}accepted: {', '.join(UNITS)}")
    return name


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

    kpi: Annotated[str, AfterValidator(_check_kpi)]
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


class SignalCheckModel(StrictModel):
    """A comparison of a signal of the run with a reference file, e.g.
    ``{compare: tank.T, reference: ref/T.csv, tolerance: 0.3 K}``.

    Attributes
    ----------
    compare
        The signal: ``component.signal`` (``furnace.T_load``, ``store.state_of_charge``) or a
        connection's ``component.port.T`` / ``component.port.m_flow``.
    reference
        The reference file, relative to the scenario file (or absolute): a CSV with a header
        row, or a Dymola/BuildingsPy reference result (``name=[...]`` lines).
    column
        The reference column (CSV) or variable (Dymola); default: the CSV's second column.
    time_column
        CSV column of the time in seconds; default: the first column.
    tolerance
        With units of the signal (``"0.3 K"``, ``"5 kW"``): the funnel's half-width, or the
        largest RMSE.
    relative
        Funnel only: added tolerance relative to the largest reference value. [-]
    time_shift
        Funnel only: how early or late the run may be (fronts, steps). [s]
    statistic
        ``funnel`` (every reference sample within the tube: reference simulations) or
        ``rmse`` (measured data).
    description
        Free text (why this tolerance).
    """

    compare: Annotated[str, Field(pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*){1,2}$")]
    reference: Annotated[str, Field(min_length=1)]
    column: Optional[str] = None
    time_column: Optional[str] = None
    tolerance: Annotated[str, Field(min_length=1)]
    relative: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    time_shift: Quantity("time", ge=0) = 0.0
    statistic: Literal["funnel", "rmse"] = "funnel"
    description: str = ""


def _check_kind(value: Any) -> str:
    return "signal_check" if isinstance(value, dict) and "compare" in value else "kpi_check"


AnyCheck = Annotated[
    Union[Annotated[CheckModel, Tag("kpi_check")], Annotated[SignalCheckModel, Tag("signal_check")]],
    Discriminator(_check_kind),
]


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


class PinchStreamModel(StrictModel):
    """One process stream of the pinch analysis: a connection, or a stream given by numbers.

    A stream *on a connection* takes its supply temperature and heat-capacity flow rate from
    the run, slice by slice: the flow-weighted mean temperature of the connection and the
    enthalpy it gives up (hot) or needs (cold) between that temperature and ``target``. A
    stream *given by numbers* (``supply``, ``target``, ``heat_capacity_rate``) stands for a
    duty twin does not model as a flow, e.g. moulds heated from ambient to 250 degC.

    Attributes
    ----------
    connection
        Outlet ``component.port`` of a connection (e.g. ``furnace.exhaust``).
    supply
        Supply temperature of a stream given by numbers. [K]
    target
        Target temperature: the stream is hot if it lies below the supply. [K]
    heat_capacity_rate
        m_dot c_p of a stream given by numbers, constant or scheduled. [W/K]
    """

    connection: Optional[PortRef] = None
    supply: Optional[Temperature] = None
    target: Temperature
    heat_capacity_rate: Optional[Scheduled("thermal_conductance", ge=0)] = None

    @model_validator(mode="after")
    def _one_kind(self) -> PinchStreamModel:
        numbers = (self.supply, self.heat_capacity_rate)
        if self.connection is not None and any(v is not None for v in numbers):
            raise ValueError("give either 'connection' or 'supply' with 'heat_capacity_rate', not both")
        if self.connection is None and any(v is None for v in numbers):
            raise ValueError("give 'connection' (a stream of the plant) or both 'supply' and "
                             "'heat_capacity_rate' (a stream given by numbers)")
        if self.supply is not None and self.supply == self.target:
            raise ValueError(f"'target' must differ from 'supply' ({self.supply:g} K)")
        return self


class PinchModel(StrictModel):
    """Heat-integration targets of the plant's streams by pinch analysis (:mod:`twin.pinch`).

    The run is cut into time slices: at every change of the ``phases`` schedule (production
    phases) and every ``slice`` of time; each slice is targeted on its own (direct heat
    recovery, Kemp's time-slice model), and all of the run at once with its mean streams
    (the time-average model: the most any storage could make of the same streams).

    Attributes
    ----------
    dT_min
        Minimum approach temperature. [K]
    streams
        The hot and cold streams by name (:class:`PinchStreamModel`); at least two.
    phases
        Name of a step schedule whose changes mark the production phases (optional).
    slice
        Longest time slice (default 24 h, or the whole run if shorter). [s]
    """

    dT_min: Quantity("temperature_difference", gt=0)
    streams: Annotated[dict[Name, PinchStreamModel], Field(min_length=2)]
    phases: Optional[Name] = None
    slice: PositiveTime = 86400.0

    @field_validator("phases")
    @classmethod
    def _known_schedule(cls, name: str | None, info: ValidationInfo) -> str | None:
        known = (info.context or {}).get("schedules", {})
        if name is not None and name not in known:
            raise ValueError(f"no schedule named {name!r}; schedules: {', '.join(sorted(known)) or 'none'}")
        return name


class SweepModel(StrictModel):
    """The ``sweep:`` block: the variants ``twin sweep SCENARIO`` runs when no ``--vary`` or
    ``--list`` is given (read by :func:`twin.sweep.spec.from_block`; ``twin run`` ignores it).

    Attributes
    ----------
    method
        ``grid`` (full factorial), ``lhs`` (Latin hypercube) or ``list`` (a CSV file).
    parameters
        Scenario path -> ``"LOW..HIGH"`` (a range, with units) or a list of levels (grid only).
    points
        Levels per range on a grid.
    samples
        Variants drawn by Latin hypercube sampling.
    seed
        Seed of the Latin hypercube (reproducible sampling).
    list
        CSV file of variants (method ``list``), relative to the scenario file.
    """

    method: Literal["grid", "lhs", "list"] = "grid"
    parameters: dict[str, Union[str, List[Union[str, float]]]] = {}  # List: 'list' is a field
    points: Annotated[int, Field(ge=1, le=100_000)] = 5
    samples: Annotated[int, Field(ge=1, le=10_000_000)] = 100
    seed: Optional[int] = None
    list: Optional[str] = None

    @model_validator(mode="after")
    def _what(self) -> "SweepModel":
        if self.method == "list" and not self.list:
            raise ValueError("method 'list' needs 'list: FILE' (a CSV of variants)")
        if self.method != "list" and not self.parameters:
            raise ValueError(f"method '{self.method}' needs 'parameters' (path: LOW..HIGH)")
        return self


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
    recovery
        :class:`RecoveryModel`, the waste-heat KPI boundary (optional).
    economics
        :class:`EconomicsModel` (optional).
    pinch
        :class:`PinchModel`: heat-integration targets (optional).
    checks
        :class:`CheckModel` (a KPI range) and :class:`SignalCheckModel` (a signal against a
        reference file) entries.
    sweep
        :class:`SweepModel`: the variants ``twin sweep`` runs (optional; ``twin run`` ignores it).

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
    recovery: Optional[RecoveryModel] = None
    economics: Optional[EconomicsModel] = None
    pinch: Optional[PinchModel] = None
    checks: list[AnyCheck] = []
    sweep: Optional[SweepModel] = None

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
