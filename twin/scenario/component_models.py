"""Scenario schema of each component type (the ``components:`` entries), and name checks.

One pydantic model per ``type:``; :data:`ComponentModel` is their discriminated union. Each
model's docstring lists its fields with units; :mod:`twin.scenario.build` turns a validated
model into the component.
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
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
    PositiveVolume,
    Quantity,
    StrictModel,
    Temperature,
)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMERIC = re.compile(r"^\s*[+-]?(?:\d|\.\d)")

from twin.scenario.schedules import (
    FractionSchedule,
    Multiplier,
    Scheduled,
    ScheduleSpec,
)


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


def _in_liquid_range(*fluid_fields: str, dynamic_only: bool = False):
    """An initial temperature that must lie in the property range (``T_min``..``T_max`` of
    :class:`twin.thermo.fluids.Liquid`) of the liquids named by ``fluid_fields``; with
    ``dynamic_only`` only of sides whose ``<side>_dynamics`` is ``dynamic`` (a hold-up)."""

    def check(value: Any, info: ValidationInfo) -> Any:
        from twin.thermo.fluids import LIQUIDS
        from twin.units import format_quantity

        for field in fluid_fields:
            side = field.removesuffix("fluid").rstrip("_") or "fluid"
            if dynamic_only and info.data.get(f"{side}_dynamics") != "dynamic":
                continue
            liquid = LIQUIDS.get(info.data.get(field))
            temperatures = value if isinstance(value, list) else [value]
            for T in temperatures:
                if liquid is not None and T is not None and not liquid.T_min <= T <= liquid.T_max:
                    lo, hi, at = (format_quantity(x, "temperature")
                                  for x in (liquid.T_min, liquid.T_max, T))
                    raise ValueError(f"{at} is outside the range of {liquid.name} ({field}), {lo} "
                                     f"to {hi}: its property data end there (it would freeze, "
                                     "boil or decompose)")
        return value

    return AfterValidator(check)


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


def _positive_yield(value: float) -> float:
    if value <= 0.0:
        raise ValueError("must be > 0 % (a line that makes no good product has no yield to model)")
    return value


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
    cullet_share
        Recycled share of the charge (cullet), ``0.5`` or ``"50 %"``; it enters already
        transformed, saving the card's transformation enthalpy. Only for charges whose
        transformation does not reverse on cooling (glass batch to glass), not for steel,
        whose alpha-gamma transformation is reversible. [-]
    batch_co2
        Process CO2 per kg of product made from batch (carbonates), e.g. ``0.19``. [kg/kg]
    forming_yield
        Share of the pulled product that leaves as good product (``"90 %"``); the rest is
        scrap (rejected ware), tallied as ``scrap_mass`` and usually remelted as in-house
        cullet. Default 100 %. [-]
    """

    material: Material
    area: PositiveArea
    inventory: PositiveMass
    initial_temperature: Temperature
    charge_rate: Quantity("mass_flow", ge=0)
    production: Multiplier = Field(default_factory=lambda: ScheduleSpec.constant(1.0))
    pull: Optional[Multiplier] = None
    cullet_share: Fraction = 0.0
    batch_co2: Quantity("dimensionless", ge=0, le=1) = 0.0
    forming_yield: Annotated[Fraction, AfterValidator(_positive_yield)] = 1.0


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
    combustion_air
        ``ambient`` (default) or ``preheated``: the air leaves through the port ``air_out``
        and must come back, through a recuperator or regenerator, into ``air_in``.
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
    combustion_air: Literal["ambient", "preheated"] = "ambient"
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
    initial_temperature: Annotated[Temperature, _in_liquid_range("hot_fluid", "cold_fluid",
                                                                 dynamic_only=True)]


class RecuperatorModel(CounterflowExchangerModel):
    """``type: recuperator``: a counterflow gas/gas exchanger preheating combustion air with
    flue gas (a metallic recuperator; Trinks et al., *Industrial Furnaces*, 6th ed., ch. 9).

    The same model as ``counterflow_exchanger`` with gas defaults: flue gas hot, air cold,
    both sides quasi-steady (gas residence times are fractions of a second). Connect
    ``furnace.air_out -> cold_in`` and ``cold_out -> furnace.air_in`` of a furnace with
    ``combustion_air: preheated``.
    """

    type: Literal["recuperator"]
    cold_fluid: AnyFluid = "air"
    cold_dynamics: Literal["quasi_steady", "dynamic"] = "quasi_steady"


class EffectivenessExchangerModel(_Component):
    """``type: effectiveness_exchanger``: an exchanger without hold-up passing
    ``Q = ε C_min (T_hot,in - T_cold,in)`` (:mod:`twin.components.effectiveness_exchanger`).

    Give either ``effectiveness`` (constant, whatever the flows) or ``UA`` or
    ``effectiveness_nominal`` (ε-NTU relation of ``arrangement``, UA scaling with the flows).

    Attributes
    ----------
    hot_fluid, cold_fluid
        Fluid names (``flue_gas``, ``air``, ``therminol66``, ``water``).
    effectiveness
        Constant effectiveness. [-]
    arrangement
        ``counterflow`` (default), ``parallel_flow``, ``crossflow_unmixed``,
        ``crossflow_hot_mixed`` or ``crossflow_cold_mixed`` (the stream that is mixed).
    UA
        Overall conductance at the nominal flows. [W/K]
    effectiveness_nominal
        Effectiveness at the nominal flows, from which UA is sized (cp at 25 degC). [-]
    hot_flow_nominal, cold_flow_nominal
        Nominal mass flows; needed with ``effectiveness_nominal`` or a non-zero exponent. [kg/s]
    hA_ratio
        Hot-side over cold-side film conductance at the nominal flows (default 1). [-]
    hot_exponent, cold_exponent
        ``n`` of ``hA ∝ m^n`` per side, 0 to 1 (default 0: UA constant). [-]
    """

    type: Literal["effectiveness_exchanger"]
    hot_fluid: AnyFluid
    cold_fluid: AnyFluid
    effectiveness: Optional[Fraction] = None
    arrangement: Optional[Literal["counterflow", "parallel_flow", "crossflow_unmixed",
                                  "crossflow_hot_mixed", "crossflow_cold_mixed"]] = None
    UA: Optional[Quantity("thermal_conductance", gt=0)] = None
    effectiveness_nominal: Optional[Quantity("fraction", gt=0, lt=1)] = None
    hot_flow_nominal: Optional[Quantity("mass_flow", gt=0)] = None
    cold_flow_nominal: Optional[Quantity("mass_flow", gt=0)] = None
    hA_ratio: Optional[Quantity("dimensionless", gt=0)] = None
    hot_exponent: Optional[Quantity("dimensionless", ge=0, le=1)] = None
    cold_exponent: Optional[Quantity("dimensionless", ge=0, le=1)] = None

    @model_validator(mode="after")
    def _one_model(self):
        given = [k for k in ("effectiveness", "UA", "effectiveness_nominal") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give one of effectiveness (constant), UA or effectiveness_nominal (ε-NTU); "
                             f"given: {', '.join(given) or 'none'}")
        ntu_only = ("arrangement", "hot_flow_nominal", "cold_flow_nominal", "hA_ratio", "hot_exponent",
                    "cold_exponent")
        if self.effectiveness is not None:
            extra = [k for k in ntu_only if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"{', '.join(extra)} belong to the ε-NTU model (UA or "
                                 "effectiveness_nominal), not to a constant effectiveness")
            return self
        scaled = bool(self.hot_exponent) or bool(self.cold_exponent)
        if (self.effectiveness_nominal is not None or scaled) and (
                self.hot_flow_nominal is None or self.cold_flow_nominal is None):
            why = "effectiveness_nominal" if self.effectiveness_nominal is not None else "a non-zero exponent"
            raise ValueError(f"{why} needs hot_flow_nominal and cold_flow_nominal")
        return self


class RegeneratorModel(_Component):
    """``type: regenerator``: two checker beds with periodic flow reversal
    (:class:`twin.components.regenerator.Regenerator`).

    Attributes
    ----------
    cells
        Cells along each bed. [-]
    UA
        Gas-to-gas conductance of one bed, ``1/(1/hA_hot + 1/hA_cold)``. [W/K]
    hA_ratio
        Hot-side over cold-side film conductance. [-]
    bed_heat_capacity
        Heat capacity of the checkers of one bed. [J/K]
    period
        Full cycle; the flows reverse every half period (20-40 min in glass furnaces). [s]
    hot_fluid, cold_fluid
        The gases (``flue_gas`` and ``air``).
    initial_temperature
        Initial checker temperature. [K]
    """

    type: Literal["regenerator"]
    cells: Count = 10
    UA: Quantity("thermal_conductance", gt=0)
    hA_ratio: Quantity("dimensionless", gt=0) = 1.0
    bed_heat_capacity: Quantity("heat_capacity", gt=0)
    period: PositiveTime
    hot_fluid: AnyFluid = "flue_gas"
    cold_fluid: AnyFluid = "air"
    initial_temperature: Temperature


class PipeModel(_Component):
    """``type: pipe``: insulated pipe with transport delay and heat loss
    (:class:`twin.components.pipe.Pipe`).

    Attributes
    ----------
    fluid
        The liquid carried.
    length
        Pipe length. [m]
    diameter
        Inner diameter. [m]
    U_loss
        Heat-loss conductance per metre of pipe (insulation and soil), e.g. ``0.3 W/m/K``
        for a pre-insulated DN100 district-heating pipe. [W/(m K)]
    surroundings
        Temperature the pipe loses heat to (constant or scheduled; a buried pipe's ground
        temperature); default the ambient. [K]
    cells
        Finite volumes along the pipe (more: a sharper front, smaller steps). [-]
    initial_temperature
        Initial fluid temperature. [K]
    wall_heat_capacity
        Heat capacity of the pipe wall (``twin.components.pipe.wall_heat_capacity`` gives
        it from the geometry), lumped into mixing volumes at the pipe's ends as in Modelica
        Buildings' ``PlugFlowPipe``; default none. [J/K]
    wall_symmetric
        Half the wall at the inlet and half at the outlet (Buildings' default), else all
        at the outlet. [-]
    """

    type: Literal["pipe"]
    fluid: LiquidName
    length: PositiveLength
    diameter: PositiveLength
    U_loss: Quantity("thermal_conductivity", ge=0) = 0.0
    surroundings: Optional[Scheduled("temperature", gt=0)] = None
    cells: _count(2) = 20
    initial_temperature: Annotated[Temperature, _in_liquid_range("fluid")]
    wall_heat_capacity: Optional[Quantity("heat_capacity", gt=0)] = None
    wall_symmetric: bool = True


class PCMBankModel(_Component):
    """``type: pcm_bank``: latent-heat storage (:class:`twin.components.pcm_bank.PCMBank`).

    Attributes
    ----------
    material
        PCM card (``NaNO3``, ``RT44HC``, ``RT35HC``, ``RT44HC_datasheet``, ``ice``) or a card
        path. [-]
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
    hysteresis
        Optional: the liquid fraction becomes a state (energy-conservative curve-track
        model) and the solidification curve lies this far below the card's own
        solidification curve (cards that carry one, e.g. ``RT44HC_datasheet``: 0 K uses it as
        given) or below the melting curve (other cards). [K]
    phase_time_constant
        Relaxation time of the liquid fraction with hysteresis or subcooling; inside the
        melting range the effective one is ``τ / (1 + L ξ_m'(T) / c)``, about 20 times
        shorter for paraffins, so 30 min (the default) means a response of minutes and keeps
        explicit steps long. [s]
    subcooling
        Optional: a melt without crystals stays liquid this far below the solidification
        onset (the liquidus minus ``hysteresis``), then nucleates and crystallises on the
        solidification curve, warming back up (recalescence). Turns the liquid fraction
        into a state like ``hysteresis`` does, which may then be left out (0 K: crystals
        grow on the melting curve, as in pure salts). Salts and salt hydrates subcool by a
        few to tens of kelvin, paraffins hardly at all (Mehling & Cabeza 2008, ch. 2). [K]
    surface_node
        Put the first node on the channel-side PCM surface, holding half of the first
        control volume (Modelica Buildings' ``stateAtSurface_a``), instead of at that
        volume's centre; needs ``nodes >= 2``. [-]
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
    initial_temperature: Annotated[Temperature, _in_liquid_range("fluid")]
    hysteresis: Optional[Quantity("temperature_difference", ge=0)] = None
    phase_time_constant: PositiveTime = 1800.0
    subcooling: Optional[Quantity("temperature_difference", gt=0)] = None
    surface_node: bool = False

    @model_validator(mode="after")
    def _surface_node_needs_two(self):
        if self.surface_node and self.nodes < 2:
            raise ValueError("surface_node needs nodes >= 2 (the surface and one control volume)")
        return self


def _pump_curve_fit(flow: list[float], pressure: list[float], field: str) -> None:
    """Reject points the falling parabola of :func:`twin.components.pump.fit_pump_curve`
    cannot follow, or that it takes to zero within the given flows."""
    from twin.components.pump import MAX_FIT_MISS, fit_pump_curve

    a, c, b, miss = fit_pump_curve(flow, pressure)
    if miss > MAX_FIT_MISS:
        raise ValueError(
            f"the least-squares fit a - c V - b V^2 (a, b, c >= 0, a head that falls with flow) "
            f"misses a point by {100 * miss:.1f} % of the shut-off {field} (at most "
            f"{100 * MAX_FIT_MISS:g} %): the points rise or bend upward somewhere (an unstable "
            f"or S-shaped characteristic); give points along a falling curve")
    V = flow[-1]
    if not a - c * V - b * V * V > 0:
        raise ValueError(f"the fitted curve reaches zero {field} before the last flow; "
                         "give points where the pump still delivers")


class PumpCurve(StrictModel):
    """``curve:`` of a pump: points of its characteristic at nominal speed, from the
    manufacturer's data sheet.

    Attributes
    ----------
    flow
        Volume flows of the points, at least 3, increasing, >= 0; the range the pump may run
        in (efficiency is held at its end values outside it). [m^3/s]
    pressure
        Pressure rise at each flow, falling with flow (or give ``head``). [Pa]
    head
        Head at each flow, falling with flow (or give ``pressure``); ``rho g H`` with the
        fluid's density. [m]
    efficiency
        Pump (hydraulic) efficiency at each flow, in (0, 1]; > 0 also at zero flow, where the
        model would otherwise have to put the shut-off power into no flow. [-]
    """

    flow: Annotated[list[Quantity("volume_flow", ge=0)], Field(min_length=3)]
    pressure: list[Quantity("pressure", gt=0)] | None = None
    head: list[Quantity("length", gt=0)] | None = None
    efficiency: list[Quantity("fraction", gt=0, le=1)]

    @field_validator("flow")
    @classmethod
    def _flows_increase(cls, flow: list[float]) -> list[float]:
        for k in range(1, len(flow)):
            if not flow[k] > flow[k - 1]:
                raise ValueError(f"must increase strictly (item {k} is not above item {k - 1})")
        return flow

    @field_validator("pressure", "head", "efficiency")
    @classmethod
    def _one_per_flow(cls, values: list[float] | None, info: ValidationInfo):
        flow = info.data.get("flow")
        if values is None or flow is None:
            return values
        if len(values) != len(flow):
            raise ValueError(f"must have one value per flow ({len(flow)} flows, "
                             f"{len(values)} values)")
        if info.field_name != "efficiency":
            for k in range(1, len(values)):
                if not values[k] < values[k - 1]:
                    raise ValueError(f"must fall strictly as the flow rises (item {k} is not "
                                     f"below item {k - 1}): a pump delivers less {info.field_name} "
                                     "at more flow")
            _pump_curve_fit(flow, values, info.field_name)
        return values

    @model_validator(mode="after")
    def _pressure_or_head(self):
        if (self.pressure is None) == (self.head is None):
            raise ValueError("give the curve's pressure or its head (one of them)")
        return self


class PumpSystem(StrictModel):
    """``system:`` of a pump with a curve: the loop's quadratic system curve
    ``dp = static_pressure + k V^2`` through one design point.

    Attributes
    ----------
    flow
        Design flow. [m^3/s]
    pressure_drop
        Pressure the loop needs at ``flow``, static part included (pipes, exchangers,
        valves). [Pa]
    static_pressure
        Pressure the loop needs at any flow (lift, back-pressure); 0 (the default) for a
        closed loop. [Pa]
    """

    flow: Quantity("volume_flow", gt=0)
    pressure_drop: Quantity("pressure", gt=0)
    static_pressure: Quantity("pressure", ge=0) = 0.0

    @field_validator("static_pressure")
    @classmethod
    def _below_design(cls, value: float, info: ValidationInfo) -> float:
        dp = info.data.get("pressure_drop")
        if dp is not None and not value < dp:
            raise ValueError(f"must be below pressure_drop ({dp:g} Pa), which includes it")
        return value


def _pump_mode(field: str, curve_mode: bool, default: Any = None):
    """Check a field of one of the pump's two modes (fixed flow, or curve), and fill its
    default where that mode applies; the other mode's fields must be left out."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if "curve" not in info.data:  # the curve itself is invalid: reported there
            return value
        with_curve = info.data["curve"] is not None
        if with_curve != curve_mode:
            if value is not None:
                raise ValueError(
                    f"{field} belongs to a pump with a curve: add curve and system, or leave "
                    f"{field} out" if curve_mode else
                    f"a pump with a curve takes its flow and power from the curve, the system "
                    f"and the speed: leave {field} out (or leave curve out)")
            return None
        if value is None:
            if default is None:
                raise PydanticCustomError("missing", "required field missing")
            return default
        return value

    return AfterValidator(check)


class PumpModel(_Component):
    """``type: pump``: a pump with a fixed flow (:class:`twin.components.pump.Pump`), or, with
    ``curve``, a pump on its curve at a set speed against a system curve
    (:class:`twin.components.pump.SpeedControlledPump`). The two modes' fields exclude each
    other.

    Attributes
    ----------
    fluid
        Pumped liquid.
    curve
        Pump curve at nominal speed (:class:`PumpCurve`); with it, flow and power follow
        from the curve, the system and the speed.
    system
        System curve (:class:`PumpSystem`); required with ``curve``.
    speed
        Speed as a fraction of nominal, constant or scheduled, up to 1.2 (a drive above
        mains frequency) (with ``curve``; default 1). [-]
    motor_efficiency
        Motor and drive efficiency, in (0, 1] (with ``curve``; default 1). [-]
    mass_flow
        Nominal mass flow (without ``curve``). [kg/s]
    schedule
        Fraction of nominal flow over time (without ``curve``; default 1). [-]
    pressure_rise
        Pressure rise (without ``curve``). [Pa]
    efficiency
        Total (hydraulic x motor) efficiency, in (0, 1] (without ``curve``; default 0.7). [-]
    """

    type: Literal["pump"]
    fluid: LiquidName
    # the curve comes first: the other fields' checks read whether it is there
    curve: PumpCurve | None = None
    system: Annotated[PumpSystem | None, _pump_mode("system", True)] = \
        Field(None, validate_default=True)
    speed: Annotated[Scheduled("dimensionless", ge=0, le=1.2) | None,
                     _pump_mode("speed", True, ScheduleSpec.constant(1.0))] = \
        Field(None, validate_default=True)
    motor_efficiency: Annotated[Quantity("fraction", gt=0, le=1) | None,
                                _pump_mode("motor_efficiency", True, 1.0)] = \
        Field(None, validate_default=True)
    mass_flow: Annotated[Quantity("mass_flow", gt=0) | None, _pump_mode("mass_flow", False)] = \
        Field(None, validate_default=True)
    schedule: Annotated[Multiplier | None,
                        _pump_mode("schedule", False, ScheduleSpec.constant(1.0))] = \
        Field(None, validate_default=True)
    pressure_rise: Annotated[Quantity("pressure", ge=0) | None,
                             _pump_mode("pressure_rise", False)] = Field(None, validate_default=True)
    efficiency: Annotated[Quantity("fraction", gt=0, le=1) | None,
                          _pump_mode("efficiency", False, 0.7)] = Field(None, validate_default=True)


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
    initial_temperature: Annotated[Temperature, _in_liquid_range("fluid")]
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
    initial_temperature: Annotated[Temperature, _in_liquid_range("fluid")]


class StratifiedTankModel(_Component):
    """``type: stratified_tank`` (:class:`twin.components.tank.StratifiedTank`).

    Attributes
    ----------
    fluid
        Stored liquid.
    volume
        Fluid volume. [m^3]
    height
        Height of the fluid column. [m]
    layers
        Number of layers. [-]
    U_loss
        Heat-loss coefficient of the insulated envelope. [W/(m^2 K)]
    conductivity
        Fluid conductivity for vertical conduction (water 0.6 W/(m K)). [W/(m K)]
    buoyancy_time_constant
        Mixing time of an inverted layer pair (default 5 min; smaller is stiffer). [s]
    buoyancy
        ``linear`` (smoothed, the default) or ``quadratic`` (Modelica Buildings' law; use it
        with a time constant of 1 s). [-]
    insulation_thickness, insulation_conductivity
        An insulation shell whose conductances (mantle, lid, floor) add to ``U_loss``, as
        Modelica Buildings' tank computes them; give both or neither. [m], [W/(m K)]
    floor_loss
        Whether the floor loses heat (false: an adiabatic floor). [-]
    initial_temperature
        One temperature, or one per layer from the top. [K]
    """

    type: Literal["stratified_tank"]
    fluid: LiquidName
    volume: PositiveVolume
    height: PositiveLength
    layers: _count(2) = 10
    U_loss: Quantity("heat_transfer_coefficient", ge=0) = 0.0
    conductivity: Quantity("thermal_conductivity", gt=0) = 0.6
    buoyancy_time_constant: PositiveTime = 300.0
    buoyancy: Literal["linear", "quadratic"] = "linear"
    insulation_thickness: Optional[PositiveLength] = None
    insulation_conductivity: Optional[Quantity("thermal_conductivity", gt=0)] = None
    floor_loss: bool = True
    initial_temperature: Annotated[Union[Temperature, list[Temperature]], _in_liquid_range("fluid")]

    @model_validator(mode="after")
    def _profile_length(self):
        T = self.initial_temperature
        if isinstance(T, list) and len(T) != self.layers:
            raise ValueError(f"initial_temperature has {len(T)} values for {self.layers} layers")
        return self

    @model_validator(mode="after")
    def _insulation_pair(self):
        if (self.insulation_thickness is None) != (self.insulation_conductivity is None):
            raise ValueError("give insulation_thickness and insulation_conductivity together, or neither")
        return self


def _heater_set_point(value: Any, info: ValidationInfo) -> Any:
    """A heater has a set point or, instead, a firing ratio: exactly one of them."""
    if "firing" not in info.data:  # the firing ratio itself is invalid: reported there
        return value
    if value is None and info.data["firing"] is None:
        raise PydanticCustomError("missing", "required field missing")
    if value is not None and info.data["firing"] is not None:
        raise ValueError("give set_point (heat to a set point) or firing (a prescribed firing ratio), not both")
    return value


def _heater_fired_only(field: str, default: Any = None):
    """A field of a heater with ``firing`` (:class:`twin.components.heater.FiredHeater`):
    left out of a set-point heater; its default filled in otherwise."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if "firing" not in info.data:  # reported at set_point or firing
            return value
        if info.data["firing"] is None:
            if value is not None:
                raise ValueError(f"{field} belongs to a heater with firing: leave it out, or give firing "
                                 "instead of set_point")
            return None
        if value is None:
            if default is None and info.data.get("dynamics") == "dynamic":
                raise PydanticCustomError("missing", "required when dynamics is 'dynamic'")
            return default
        return value

    return AfterValidator(check)


class HeaterModel(_Component):
    """``type: heater``: electric heater or boiler to a set point (:class:`twin.components.heater.Heater`),
    or, with ``firing`` instead of ``set_point``, at a prescribed firing ratio with its water and
    metal capacity and envelope loss (:class:`twin.components.heater.FiredHeater`, as Modelica
    Buildings' ``Boilers.BoilerPolynomial``).

    Attributes
    ----------
    fluid
        Heated liquid.
    energy
        ``electric`` or a fuel (``natural_gas``, ``hydrogen``, ``methane``).
    nominal_power
        Largest heat flow to the fluid (with ``firing``: heat into the water at full firing). [W]
    efficiency
        Heat to the fluid over energy drawn (fuel on the LHV basis), in (0, 1]. [-]
    set_point
        Outlet temperature set point (constant or scheduled). [K]
    firing
        Firing (part-load) ratio in [0, 1], constant or scheduled, instead of ``set_point``. [-]
    dynamics
        With ``firing``: ``steady_state`` (default, no storage) or ``dynamic`` (one well-mixed
        volume of water and metal).
    envelope_UA
        With ``firing``: conductance of the envelope from the water to ambient (default 0). [W/K]
    water_volume
        With ``firing`` and ``dynamic``: water held in the heater (default 0). [m^3]
    dry_heat_capacity
        With ``firing`` and ``dynamic``: heat capacity of the metal lumped with the water
        (default 0; Buildings takes 500 J/(kg K) x 1.5e-3 kg/W of nominal power). [J/K]
    initial_temperature
        With ``firing`` and ``dynamic``: initial water and metal temperature. [K]
    """

    type: Literal["heater"]
    fluid: LiquidName
    energy: Fuel = "electric"
    nominal_power: PositivePower
    efficiency: Quantity("fraction", gt=0, le=1) = 1.0
    # firing comes first: set_point's check reads whether it is there
    firing: Optional[Scheduled("fraction", ge=0, le=1)] = None
    set_point: Annotated[Optional[Scheduled("temperature", gt=0)], AfterValidator(_heater_set_point)] = \
        Field(None, validate_default=True)
    dynamics: Literal["steady_state", "dynamic"] = "steady_state"
    envelope_UA: Annotated[Optional[Quantity("thermal_conductance", ge=0)],
                           _heater_fired_only("envelope_UA", 0.0)] = Field(None, validate_default=True)
    water_volume: Annotated[Optional[Quantity("volume", ge=0)],
                            _heater_fired_only("water_volume", 0.0)] = Field(None, validate_default=True)
    dry_heat_capacity: Annotated[Optional[Quantity("heat_capacity", ge=0)],
                                 _heater_fired_only("dry_heat_capacity", 0.0)] = Field(None, validate_default=True)
    initial_temperature: Annotated[Optional[Temperature], _heater_fired_only("initial_temperature"),
                                   _in_liquid_range("fluid")] = Field(None, validate_default=True)

    @model_validator(mode="after")
    def _capacity(self):
        if self.firing is None and self.dynamics != "steady_state":
            raise ValueError("dynamics belongs to a heater with firing: leave it out, or give firing "
                             "instead of set_point")
        if self.dynamics == "dynamic" and not (self.water_volume or 0.0) + (self.dry_heat_capacity or 0.0) > 0:
            raise ValueError("a dynamic heater needs a water_volume or a dry_heat_capacity above zero")
        return self


class HeatPumpModel(_Component):
    """``type: heat_pump``: electric heat pump (:class:`twin.components.heat_pump.HeatPump`).

    Attributes
    ----------
    sink_fluid, source_fluid
        Liquids of the condenser (heated) and evaporator (cooled) sides.
    nominal_power
        Largest condenser heat flow. [W]
    carnot_efficiency
        Second-law efficiency against the Carnot COP, in (0, 1]: above 1 the heat pump would
        beat the second law, which is rejected. [-]
    approach
        Temperature approach of condenser and evaporator to the streams (default 5 K). [K]
    source_max_cooling
        Largest cooling of the source stream (default 10 K). [K]
    set_point
        Sink outlet temperature set point (constant or scheduled). [K]
    """

    type: Literal["heat_pump"]
    sink_fluid: LiquidName
    source_fluid: LiquidName
    nominal_power: PositivePower
    carnot_efficiency: Quantity("fraction", gt=0, le=1)
    approach: Quantity("temperature_difference", ge=0) = 5.0
    source_max_cooling: Quantity("temperature_difference", gt=0) = 10.0
    set_point: Scheduled("temperature", gt=0)


class FabHVACModel(_Component):
    """``type: fab_hvac``: make-up-air reheat of a semiconductor fab
    (:class:`twin.components.heat_users.FabHVAC`).

    Attributes
    ----------
    fluid
        Heating water of the reheat coils.
    air_flow
        Make-up air mass flow, constant or scheduled. [kg/s]
    supply_set_point
        Supply-air set point (constant or scheduled). [K]
    dehumidified_temperature
        Air temperature after the dehumidifying cooling coil (11-13 degC typical). [K]
    UA
        Reheat coil conductance. [W/K]
    window
        Half-width of the supply-air window (tight: 0.5 K). [K]
    backup
        The fab's own reheat: ``electric`` or a fuel (``natural_gas``, ...).
    backup_efficiency
        Its heat over energy drawn (fuel on the LHV basis). [-]
    """

    type: Literal["fab_hvac"]
    fluid: LiquidName
    air_flow: Scheduled("mass_flow", ge=0)
    supply_set_point: Scheduled("temperature", gt=0)
    dehumidified_temperature: Temperature
    UA: Quantity("thermal_conductance", gt=0)
    window: Quantity("temperature_difference", gt=0) = 0.5
    backup: Fuel = "natural_gas"
    backup_efficiency: Quantity("fraction", gt=0, le=1) = 0.9


class DistrictSubstationModel(_Component):
    """``type: district_substation``: a building substation with a demand profile
    (:class:`twin.components.heat_users.DistrictSubstation`).

    Attributes
    ----------
    fluid
        Primary (network) water.
    demand
        Secondary heat demand, constant or scheduled. [W]
    secondary_supply
        Secondary supply temperature (constant or scheduled: a heating curve). [K]
    secondary_return
        Secondary return temperature. [K]
    UA
        Substation exchanger conductance. [W/K]
    """

    type: Literal["district_substation"]
    fluid: LiquidName
    demand: Scheduled("power", ge=0)
    secondary_supply: Scheduled("temperature", gt=0)
    secondary_return: Temperature
    UA: Quantity("thermal_conductance", gt=0)


class GreenhouseModel(_Component):
    """``type: greenhouse``: two-node greenhouse with pipe-rail heating
    (:class:`twin.components.greenhouse.Greenhouse`).

    Attributes
    ----------
    fluid
        Heating water.
    air_heat_capacity, soil_heat_capacity
        Heat capacities of air/canopy/structure and of the active soil layer. [J/K]
    envelope_UA
        Cover and ventilation conductance to ambient. [W/K]
    soil_conductance, ground_conductance
        Air-soil and soil-deep ground conductances. [W/K]
    ground_temperature
        Deep-ground temperature (default 10 degC). [K]
    pipe_UA
        Heating-pipe conductance to the air. [W/K]
    valve_gain
        Share of the heating flow per kelvin below the set point (default 0.5 1/K). [1/K]
    set_point
        Air temperature set point (constant or scheduled). [K]
    solar_gain
        Solar and lighting gains (constant or scheduled, default 0). [W]
    initial_temperature
        Initial air and soil temperature. [K]
    """

    type: Literal["greenhouse"]
    fluid: LiquidName
    air_heat_capacity: Quantity("heat_capacity", gt=0)
    soil_heat_capacity: Quantity("heat_capacity", gt=0)
    envelope_UA: Quantity("thermal_conductance", ge=0)
    soil_conductance: Quantity("thermal_conductance", ge=0)
    ground_conductance: Quantity("thermal_conductance", ge=0) = 0.0
    ground_temperature: Temperature = 283.15
    pipe_UA: Quantity("thermal_conductance", gt=0)
    valve_gain: PerKelvin = 0.5
    set_point: Scheduled("temperature", gt=0)
    solar_gain: Scheduled("power", ge=0) = Field(default_factory=lambda: ScheduleSpec.constant(0.0))
    initial_temperature: Temperature


class SplitterModel(_Component):
    """``type: splitter``: divide a stream by a fraction (:class:`twin.components.junctions.Splitter`).

    Attributes
    ----------
    fluid
        The fluid (a liquid, ``flue_gas`` or ``air``).
    fraction
        Share of the flow leaving through ``outlet_a`` (constant or scheduled), in [0, 1]. [-]
    """

    type: Literal["splitter"]
    fluid: AnyFluid
    fraction: FractionSchedule = Field(default_factory=lambda: ScheduleSpec.constant(0.5))
    controller: Optional[str] = None
    """Name of a ``controller`` whose output sets the fraction instead (bypass damper,
    three-way valve)."""


class ControllerModel(_Component):
    """``type: controller``: PI or smoothed on/off temperature controller
    (:class:`twin.components.controller.Controller`) driving a splitter's fraction.

    Attributes
    ----------
    mode
        ``pi`` or ``on_off``.
    measure
        Connection whose temperature is measured, by its outlet ``component.port``.
    action
        ``heating``: the output rises when the measurement is too cold (a valve letting more
        hot fluid through); ``cooling``: it rises when too warm.
    set_point
        Set point, constant or scheduled (``pi``). [K]
    kp
        Proportional gain (``pi``), output per kelvin, e.g. ``0.05`` or ``"5 %/K"``. [1/K]
    integral_time
        Integral time (``pi``). [s]
    switch_on, switch_off
        Relay thresholds (``on_off``): for heating on below ``switch_on`` and off above
        ``switch_off`` (> ``switch_on``); for cooling on above ``switch_on`` and off below
        ``switch_off`` (< ``switch_on``). [K]
    width
        Smoothing width of the relay. [K]
    switch_time
        Relay switching time constant. [s]
    output_min, output_max
        Output range. [-]
    sensor_time_constant
        First-order lag of the temperature sensor. [s]
    initial_temperature
        Sensor reading at the start. [K]
    initial_output
        Output at the start. [-]
    """

    type: Literal["controller"]
    mode: Literal["pi", "on_off"] = "pi"
    measure: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")]
    action: Literal["heating", "cooling"] = "heating"
    set_point: Optional[Scheduled("temperature", gt=0)] = None
    kp: Optional[PerKelvin] = None
    integral_time: PositiveTime = 600.0
    switch_on: Optional[Temperature] = None
    switch_off: Optional[Temperature] = None
    width: Quantity("temperature_difference", gt=0) = 0.2
    switch_time: PositiveTime = 30.0
    output_min: Fraction = 0.0
    output_max: Fraction = 1.0
    sensor_time_constant: PositiveTime = 30.0
    initial_temperature: Temperature
    initial_output: Fraction = 0.0

    @model_validator(mode="after")
    def _mode_fields(self):
        if self.mode == "pi":
            missing = [k for k in ("set_point", "kp") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"mode 'pi' needs {' and '.join(missing)}")
            if not self.kp > 0:
                raise ValueError("kp must be > 0")
        else:
            if self.switch_on is None or self.switch_off is None:
                raise ValueError("mode 'on_off' needs switch_on and switch_off")
            up = self.switch_off > self.switch_on
            if (self.action == "heating") != up:
                order = "above" if self.action == "heating" else "below"
                raise ValueError(f"for a {self.action} action switch_off must be {order} switch_on")
        if self.output_min >= self.output_max:
            raise ValueError("output_min must be below output_max")
        return self


class MixerModel(_Component):
    """``type: mixer``: merge two streams adiabatically (:class:`twin.components.junctions.Mixer`).

    Attributes
    ----------
    fluid
        The fluid of both inlets.
    """

    type: Literal["mixer"]
    fluid: AnyFluid


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


COMPONENT_MODELS = (FurnaceModel, CounterflowExchangerModel, RecuperatorModel, EffectivenessExchangerModel,
                    RegeneratorModel, PipeModel, PCMBankModel, PumpModel,
                    MouldPreheaterModel, HeatDemandModel, StratifiedTankModel, HeaterModel, HeatPumpModel,
                    GreenhouseModel, FabHVACModel, DistrictSubstationModel, SplitterModel, ControllerModel,
                    MixerModel, SourceModel, StackModel)
COMPONENT_TYPES: dict[str, type] = {
    m.model_fields["type"].annotation.__args__[0]: m for m in COMPONENT_MODELS
}
"""``type:`` value -> component model."""

ComponentModel = Annotated[Union[COMPONENT_MODELS], Field(discriminator="type")]


