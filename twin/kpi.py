"""Key performance indicators, defined once, computed from the audit of a run.

Every KPI is a plain float in SI units (money in the scenario's currency), named as scenario
``checks:`` refer to it. A KPI whose inputs the scenario does not define (no ``recovery:``
boundary, no ``economics:``) is NaN and printed as "n/a".

==========================  ========  =====================================================
name                        units     definition
==========================  ========  =====================================================
energy_closure              1         plant first-law closure |E_in - E_out - ΔE| / E_in
energy_in                   J         all energy entering the plant (fuel LHV, electricity, ...)
fuel_energy                 J         Σ fuel flows (lower heating value basis)
electricity                 J         Σ electricity drawn (furnaces, heaters, pumps, heat pumps)
heat_recovered              J         Σ heat passed from hot to cold side in exchangers and
                                      taken from sources by heat pumps
heat_delivered              J         Σ heat delivered to uses (consumers)
heat_losses                 J         Σ heat lost to ambient (walls, shells, envelopes)
stack_loss                  J         enthalpy discharged at stacks/sinks (relative to 298.15 K)
storage_change              J         change of energy stored in the plant
exergy_supplied             J         X_in = Σ exergy of boundary inflows (fuel φ·LHV,
                                      electricity, solar, supplied streams)
exergy_destroyed            J         X_D = Σ_components T0 S_gen (:mod:`twin.audit`)
exergy_delivered            J         X_P = Σ useful exergy: product and preheated moulds over
                                      their cold state, heat to uses at its temperature
exergy_efficiency           1         ψ = X_P / X_in (rational efficiency, Kotas 1985)
waste_heat_available        J         Q_w = Σ over the scenario's ``recovery.waste_heat``
                                      connections of ∫ m (h - h(T0)) dt: the heat released
                                      if those streams were cooled to the dead state
waste_heat_recovered        J         Q_r = Σ ``recovery.recovered`` (heat taken from them)
recovered_heat_delivered    J         Q_u = Σ ``recovery.delivered`` (recovered heat put to use)
waste_heat_recovered_share  1         Q_r / Q_w, the share of waste heat recovered as the EU
                                      Energy Efficiency Directive (EU) 2023/1791 art. 26
                                      counts it (recovered at the source)
recapture_rate              1         Q_u / Q_w, the energy recapture rate (recovered heat
                                      that reached a use)
co2_fuel                    kg        CO2 from fuel carbon and from batch carbonates
co2_grid                    kg        ∫ P_el(t) f_grid(t) dt, with the grid's time-varying factor
co2_mass                    kg        co2_fuel + co2_grid (the grid part only when the
                                      scenario gives ``economics.grid_co2``)
energy_cost                 currency  fuel (LHV) x fuel price + ∫ P_el(t) price(t) dt
output_value                currency  Σ ``economics.output_value`` x the tallied output,
                                      plus ``economics.output_rate`` x the duration
carbon_intensity            kg/cur.   co2_mass / output_value
circularity                 1         recycled material in / all material in (e.g. cullet
                                      share of a glass furnace's charge)
specific_energy             J/kg      (fuel + electricity) / good product (Σ ``good_mass`` tallies: the
                                      furnace's pull times its forming yield), the GJ/t
                                      figure of the BREFs
material_yield              1         good product / product pulled (1 - scrap share)
heat_recovery_target        J         pinch target of direct heat recovery between the
                                      scenario's ``pinch:`` streams, Σ over time slices of
                                      Q_rec,max x duration (time-slice model, :mod:`twin.pinch`)
heat_recovery_target_storage J        the same streams targeted as run means: the most any
                                      network with ideal heat storage could recover
                                      (time-average model)
heat_recovery_attainment    1         Q_r / heat_recovery_target_storage: how close the
                                      simulated plant comes to the target
==========================  ========  =====================================================

References
----------
.. [1] T. J. Kotas, *The Exergy Method of Thermal Plant Analysis*, Butterworths, 1985, ch. 3
   (rational efficiency).
.. [2] Directive (EU) 2023/1791 on energy efficiency, art. 26 and annex XI (waste heat).
.. [3] Ellen MacArthur Foundation & Granta Design, *Circularity Indicators*, 2015 (recycled
   feedstock fraction, the first term of the material circularity indicator).
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp

from twin.audit import Audit, positive_part, select, traced

_NAN = math.nan


@dataclasses.dataclass(frozen=True)
class KPIConfig:
    """What the scenario says about the KPI boundary and the economics.

    Parameters
    ----------
    waste_heat : Connections ``"component.outlet"`` carrying recoverable waste heat.
    recovered : Terms ``"component.tally"`` (or a boundary flow, counted as it leaves) of heat
        recovered from them.
    delivered : Terms of recovered heat delivered to a use.
    currency : Name of the currency of every price (e.g. ``"EUR"``).
    fuel_price : Price of fuel per unit of LHV energy, or None. [currency/J]
    output_value : ``(("component.tally", value per unit of the tally), ...)``, e.g. the
        product mass of a furnace at [currency/kg].
    output_rate : Value of the plant's output per unit time, for plants whose product is
        not modelled as a mass (a fab, a cell plant), or None. [currency/s]
    duration : Length of the run. [s]
    has_grid : Whether grid CO2 and electricity prices were integrated with the run.
    """

    waste_heat: tuple[str, ...] = ()
    recovered: tuple[str, ...] = ()
    delivered: tuple[str, ...] = ()
    currency: str = "EUR"
    fuel_price: float | None = None
    output_value: tuple[tuple[str, float], ...] = ()
    output_rate: float | None = None
    duration: float = 0.0
    has_grid: bool = False


def units(currency: str = "EUR") -> dict[str, str]:
    """Units of every KPI (money in ``currency``)."""
    return {
        "energy_closure": "1", "energy_in": "J", "fuel_energy": "J", "electricity": "J",
        "heat_recovered": "J", "heat_delivered": "J", "heat_losses": "J", "stack_loss": "J",
        "storage_change": "J", "exergy_supplied": "J", "exergy_destroyed": "J",
        "exergy_delivered": "J", "exergy_efficiency": "1", "waste_heat_available": "J",
        "waste_heat_recovered": "J", "recovered_heat_delivered": "J",
        "waste_heat_recovered_share": "1", "recapture_rate": "1", "co2_fuel": "kg",
        "co2_grid": "kg", "co2_mass": "kg", "energy_cost": currency, "output_value": currency,
        "carbon_intensity": f"kg/{currency}", "circularity": "1",
        "specific_energy": "J/kg", "material_yield": "1",
        "heat_recovery_target": "J", "heat_recovery_target_storage": "J",
        "heat_recovery_attainment": "1",
    }


#: one-line description of every KPI (the results file's ``long_name``)
DESCRIPTIONS = {
    "energy_closure": "plant first-law closure |E_in - E_out - dE_stored| / E_in",
    "energy_in": "energy entering the plant (fuel LHV, electricity, supplies)",
    "fuel_energy": "fuel drawn, lower heating value basis",
    "electricity": "electricity drawn",
    "heat_recovered": "heat recovered in exchangers and by heat pumps",
    "heat_delivered": "heat delivered to uses",
    "heat_losses": "heat lost to ambient through walls, shells and envelopes",
    "stack_loss": "enthalpy discharged at stacks and sinks (relative to 298.15 K)",
    "storage_change": "change of energy stored in the plant",
    "exergy_supplied": "exergy of the boundary inflows (fuel, electricity, solar, supplies)",
    "exergy_destroyed": "exergy destroyed in the plant, T0 S_gen",
    "exergy_delivered": "useful exergy delivered (product, preheated moulds, heat to uses)",
    "exergy_efficiency": "rational exergy efficiency, exergy delivered / exergy supplied",
    "waste_heat_available": "recoverable waste heat: enthalpy above the dead state in the waste-heat streams",
    "waste_heat_recovered": "heat recovered from the waste-heat streams",
    "recovered_heat_delivered": "recovered heat delivered to a use",
    "waste_heat_recovered_share": "share of waste heat recovered (EU EED 2023/1791 art. 26)",
    "recapture_rate": "energy recapture rate: recovered heat delivered to use / recoverable waste heat",
    "co2_fuel": "CO2 from fuel carbon and batch carbonates",
    "co2_grid": "CO2 of the grid electricity drawn (time-varying factor)",
    "co2_mass": "CO2 emitted in total (fuel, process and grid)",
    "energy_cost": "cost of fuel and electricity",
    "output_value": "value of the plant's output",
    "carbon_intensity": "CO2 per unit of output value",
    "circularity": "recycled material in / all material in",
    "specific_energy": "fuel and electricity per kg of good product",
    "material_yield": "good product / product pulled",
    "heat_recovery_target": "pinch target of direct heat recovery (time slices)",
    "heat_recovery_target_storage": "pinch target of heat recovery with ideal storage (time average)",
    "heat_recovery_attainment": "heat recovered / pinch target with ideal storage",
}

#: the KPIs of the pinch analysis, computed from the trajectory by twin.pinch (NaN here)
PINCH_KPIS = ("heat_recovery_target", "heat_recovery_target_storage", "heat_recovery_attainment")

#: KPI names with their units in the default currency (for check validation and docs)
UNITS = units()
_LOSS_FLOWS = ("wall_loss", "shell_loss", "envelope_loss", "heat_loss")


def _isnan(x) -> bool:
    return jnp.isnan(x) if traced(x) else math.isnan(x)


def _ratio(a, b):
    """``a / b``, NaN where ``b <= 0`` or ``a`` is not finite (floats or traced scalars)."""
    if traced(a) or traced(b):  # the divisor is guarded so that no branch has a NaN gradient
        ok = (b > 0) & jnp.isfinite(a)
        return jnp.where(ok, a / jnp.where(b > 0, b, 1.0), _NAN)
    return a / b if b > 0 and math.isfinite(a) else _NAN


def term(report: Audit, ref: str) -> float:
    """Value of ``"component.name"`` over the run: a tally, or a boundary flow counted as it
    leaves the component (heat delivered to a use is a negative inflow). [J] or [kg]"""
    comp, _, name = ref.partition(".")
    if name in report.tallies.get(comp, {}):
        return report.tallies[comp][name]
    if comp in report.components and name in report.components[comp].flows:
        return -report.components[comp].flows[name]
    raise KeyError(f"{ref!r} is neither a tally nor a boundary flow of a component")


def kpis(report: Audit, config: KPIConfig | None = None) -> dict[str, float]:
    """All KPIs of :func:`units` from a run's audit and the scenario's :class:`KPIConfig`.

    Host floats after a run; traced scalars when the audit was made inside a JAX
    transformation (:mod:`twin.sensitivity` differentiates them)."""
    cfg = config or KPIConfig()
    flows, xflows = report.plant.flows, report.plant_exergy.flows

    def total(suffixes, sign=1.0):
        return sum(sign * v for k, v in flows.items() if k.rsplit(".", 1)[1] in suffixes)

    def tally(name):
        return sum(t.get(name, 0.0) for t in report.tallies.values())

    x_in = sum(positive_part(v) for v in xflows.values())
    x_p = tally("exergy_delivered")
    fuel = total(("fuel",))
    el = total(("electricity",))
    q_w = sum(report.connections[c]["heat"] for c in cfg.waste_heat) if cfg.waste_heat else _NAN
    # with a waste-heat boundary, nothing listed as recovered means nothing recovered
    q_r = sum(term(report, r) for r in cfg.recovered) if cfg.waste_heat else _NAN
    q_u = sum(term(report, r) for r in cfg.delivered) if cfg.waste_heat else _NAN
    co2_fuel = tally("co2")
    co2_grid = report.economics.get("grid_co2", select(el > 0, _NAN, 0.0))
    co2 = co2_fuel + select(_isnan(co2_grid), 0.0, co2_grid)
    cost = _NAN
    if cfg.fuel_price is not None or cfg.has_grid:
        fuel_cost = fuel * cfg.fuel_price if cfg.fuel_price is not None else select(fuel > 0, _NAN, 0.0)
        el_cost = report.economics.get("electricity_cost", select(el > 0, _NAN, 0.0))
        cost = fuel_cost + el_cost
    value = _NAN
    if cfg.output_value or cfg.output_rate is not None:
        value = sum(term(report, ref) * v for ref, v in cfg.output_value) + (cfg.output_rate or 0.0) * cfg.duration
    return {
        "energy_closure": report.plant.closure,
        "energy_in": report.plant.E_in,
        "fuel_energy": fuel,
        "electricity": el,
        "heat_recovered": tally("heat_recovered"),
        "heat_delivered": tally("heat_delivered") + total(("heat_delivered",), -1.0),
        "heat_losses": total(_LOSS_FLOWS, -1.0),
        "stack_loss": total(("discharge",), -1.0),
        "storage_change": report.plant.dE_stored,
        "exergy_supplied": x_in,
        "exergy_destroyed": report.plant_exergy.destruction,
        "exergy_delivered": x_p,
        "exergy_efficiency": _ratio(x_p, x_in),
        "waste_heat_available": q_w,
        "waste_heat_recovered": q_r,
        "recovered_heat_delivered": q_u,
        "waste_heat_recovered_share": _ratio(q_r, q_w),
        "recapture_rate": _ratio(q_u, q_w),
        "co2_fuel": co2_fuel,
        "co2_grid": co2_grid,
        "co2_mass": co2,
        "energy_cost": cost,
        "output_value": value,
        "carbon_intensity": _ratio(co2, value),
        "circularity": _ratio(tally("recycled_mass"), tally("charge_mass")),
        "specific_energy": _ratio(fuel + el, tally("good_mass")),
        "material_yield": _ratio(tally("good_mass"), tally("product_mass")),
        **dict.fromkeys(PINCH_KPIS, _NAN),  # see twin.run, from the trajectory
    }
