"""Scenario file -> validated model -> :class:`~twin.core.plant.Plant`, all problems at once.

:func:`load_scenario` reads a file, applies command-line overrides (``--set
recuperator.UA=30 kW/K``), validates everything with :class:`~twin.scenario.schema.ScenarioModel`,
builds every component (SI floats as float64 JAX arrays; components never see units or
dicts) and wires the plant. Every problem found on the way (YAML, schema, schedule
references, component construction, wiring) is collected into one
:class:`~twin.scenario.errors.ScenarioError`, each line ``file:line: path: given, accepted``.

Wiring is checked even when some components are invalid: those stand in as port-only stubs
of their ``type``, so a dangling port is reported together with a typo elsewhere.

Scenario paths map to component parameters (:attr:`Scenario.parameters`):
``"recuperator.UA"`` -> ``ParameterRef("recuperator", "UA", None, "thermal_conductance")``,
so sweeps, gradients and calibration can address the same names a file uses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jax.numpy as jnp
from pydantic import ValidationError

from twin.core.plant import Economics, Plant, WiringError, build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig
from twin.kpi import KPIConfig
from twin.pinch import PinchConfig, RunStream
from twin.scenario import schema as S
from twin.scenario.errors import Problem, ScenarioError, problems_from_pydantic
from twin.scenario.plausible import implausible_values
from twin.scenario.yamlio import LineMap, apply_override, load_yaml_text
from twin.units import UnitError, parse_quantity

__all__ = ["ParameterRef", "Scenario", "build_component", "check_scenario", "load_scenario",
           "to_schedule"]


@dataclasses.dataclass(frozen=True)
class ParameterRef:
    """Where a scalar scenario parameter lives in the built plant.

    Attributes
    ----------
    component
        Component name.
    field
        Attribute of the component (an array leaf), e.g. ``"UA"`` or ``"layer_k"``.
    index
        Index into that array (wall layers), or None for a scalar.
    dimension
        Dimension of the value, a name of :data:`twin.units.DIMENSIONS`, or ``"per_kelvin"``
        for the PI gain [1/K] (not a units.py dimension); the leaf holds SI.
    """

    component: str
    field: str
    index: int | None
    dimension: str


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A loaded, validated scenario with its built plant.

    Attributes
    ----------
    name
        Scenario name.
    path
        The file read.
    text
        The file text, verbatim (provenance).
    sha256
        Hex SHA-256 of ``text`` (UTF-8).
    model
        The validated :class:`~twin.scenario.schema.ScenarioModel` (SI floats).
    plant
        The built plant.
    solver
        Solver settings.
    duration
        Simulated time. [s]
    output_interval
        Spacing of saved outputs. [s]
    checks
        The ``checks:`` entries (:class:`~twin.scenario.schema.CheckModel`).
    overrides
        The ``--set`` overrides applied, as given (``"recuperator.UA=30 kW/K"``).
    parameters
        Scenario path (``"recuperator.UA"``, ``"furnace.wall.layers.0.thickness"``) -> where
        that scalar parameter lives in :attr:`plant`.
    kpi_config
        The waste-heat KPI boundary and the economics (:class:`twin.kpi.KPIConfig`).
    pinch
        The heat-integration targets to compute after the run (:class:`twin.pinch.PinchConfig`).
    warnings
        Values that are possible but implausible (:mod:`twin.scenario.plausible`), each a
        :class:`~twin.scenario.errors.Problem` with file, line and field path.
    """

    name: str
    path: Path
    text: str
    sha256: str
    model: S.ScenarioModel
    plant: Plant
    solver: SolverConfig
    duration: float
    output_interval: float
    checks: list
    overrides: tuple[str, ...] = ()
    parameters: dict[str, ParameterRef] = dataclasses.field(default_factory=dict)
    kpi_config: KPIConfig = dataclasses.field(default_factory=KPIConfig)
    pinch: PinchConfig | None = None
    warnings: tuple[Problem, ...] = ()


# ---------------------------------------------------------------------- helpers
def _a(value: Any) -> jnp.ndarray:
    return jnp.asarray(value, dtype=float)


def to_schedule(spec: S.ScheduleSpec) -> Schedule:
    """A :class:`~twin.core.schedule.Schedule` from a validated :class:`ScheduleSpec`."""
    return Schedule(_a(spec.times), _a(spec.values), period=spec.period, kind=spec.kind)


class _FieldError(ValueError):
    """A component that cannot be built because of one of its fields (``field``, dotted)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _material(name: str, field: str):
    """The material card ``name``; a broken card is reported at ``field``."""
    from twin.thermo.pcm import load_material

    try:
        return load_material(name)
    except ValueError as exc:
        raise _FieldError(field, str(exc)) from None


def _fluid(name: str):
    from twin.thermo.fluids import AIR, FLUE_GAS, liquid

    return {"flue_gas": FLUE_GAS, "air": AIR}.get(name) or liquid(name)


class _Params:
    """Collects the scenario-path -> component-field map while a component is built."""

    def __init__(self, component: str, out: dict[str, ParameterRef]):
        self.component, self.out = component, out

    def __call__(self, path: str, field: str, dimension: str, index: int | None = None) -> None:
        self.out[f"{self.component}.{path}"] = ParameterRef(self.component, field, index,
                                                            dimension)


# ---------------------------------------------------------------------- components
def _furnace(m: S.FurnaceModel, p: _Params, ctx: dict):
    from twin.components.furnace import AirPreheatFurnace, Furnace
    from twin.thermo.combustion import FUELS

    load, wall, ht = m.load, m.wall, m.heat_transfer
    pi = m.control
    for path, field, dim in [
        ("firing_rate", "firing_rate", "power"), ("excess_air", "excess_air", "dimensionless"),
        ("gas_holdup", "M_gas", "mass"), ("load.area", "A_load", "area"),
        ("load.inventory", "M_charge_initial", "mass"),
        ("load.initial_temperature", "T_charge_initial", "temperature"),
        ("load.charge_rate", "charge_rate", "mass_flow"), ("wall.area", "A_wall", "area"),
        ("wall.h_outer", "h_outer", "heat_transfer_coefficient"),
        ("wall.initial_inner_temperature", "T_wall_inner_initial", "temperature"),
        ("heat_transfer.eps_gas_load", "eps_gas_load", "fraction"),
        ("heat_transfer.eps_gas_wall", "eps_gas_wall", "fraction"),
        ("heat_transfer.eps_wall_load", "eps_wall_load", "fraction"),
        ("heat_transfer.h_conv", "h_conv", "heat_transfer_coefficient"),
        ("load.cullet_share", "cullet_share", "fraction"),
        ("load.batch_co2", "batch_co2", "dimensionless"),
        ("load.forming_yield", "forming_yield", "fraction"),
    ]:
        p(path, field, dim)
    if pi is not None:
        p("control.kp", "kp", "per_kelvin")
        p("control.integral_time", "Ti", "time")
        p("control.firing_min", "firing_min", "fraction")
    for k in range(len(wall.layers)):
        for name, field, dim in [("thickness", "layer_thickness", "length"),
                                 ("conductivity", "layer_k", "thermal_conductivity"),
                                 ("density", "layer_rho", "density"),
                                 ("specific_heat", "layer_cp", "specific_heat")]:
            p(f"wall.layers.{k}.{name}", field, dim, k)
    layers = wall.layers
    cls = AirPreheatFurnace if m.combustion_air == "preheated" else Furnace
    return cls(
        firing_rate=_a(m.firing_rate),
        firing_schedule=to_schedule(m.firing),
        # without PI control these are unused; neutral values keep the pytree shape fixed
        T_set=to_schedule(pi.set_point) if pi else Schedule.constant(load.initial_temperature),
        kp=_a(pi.kp if pi else 1.0),
        Ti=_a(pi.integral_time if pi else 1.0),
        firing_min=_a(pi.firing_min if pi else 0.0),
        excess_air=_a(m.excess_air),
        A_load=_a(load.area),
        A_wall=_a(wall.area),
        eps_gas_load=_a(ht.eps_gas_load),
        eps_gas_wall=_a(ht.eps_gas_wall),
        eps_wall_load=_a(ht.eps_wall_load),
        h_conv=_a(ht.h_conv),
        charge=_material(load.material, "load.material"),
        M_charge_initial=_a(load.inventory),
        T_charge_initial=_a(load.initial_temperature),
        charge_rate=_a(load.charge_rate),
        production=to_schedule(load.production),
        pull=to_schedule(load.pull if load.pull is not None else load.production),
        layer_thickness=_a([x.thickness for x in layers]),
        layer_k=_a([x.conductivity for x in layers]),
        layer_rho=_a([x.density for x in layers]),
        layer_cp=_a([x.specific_heat for x in layers]),
        h_outer=_a(wall.h_outer),
        T_wall_inner_initial=_a(wall.initial_inner_temperature),
        T_ambient_initial=_a(ctx["T_ambient_initial"]),
        M_gas=_a(m.gas_holdup),
        cullet_share=_a(load.cullet_share),
        batch_co2=_a(load.batch_co2),
        forming_yield=_a(load.forming_yield),
        fuel=None if m.fuel == "electric" else FUELS[m.fuel],
        control="pi" if pi else "schedule",
        gas_dynamics=m.gas_dynamics,
        nodes_per_layer=wall.nodes_per_layer,
    )


def _exchanger(m: S.CounterflowExchangerModel, p: _Params, ctx: dict):
    from twin.components.exchanger import CounterflowExchanger

    p("UA", "UA", "thermal_conductance")
    p("hA_ratio", "hA_ratio", "dimensionless")
    p("wall_heat_capacity", "C_wall", "heat_capacity")
    p("initial_temperature", "T_initial", "temperature")
    if m.hot_holdup is not None:
        p("hot_holdup", "M_hot", "mass")
    if m.cold_holdup is not None:
        p("cold_holdup", "M_cold", "mass")
    return CounterflowExchanger(
        UA=_a(m.UA), hA_ratio=_a(m.hA_ratio), C_wall=_a(m.wall_heat_capacity),
        # a quasi-steady side has no hold-up; its mass is never read
        M_hot=_a(m.hot_holdup if m.hot_holdup is not None else 0.0),
        M_cold=_a(m.cold_holdup if m.cold_holdup is not None else 0.0),
        T_initial=_a(m.initial_temperature),
        hot_fluid=_fluid(m.hot_fluid), cold_fluid=_fluid(m.cold_fluid), n_cells=m.cells,
        hot_dynamics=m.hot_dynamics, cold_dynamics=m.cold_dynamics,
    )


def _effectiveness_exchanger(m: S.EffectivenessExchangerModel, p: _Params, ctx: dict):
    from twin.components.effectiveness_exchanger import (
        ConstantEffectivenessExchanger,
        EffectivenessNTUExchanger,
        ua_for_effectiveness,
    )
    from twin.thermo.combustion import AIR_Y
    from twin.thermo.fluids import T_REF

    hot, cold = _fluid(m.hot_fluid), _fluid(m.cold_fluid)
    if m.effectiveness is not None:
        p("effectiveness", "effectiveness_value", "fraction")
        return ConstantEffectivenessExchanger(effectiveness_value=_a(m.effectiveness), hot_fluid=hot,
                                              cold_fluid=cold)
    arrangement = m.arrangement or "counterflow"
    m_hot, m_cold = m.hot_flow_nominal or 1.0, m.cold_flow_nominal or 1.0  # unused if both n are 0
    if m.UA is not None:
        p("UA", "UA_nominal", "thermal_conductance")
        UA = m.UA
    else:  # sized at the nominal flows, cp at 25 degC (a gas with air's composition)
        cp = [f.cp(T_REF, jnp.asarray(AIR_Y) if f.is_gas else None) for f in (hot, cold)]
        UA = ua_for_effectiveness(m.effectiveness_nominal, m_hot * float(cp[0]), m_cold * float(cp[1]),
                                  arrangement)
    for path, field in (("hA_ratio", "hA_ratio"), ("hot_exponent", "n_hot"), ("cold_exponent", "n_cold")):
        p(path, field, "dimensionless")
    if m.hot_flow_nominal is not None:
        p("hot_flow_nominal", "m_hot_nominal", "mass_flow")
    if m.cold_flow_nominal is not None:
        p("cold_flow_nominal", "m_cold_nominal", "mass_flow")
    return EffectivenessNTUExchanger(
        UA_nominal=_a(UA), hA_ratio=_a(m.hA_ratio or 1.0), m_hot_nominal=_a(m_hot), m_cold_nominal=_a(m_cold),
        n_hot=_a(m.hot_exponent or 0.0), n_cold=_a(m.cold_exponent or 0.0), hot_fluid=hot, cold_fluid=cold,
        arrangement=arrangement,
    )


def _pcm_bank(m: S.PCMBankModel, p: _Params, ctx: dict):
    from twin.components.pcm_bank import PCMBank

    for path, field, dim in [("mass", "mass", "mass"), ("thickness", "thickness", "length"),
                             ("h_conv", "h_conv", "heat_transfer_coefficient"),
                             ("UA_loss", "UA_loss", "thermal_conductance"),
                             ("initial_temperature", "T_initial", "temperature")]:
        p(path, field, dim)
    if m.fluid_holdup is not None:
        p("fluid_holdup", "M_fluid", "mass")
    if m.subcooling is not None:
        p("subcooling", "dT_subcooling", "temperature_difference")
    return PCMBank(
        material=_material(m.material, "material"), mass=_a(m.mass), thickness=_a(m.thickness),
        h_conv=_a(m.h_conv), M_fluid=_a(m.fluid_holdup or 0.0), UA_loss=_a(m.UA_loss),
        T_initial=_a(m.initial_temperature), fluid=_fluid(m.fluid), n_channel=m.channels,
        n_nodes=m.nodes, fluid_dynamics=m.fluid_dynamics,
        dT_hysteresis=_a(m.hysteresis or 0.0), tau_phase=_a(m.phase_time_constant),
        # subcooling needs the liquid fraction as a state; without hysteresis it is 0 K
        hysteresis=m.hysteresis is not None or m.subcooling is not None,
        dT_subcooling=_a(m.subcooling or 0.0), subcooling=m.subcooling is not None,
        surface_node=m.surface_node,
    )


def _pump(m: S.PumpModel, p: _Params, ctx: dict):
    from twin.components.pump import Pump

    if m.curve is not None:
        return _speed_controlled_pump(m, p)
    p("mass_flow", "m_flow_nominal", "mass_flow")
    p("pressure_rise", "pressure_rise", "pressure")
    p("efficiency", "efficiency", "fraction")
    return Pump(m_flow_nominal=_a(m.mass_flow), schedule=to_schedule(m.schedule),
                pressure_rise=_a(m.pressure_rise), efficiency=_a(m.efficiency),
                fluid=_fluid(m.fluid))



def _speed_controlled_pump(m: S.PumpModel, p: _Params):
    """A pump with a curve; rejects one that runs off its curve's last flow or never
    delivers at its highest speed."""
    from twin.components.pump import G_STANDARD, SpeedControlledPump, fit_pump_curve

    fluid, curve, system = _fluid(m.fluid), m.curve, m.system
    dp = curve.pressure if curve.pressure is not None else \
        [fluid.rho * G_STANDARD * H for H in curve.head]
    a, c, b, _ = fit_pump_curve(curve.flow, dp)
    p("system.flow", "V_system", "volume_flow")
    p("system.pressure_drop", "dp_system", "pressure")
    p("system.static_pressure", "p_static", "pressure")
    p("motor_efficiency", "eta_motor", "fraction")
    for k in range(len(curve.efficiency)):
        p(f"curve.efficiency.{k}", "eta_curve", "fraction", k)
    s = max(m.speed.values)
    if s > 0:
        margin = a - system.static_pressure / s**2
        if not margin > 0:
            raise ValueError(f"at its highest speed ({s:g}) the pump's shut-off pressure "
                             f"({s * s * a:.4g} Pa) does not reach the static pressure "
                             f"({system.static_pressure:.4g} Pa): it never delivers")
        k_sys = (system.pressure_drop - system.static_pressure) / system.flow**2
        q = 2.0 * margin / (c + math.sqrt(c * c + 4.0 * (b + k_sys) * margin))
        if q > curve.flow[-1] * (1.0 + 1e-9):
            raise ValueError(
                f"at its highest speed ({s:g}) the pump runs at {3600 * s * q:.4g} m^3/h, "
                f"{3600 * q:.4g} m^3/h at nominal speed, beyond its curve's last flow "
                f"({3600 * curve.flow[-1]:.4g} m^3/h): extend the curve or check system")
    return SpeedControlledPump(
        dp_shutoff=_a(a), dp_linear=_a(c), dp_quadratic=_a(b), V_curve=_a(curve.flow),
        eta_curve=_a(curve.efficiency), V_system=_a(system.flow),
        dp_system=_a(system.pressure_drop), p_static=_a(system.static_pressure),
        eta_motor=_a(m.motor_efficiency), speed=to_schedule(m.speed), fluid=fluid)

def _mould_preheater(m: S.MouldPreheaterModel, p: _Params, ctx: dict):
    from twin.components.consumer import MouldPreheater

    for path, field, dim in [("UA", "UA", "thermal_conductance"),
                             ("mould_mass", "M_moulds", "mass"),
                             ("mould_specific_heat", "cp_moulds", "specific_heat"),
                             ("mould_rate", "mould_rate", "mass_flow"),
                             ("UA_loss", "UA_loss", "thermal_conductance"),
                             ("target_temperature", "T_target", "temperature"),
                             ("initial_temperature", "T_initial", "temperature")]:
        p(path, field, dim)
    if m.fluid_holdup is not None:
        p("fluid_holdup", "M_fluid", "mass")
    return MouldPreheater(
        UA=_a(m.UA), M_moulds=_a(m.mould_mass), cp_moulds=_a(m.mould_specific_heat),
        mould_rate=_a(m.mould_rate), schedule=to_schedule(m.schedule), UA_loss=_a(m.UA_loss),
        T_target=_a(m.target_temperature), T_initial=_a(m.initial_temperature),
        M_fluid=_a(m.fluid_holdup or 0.0), fluid=_fluid(m.fluid), fluid_dynamics=m.fluid_dynamics,
    )


def _heat_demand(m: S.HeatDemandModel, p: _Params, ctx: dict):
    from twin.components.consumer import HeatDemand

    for path, field, dim in [("fluid_holdup", "M_fluid", "mass"),
                             ("min_temperature", "T_min", "temperature"),
                             ("fade_width", "dT_fade", "temperature_difference"),
                             ("initial_temperature", "T_initial", "temperature")]:
        p(path, field, dim)
    return HeatDemand(Q_demand=to_schedule(m.demand), M_fluid=_a(m.fluid_holdup),
                      T_min=_a(m.min_temperature), dT_fade=_a(m.fade_width),
                      T_initial=_a(m.initial_temperature), fluid=_fluid(m.fluid))


def _stratified_tank(m, p: _Params, ctx: dict):
    from twin.components.tank import StratifiedTank

    for path, field, dim in [("volume", "volume", "volume"), ("height", "height", "length"),
                             ("U_loss", "U_loss", "heat_transfer_coefficient"),
                             ("conductivity", "k_fluid", "thermal_conductivity"),
                             ("buoyancy_time_constant", "tau_buoyancy", "time")]:
        p(path, field, dim)
    insulated = m.insulation_thickness is not None
    if insulated:
        p("insulation_thickness", "d_insulation", "length")
        p("insulation_conductivity", "k_insulation", "thermal_conductivity")
    return StratifiedTank(volume=_a(m.volume), height=_a(m.height), U_loss=_a(m.U_loss),
                          k_fluid=_a(m.conductivity), tau_buoyancy=_a(m.buoyancy_time_constant),
                          T_initial=_a(m.initial_temperature), fluid=_fluid(m.fluid),
                          n_layers=m.layers, buoyancy=m.buoyancy,
                          d_insulation=_a(m.insulation_thickness) if insulated else None,
                          k_insulation=_a(m.insulation_conductivity) if insulated else None,
                          floor_loss=m.floor_loss)


def _regenerator(m, p: _Params, ctx: dict):
    from twin.components.regenerator import Regenerator

    for path, field, dim in [("UA", "UA", "thermal_conductance"), ("hA_ratio", "hA_ratio", "dimensionless"),
                             ("bed_heat_capacity", "C_bed", "heat_capacity")]:
        p(path, field, dim)
    half = 0.5 * m.period
    return Regenerator(UA=_a(m.UA), hA_ratio=_a(m.hA_ratio), C_bed=_a(m.bed_heat_capacity),
                       phase=Schedule(_a([0.0, half]), _a([0.0, 1.0]), period=m.period),
                       T_initial=_a(m.initial_temperature), hot_fluid=_fluid(m.hot_fluid),
                       cold_fluid=_fluid(m.cold_fluid), n_cells=m.cells)


def _pipe(m, p: _Params, ctx: dict):
    from twin.components.pipe import Pipe

    for path, field, dim in [("length", "length", "length"), ("diameter", "diameter", "length"),
                             ("U_loss", "U_loss", "thermal_conductivity")]:
        p(path, field, dim)
    if m.wall_heat_capacity is not None:
        p("wall_heat_capacity", "C_wall", "heat_capacity")
    return Pipe(length=_a(m.length), diameter=_a(m.diameter), U_loss=_a(m.U_loss),
                T_surroundings=to_schedule(m.surroundings) if m.surroundings is not None else None,
                T_initial=_a(m.initial_temperature), fluid=_fluid(m.fluid), n_cells=m.cells,
                C_wall=_a(m.wall_heat_capacity) if m.wall_heat_capacity is not None else None,
                wall_symmetric=m.wall_symmetric)


def _fab_hvac(m, p: _Params, ctx: dict):
    from twin.components.heat_users import FabHVAC
    from twin.thermo.combustion import FUELS

    for path, field, dim in [("dehumidified_temperature", "T_dehum", "temperature"), ("UA", "UA", "thermal_conductance"),
                             ("window", "window", "temperature_difference"),
                             ("backup_efficiency", "backup_efficiency", "fraction")]:
        p(path, field, dim)
    return FabHVAC(air_flow=to_schedule(m.air_flow), T_set=to_schedule(m.supply_set_point),
                   T_dehum=_a(m.dehumidified_temperature), UA=_a(m.UA), window=_a(m.window),
                   backup_efficiency=_a(m.backup_efficiency), fluid=_fluid(m.fluid),
                   backup_fuel=None if m.backup == "electric" else FUELS[m.backup])


def _district_substation(m, p: _Params, ctx: dict):
    from twin.components.heat_users import DistrictSubstation

    p("secondary_return", "T_sec_return", "temperature")
    p("UA", "UA", "thermal_conductance")
    return DistrictSubstation(Q_demand=to_schedule(m.demand), T_sec_supply=to_schedule(m.secondary_supply),
                              T_sec_return=_a(m.secondary_return), UA=_a(m.UA), fluid=_fluid(m.fluid))


def _heater(m, p: _Params, ctx: dict):
    from twin.components.heater import FiredHeater, Heater
    from twin.thermo.combustion import FUELS

    p("nominal_power", "P_nominal", "power")
    p("efficiency", "efficiency", "fraction")
    fluid = _fluid(m.fluid)
    if m.firing is not None:
        p("envelope_UA", "UA_loss", "thermal_conductance")
        dynamic = m.dynamics == "dynamic"
        if dynamic:
            p("dry_heat_capacity", "C_dry", "heat_capacity")
            p("initial_temperature", "T_initial", "temperature")
        return FiredHeater(P_nominal=_a(m.nominal_power), efficiency=_a(m.efficiency),
                           firing=to_schedule(m.firing), UA_loss=_a(m.envelope_UA),
                           M_water=_a((m.water_volume or 0.0) * fluid.rho), C_dry=_a(m.dry_heat_capacity),
                           T_initial=_a(m.initial_temperature if dynamic else 298.15), fluid=fluid,
                           fuel=None if m.energy == "electric" else FUELS[m.energy], dynamics=m.dynamics)
    return Heater(P_nominal=_a(m.nominal_power), efficiency=_a(m.efficiency),
                  T_set=to_schedule(m.set_point), dh_smooth=_a(0.1 * float(fluid.cp(298.15))),
                  fluid=fluid, fuel=None if m.energy == "electric" else FUELS[m.energy])


def _heat_pump(m, p: _Params, ctx: dict):
    from twin.components.heat_pump import HeatPump

    for path, field, dim in [("nominal_power", "Q_nominal", "power"),
                             ("carnot_efficiency", "eta_carnot", "fraction"),
                             ("approach", "dT_approach", "temperature_difference"),
                             ("source_max_cooling", "dT_source_max", "temperature_difference")]:
        p(path, field, dim)
    return HeatPump(Q_nominal=_a(m.nominal_power), eta_carnot=_a(m.carnot_efficiency),
                    dT_approach=_a(m.approach), dT_source_max=_a(m.source_max_cooling),
                    T_set=to_schedule(m.set_point), sink_fluid=_fluid(m.sink_fluid),
                    source_fluid=_fluid(m.source_fluid))


def _greenhouse(m, p: _Params, ctx: dict):
    from twin.components.greenhouse import Greenhouse

    for path, field, dim in [("air_heat_capacity", "C_air", "heat_capacity"),
                             ("soil_heat_capacity", "C_soil", "heat_capacity"),
                             ("envelope_UA", "UA_envelope", "thermal_conductance"),
                             ("soil_conductance", "G_soil", "thermal_conductance"),
                             ("ground_conductance", "G_ground", "thermal_conductance"),
                             ("pipe_UA", "UA_pipe", "thermal_conductance")]:
        p(path, field, dim)
    return Greenhouse(C_air=_a(m.air_heat_capacity), C_soil=_a(m.soil_heat_capacity),
                      UA_envelope=_a(m.envelope_UA), G_soil=_a(m.soil_conductance),
                      G_ground=_a(m.ground_conductance), T_ground=_a(m.ground_temperature),
                      UA_pipe=_a(m.pipe_UA), k_p=_a(m.valve_gain), T_set=to_schedule(m.set_point),
                      Q_solar=to_schedule(m.solar_gain), T_initial=_a(m.initial_temperature),
                      fluid=_fluid(m.fluid))


def _splitter(m, p: _Params, ctx: dict):
    from twin.components.junctions import Splitter

    return Splitter(fraction=to_schedule(m.fraction), fluid=_fluid(m.fluid), controller=m.controller)


def _controller(m, p: _Params, ctx: dict):
    from twin.components.controller import Controller

    pi = m.mode == "pi"
    if pi:
        p("kp", "kp", "per_kelvin")
        p("integral_time", "Ti", "time")
    T0 = m.initial_temperature
    return Controller(
        T_set=to_schedule(m.set_point) if pi else Schedule.constant(T0),
        kp=_a(m.kp if pi else 1.0), Ti=_a(m.integral_time), u_min=_a(m.output_min), u_max=_a(m.output_max),
        T_on=_a(m.switch_on if not pi else T0), T_off=_a(m.switch_off if not pi else T0 + 1.0),
        width=_a(m.width), tau_switch=_a(m.switch_time), tau_sensor=_a(m.sensor_time_constant),
        T_initial=_a(T0), u_initial=_a(m.initial_output), measure=m.measure, mode=m.mode, action=m.action)


def _mixer(m, p: _Params, ctx: dict):
    from twin.components.junctions import Mixer

    return Mixer(fluid=_fluid(m.fluid))


def _source(m: S.SourceModel, p: _Params, ctx: dict):
    from twin.components.boundaries import Source
    from twin.thermo.combustion import AIR_Y

    fluid = _fluid(m.fluid)
    Y = _a(AIR_Y) if fluid.is_gas else jnp.zeros(0)
    return Source(m_flow=to_schedule(m.mass_flow), T=to_schedule(m.temperature), Y=Y,
                  fluid=fluid)


def _stack(m: S.StackModel, p: _Params, ctx: dict):
    from twin.components.boundaries import Stack
    from twin.thermo.fluids import FLUE_GAS

    fluid = _fluid(m.fluid) if m.fluid is not None else ctx.get("inferred_fluid") or FLUE_GAS
    return Stack(fluid=fluid)


_BUILDERS = {
    "furnace": _furnace, "counterflow_exchanger": _exchanger, "recuperator": _exchanger, "pipe": _pipe,
    "effectiveness_exchanger": _effectiveness_exchanger,
    "regenerator": _regenerator,
    "pcm_bank": _pcm_bank,
    "pump": _pump, "mould_preheater": _mould_preheater, "heat_demand": _heat_demand,
    "stratified_tank": _stratified_tank, "heater": _heater, "heat_pump": _heat_pump,
    "greenhouse": _greenhouse, "fab_hvac": _fab_hvac, "district_substation": _district_substation, "splitter": _splitter, "mixer": _mixer,
    "source": _source, "stack": _stack, "controller": _controller,
}


def _component_classes() -> dict[str, type]:
    from twin.components.boundaries import Source, Stack
    from twin.components.consumer import HeatDemand, MouldPreheater
    from twin.components.controller import Controller
    from twin.components.effectiveness_exchanger import AbstractEffectivenessExchanger
    from twin.components.exchanger import CounterflowExchanger
    from twin.components.furnace import Furnace
    from twin.components.greenhouse import Greenhouse
    from twin.components.heat_pump import HeatPump
    from twin.components.heat_users import DistrictSubstation, FabHVAC
    from twin.components.heater import Heater
    from twin.components.junctions import Mixer, Splitter
    from twin.components.pcm_bank import PCMBank
    from twin.components.pipe import Pipe
    from twin.components.pump import Pump
    from twin.components.regenerator import Regenerator
    from twin.components.tank import StratifiedTank

    return {"furnace": Furnace, "counterflow_exchanger": CounterflowExchanger,
            "recuperator": CounterflowExchanger, "pipe": Pipe, "regenerator": Regenerator,
            "effectiveness_exchanger": AbstractEffectivenessExchanger,
            "pcm_bank": PCMBank, "pump": Pump, "mould_preheater": MouldPreheater,
            "heat_demand": HeatDemand, "stratified_tank": StratifiedTank, "heater": Heater,
            "heat_pump": HeatPump, "greenhouse": Greenhouse, "fab_hvac": FabHVAC,
            "district_substation": DistrictSubstation, "splitter": Splitter,
            "mixer": Mixer, "source": Source, "stack": Stack, "controller": Controller}


def _class_of(classes: dict[str, type], kind: str, data: dict) -> type:
    """The component class a (possibly invalid) entry stands for: its ports depend on options."""
    if kind == "furnace" and data.get("combustion_air") == "preheated":
        from twin.components.furnace import AirPreheatFurnace

        return AirPreheatFurnace
    return classes[kind]


def build_component(name: str, model: Any, parameters: dict[str, ParameterRef] | None = None,
                    context: dict | None = None):
    """Build one component from its validated model.

    Parameters
    ----------
    name
        Component name (prefix of the recorded parameter paths).
    model
        A component model of :mod:`twin.scenario.schema`.
    parameters
        If given, scenario path -> :class:`ParameterRef` entries are added to it.
    context
        ``{"inferred_fluid": fluid}`` for a stack without ``fluid:``.

    Returns
    -------
    AbstractComponent
        The component, parameters as float64 JAX arrays.

    Raises
    ------
    ValueError
        From the component's own checks.
    """
    return _BUILDERS[model.type](model, _Params(name, {} if parameters is None else parameters),
                                 context or {})


# ---------------------------------------------------------------------- wiring
class _AnyName(str):
    """A fluid name equal to every other (stubs must not report fluid mismatches)."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = str.__hash__


@dataclasses.dataclass(frozen=True)
class _AnyFluid:
    name: str = _AnyName("?")


class _Stub:
    """Ports of a component that could not be built, for the wiring check only."""

    def __init__(self, cls: type):
        self.inlets, self.outlets, self.flow_paths = cls.inlets, cls.outlets, cls.flow_paths
        self._cls = cls

    def port_fluid(self, port: str) -> _AnyFluid:
        return _AnyFluid()

    def thermal_inputs(self, port: str) -> tuple[str, ...]:
        return ()

    def mass_inputs(self, port: str) -> tuple[str, ...]:
        # the class's rule depends on its ports only (flow paths, or fixed inlet names)
        return self._cls.mass_inputs(self, port)


class _AllPorts(tuple):
    """An empty port list that nevertheless contains every port name."""

    def __contains__(self, item: object) -> bool:
        return True


class _Wildcard(_Stub):
    """A component of unknown type: any port name is accepted, none is required."""

    def __init__(self):
        self.inlets, self.outlets, self.flow_paths = _AllPorts(), _AllPorts(), {}

    def mass_inputs(self, port: str) -> tuple[str, ...]:
        return ()


_PORT_RE = re.compile(r"^(?:inlet|outlet) ([A-Za-z_]\w*)\.")  # "inlet pump.inlet is not ..."
_FIRST_RE = re.compile(r"is already connected \(connection (\d+)\)$")


def _wiring_problems(err: WiringError, file: str, linemap: LineMap,
                     index_map: Sequence[int], names: Iterable[str]) -> list[Problem]:
    names = set(names)
    out = []
    for k, message in err.problems:
        if k is not None:
            path: tuple = ("connections", index_map[k])
        else:
            m = _PORT_RE.match(message)
            path = ("components", m.group(1)) if m and m.group(1) in names else ("connections",)
        first = _FIRST_RE.search(message)  # "(connection 3)": 1-based among the well-formed pairs
        if first is not None and 0 < int(first.group(1)) <= len(index_map):
            j = index_map[int(first.group(1)) - 1]
            message += f"; first connected at connections.{j} (line {linemap.line(('connections', j))})"
        where, line = linemap.locate(path, file)
        out.append(Problem(where, line, ".".join(map(str, path)), "", message))
    return out


def _check_wiring(components: dict, connections: list[tuple[int, str, str]], T_ambient: Schedule,
                  file: str, linemap: LineMap, **plant_options) -> tuple[Plant | None, list[Problem]]:
    pairs = [(a, b) for _, a, b in connections]
    try:
        return build_plant(components, pairs, T_ambient, **plant_options), []
    except WiringError as err:
        return None, _wiring_problems(err, file, linemap, [k for k, _, _ in connections],
                                      components)


# ---------------------------------------------------------------------- loading
def _parse_override(text: str) -> tuple[str, str]:
    path, eq, value = text.partition("=")
    if not eq or not path.strip():
        raise ScenarioError.single("--set", None, "", repr(text),
                                   "expected path=value, e.g. 'recuperator.UA=30 kW/K'")
    return path.strip(), value.strip()


def _raw_components(data: dict) -> dict[str, Any]:
    comps = data.get("components")
    return comps if isinstance(comps, dict) else {}


def _raw_connections(data: dict) -> list[tuple[int, str, str]]:
    """Well-formed ``[a.b, c.d]`` pairs of the raw data, with their index in the file."""
    conns = data.get("connections")
    out = []
    for k, c in enumerate(conns if isinstance(conns, list) else []):
        if (isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) for x in c)
                and all(S.is_port_ref(x) for x in c)):
            out.append((k, c[0], c[1]))
    return out


def _infer_stack_fluid(name: str, built: dict, connections: list[tuple[int, str, str]]):
    for _, a, b in connections:
        if b == f"{name}.inlet":
            src, _, port = a.partition(".")
            if src in built and not isinstance(built[src], _Stub):
                try:
                    return built[src].port_fluid(port)
                except Exception:
                    return None
    return None


def load_scenario(path: str | Path, overrides: Sequence[str] = (), *, strict: bool = False) -> Scenario:
    """Read, validate and build a scenario file.

    Parameters
    ----------
    path
        The scenario YAML file.
    overrides
        ``"path=value"`` strings (the CLI's ``--set``), e.g. ``"recuperator.UA=30 kW/K"`` or
        ``"solver.rtol=1e-8"``; applied to the file's data before validation, so they are
        validated exactly like the file. Problems in them are reported as ``--set: ...``.
    strict
        Treat implausible values (:mod:`twin.scenario.plausible`) as problems; otherwise
        they are returned as :attr:`Scenario.warnings`.

    Returns
    -------
    Scenario
        The validated model, the built plant and the solver settings.

    Raises
    ------
    ScenarioError
        With every problem found: YAML, schema, schedule references, component
        construction and wiring, one ``file:line: path: given, accepted`` per line.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError.single(file, None, "", "", f"cannot read the file: {exc}") from None
    data, linemap = load_yaml_text(text, file, leading_zeros=False)
    problems: list[Problem] = []

    overrides = tuple(overrides)
    for item in overrides:
        try:
            key, value = _parse_override(item)
            data = apply_override(data, key, value, linemap=linemap,
                                  top_level_keys=S.ScenarioModel.model_fields)
        except ScenarioError as err:
            problems.extend(err.problems)

    version = data.get("schema_version", S.SCHEMA_VERSION)
    if version != S.SCHEMA_VERSION:  # a different schema: the rest cannot be judged
        where, line = linemap.locate(("schema_version",), file)
        msg = (f"this version of twin reads schema_version {S.SCHEMA_VERSION} only (a file for "
               f"schema {version!r} needs the twin release that defines it)")
        raise ScenarioError([*problems, Problem(where, line, "schema_version", repr(version), msg)])

    model = None
    try:
        model = S.ScenarioModel.model_validate(
            data, context={"base_dir": str(Path(path).resolve().parent)})
    except ValidationError as exc:
        problems.extend(problems_from_pydantic(exc, file, linemap, data, S.ScenarioModel))

    raw_conns = _raw_connections(data)
    classes = _component_classes()
    built: dict[str, Any] = {}
    parameters: dict[str, ParameterRef] = {}
    if model is not None:
        order = sorted(model.components, key=lambda n: model.components[n].type == "stack")
        T_ambient = to_schedule(model.ambient.temperature)
        for name in order:
            cm = model.components[name]
            ctx = {"T_ambient_initial": float(T_ambient(0.0))}
            if cm.type == "stack":
                ctx["inferred_fluid"] = _infer_stack_fluid(name, built, raw_conns)
            try:
                built[name] = build_component(name, cm, parameters, ctx)
            except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
                field = getattr(exc, "field", None)  # a _FieldError names the field at fault
                at = ("components", name, *(field.split(".") if field else ()))
                where, line = linemap.locate(at, file)
                problems.append(Problem(where, line, ".".join(at), "",
                                        f"cannot build this {cm.type}: {exc}"))
                built[name] = _Stub(_class_of(classes, cm.type, {"combustion_air": getattr(cm, "combustion_air", None)}))
    else:
        for name, raw in _raw_components(data).items():
            kind = raw.get("type") if isinstance(raw, dict) else None
            if isinstance(name, str):
                known = isinstance(kind, str) and kind in classes
                built[name] = _Stub(_class_of(classes, kind, raw)) if known else _Wildcard()
        T_ambient = Schedule.constant(288.15)

    options = _plant_options(model) if model is not None else {}
    plant, wiring = _check_wiring(built, raw_conns, T_ambient, file, linemap, **options)
    problems.extend(wiring)
    if plant is not None and model is not None:
        problems.extend(_check_kpi_refs(model, plant, file, linemap))
    warnings: list[Problem] = []
    if model is not None:
        problems.extend(_check_sweep_block(model, file, linemap))
        warnings = implausible_values(model, data, file, linemap)
        if strict:
            problems.extend(warnings)
    if problems:
        raise ScenarioError(problems)
    assert model is not None and plant is not None
    solver = model.solver
    config = SolverConfig(method=solver.method, rtol=solver.rtol, atol=solver.atol,
                          max_steps=solver.max_steps, pcoeff=solver.pcoeff,
                          icoeff=solver.icoeff, dtmax=solver.dtmax)
    return Scenario(
        name=model.name, path=Path(path), text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), model=model, plant=plant,
        solver=config, duration=model.duration, output_interval=model.output_interval,
        checks=list(model.checks), overrides=overrides, parameters=parameters,
        kpi_config=_kpi_config(model, plant), pinch=_pinch_config(model),
        warnings=tuple(warnings),
    )


def _check_sweep_block(model: S.ScenarioModel, file: str, linemap: LineMap) -> list[Problem]:
    """The ``sweep:`` block's axes read as ``twin sweep`` will read them: a range with finite
    ends from low to high, or levels (not with Latin-hypercube sampling)."""
    from twin.sweep.spec import SweepSpecError, _axis

    if model.sweep is None:
        return []
    out = []
    for name, text in model.sweep.parameters.items():
        at = ("sweep", "parameters", name)
        where = ".".join(at)
        try:
            axis = _axis(name, text, where)
        except SweepSpecError as exc:
            message = str(exc).removeprefix(f"{where}: ")
        else:
            if model.sweep.method != "lhs" or axis.levels is None:
                continue
            message = "Latin hypercube sampling needs a range LOW..HIGH, not levels"
        out.append(Problem(*linemap.locate(at, file), where, repr(text), message))
    return out


def _plant_options(model: S.ScenarioModel) -> dict:
    """Dead state and time-varying economics for :func:`twin.core.plant.build_plant`."""
    econ = model.economics
    options: dict[str, Any] = {"T_dead": model.ambient.dead_state}
    if model.pinch is not None:
        options["pinch_targets"] = {st.connection: st.target for st in model.pinch.streams.values()
                                    if st.connection is not None}
    if econ is not None and (econ.grid_co2 is not None or econ.electricity_price is not None):
        zero = Schedule.constant(0.0)
        options["economics"] = Economics(
            grid_co2=to_schedule(econ.grid_co2) if econ.grid_co2 is not None else zero,
            electricity_price=to_schedule(econ.electricity_price) if econ.electricity_price is not None else zero,
        )
    return options


def _phases(name: str, sched: S.NamedSchedule, duration: float) -> tuple[tuple[float, ...], Any]:
    """Times where the named schedule changes value within the run, and a labeller."""
    times, values, period = list(sched.times), list(sched.values), sched.period
    changes = [t for k, t in enumerate(times)
               if sched.kind == "linear" or k == 0 or values[k] != values[k - 1]]
    if period is not None and sched.kind == "step" and values[0] == values[-1] and len(times) > 1:
        changes = changes[1:]  # the wrap-around repeats the last value: no change at 0
    reps = range(math.ceil(duration / period) + 1) if period is not None else (0,)
    cuts = sorted({k * (period or 0.0) + t for k in reps for t in changes
                   if 0.0 < k * (period or 0.0) + t < duration})

    def label(t: float) -> str:
        tt = t % period if period is not None else t
        k = max(i for i, ti in enumerate(times) if ti <= tt)
        v = values[k]
        return f"{name} = {v:g}" if isinstance(v, float) else f"{name} = {v}"

    return tuple(cuts), label


def _pinch_config(model: S.ScenarioModel) -> PinchConfig | None:
    pm = model.pinch
    if pm is None:
        return None
    streams = tuple(
        RunStream(name, st.target, connection=st.connection, supply=st.supply,
                  CP=(None if st.heat_capacity_rate is None else to_schedule(st.heat_capacity_rate)))
        for name, st in pm.streams.items())
    cuts, label = ((), lambda t: "")
    if pm.phases is not None:
        cuts, label = _phases(pm.phases, model.schedules[pm.phases], model.duration)
    return PinchConfig(streams, pm.dT_min, min(pm.slice, model.duration), cuts, label)


def _kpi_config(model: S.ScenarioModel, plant: Plant) -> KPIConfig:
    rec, econ = model.recovery, model.economics
    cfg: dict[str, Any] = {"has_grid": plant.economics is not None, "duration": model.duration}
    if rec is not None:
        cfg.update(waste_heat=tuple(rec.waste_heat), recovered=tuple(rec.recovered),
                   delivered=tuple(rec.delivered))
    if econ is not None:
        cfg.update(currency=econ.currency, fuel_price=econ.fuel_price,
                   output_value=tuple(econ.output_value.items()), output_rate=econ.output_rate)
    return KPIConfig(**cfg)


def _check_kpi_refs(model: S.ScenarioModel, plant: Plant, file: str, linemap: LineMap) -> list[Problem]:
    """Every name in ``recovery:``, ``economics.output_value``, a controller's ``measure`` and a
    splitter's ``controller`` must exist in the plant."""
    out = []
    comps = plant.components
    outlets = sorted(f"{c}.{p}" for c, comp in comps.items() for p in comp.outlets)

    def terms(c):
        comp = comps[c]
        return (*comp.tally_names, *comp.flow_names)

    def bad(path: tuple, given: str, accepted: str):
        where, line = linemap.locate(path, file)
        out.append(Problem(where, line, ".".join(map(str, path)), repr(given), accepted))

    controllers = sorted(n for n, cm in model.components.items() if cm.type == "controller")
    for name, cm in model.components.items():
        if cm.type == "controller" and cm.measure not in outlets:
            bad(("components", name, "measure"), cm.measure, f"a connected outlet: {', '.join(outlets)}")
        if cm.type == "splitter" and cm.controller is not None and cm.controller not in controllers:
            bad(("components", name, "controller"), cm.controller,
                f"the name of a controller: {', '.join(controllers) or 'none defined'}")
    if model.recovery is not None:
        for k, ref in enumerate(model.recovery.waste_heat):
            if ref not in outlets:
                bad(("recovery", "waste_heat", k), ref, f"a connected outlet: {', '.join(outlets)}")
        for field in ("recovered", "delivered"):
            for k, ref in enumerate(getattr(model.recovery, field)):
                c, _, t = ref.partition(".")
                if c not in comps:
                    bad(("recovery", field, k), ref, f"a component's tally; components: {', '.join(comps)}")
                elif t not in terms(c):
                    bad(("recovery", field, k), ref, f"a tally or flow of {c}: {', '.join(terms(c))}")
    if model.pinch is not None:
        for name, st in model.pinch.streams.items():
            if st.connection is not None and st.connection not in outlets:
                bad(("pinch", "streams", name, "connection"), st.connection,
                    f"a connected outlet: {', '.join(outlets)}")
    for k, chk in enumerate(model.checks):
        if isinstance(chk, S.SignalCheckModel):
            units = signal_units(plant, chk.compare)
            if units is None:
                bad(("checks", k, "compare"), chk.compare,
                    "a signal of a component (component.signal) or a connection (component.port.T)")
            else:
                try:
                    parse_quantity(chk.tolerance, UNIT_DIMENSIONS.get(units, "dimensionless"))
                except UnitError as exc:
                    bad(("checks", k, "tolerance"), chk.tolerance, f"a tolerance in {units}: {exc}")
    if model.economics is not None:
        for ref in model.economics.output_value:
            c, _, t = ref.partition(".")
            mass = [k for k in comps[c].tally_names if comps[c].tally_units.get(k, "kg/s") == "kg/s"] if c in comps else []
            if t not in mass:
                accepted = (f"a mass tally of {c}: {', '.join(mass) or 'none'}" if c in comps
                            else f"a component's mass tally; components: {', '.join(comps)}")
                bad(("economics", "output_value", ref), ref, accepted)
    return out


#: dimension of a tolerance given for a signal with these units (scenario signal checks)
UNIT_DIMENSIONS = {"K": "temperature_difference", "W": "power", "J": "energy", "kg/s": "mass_flow",
                   "kg": "mass", "J/kg": "specific_energy", "1": "dimensionless"}


def signal_units(plant: Plant, name: str) -> str | None:
    """Units of the results-file signal ``name`` of ``plant`` (``component.signal``,
    ``component.state``, ``component.port.T``, ``component.port.m_flow``), None if unknown."""
    comp, _, rest = name.partition(".")
    if comp not in plant.components:
        return None
    c = plant.components[comp]
    if rest in c.signal_info:
        return c.signal_info[rest][0]
    if rest in c.state_info:
        return c.state_info[rest][0]
    if rest in ("E_stored", "X_stored"):
        return "J"
    port, _, q = rest.partition(".")
    if port in c.outlets and q in ("T", "m_flow"):
        return {"T": "K", "m_flow": "kg/s"}[q]
    return None


def check_scenario(path: str | Path, overrides: Sequence[str] = (), *, strict: bool = False) -> Scenario:
    """Validate a scenario and build its plant without running it (``twin check``).

    Same as :func:`load_scenario`.
    """
    return load_scenario(path, overrides, strict=strict)
