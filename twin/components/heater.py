"""Heater (electric heater or fuel-fired boiler) heating a stream to a set point, or at a
prescribed firing ratio (``FiredHeater``, below).

``Heater`` is a quasi-steady, flow-through heater with ideal control up to its capacity, as Modelica
Buildings' ``Fluid.HeatExchangers.Heater_T`` (prescribed outlet temperature, limited
heating power), extended with a conversion efficiency: the heat to the fluid is

    Q = m · clip(h(T_set) - h_in, 0, P_nominal / m),

the energy drawn is ``Q / η`` (electricity, or fuel on a lower-heating-value basis with the
CO2 of its carbon), and ``Q (1/η - 1)`` is lost to ambient (counted at the ambient
temperature: its exergy is destroyed inside the heater). The clip is smoothed over
``dh_smooth`` (about 0.1 K of liquid) so gradients exist at the set point and at capacity.
With no flow nothing is heated. Energy balances exactly: ``m h_out = m h_in + Q``.

``FiredHeater`` is the same heater or boiler driven by its firing (part-load) ratio instead
of a set point, as Modelica Buildings' ``Fluid.Boilers.BoilerPolynomial`` [3] (and, electric,
``Fluid.HeatExchangers.HeaterCooler_u``): at firing ``y(t)`` the burner (or element) puts
``Q_fire = y P_nominal`` into the water, drawing ``Q_fire / η`` (the difference is the
conversion loss, flue gas and casing, as above), and the water and the boiler's metal lose
``UA_loss (T - T_amb)`` through the envelope. With ``dynamics="dynamic"`` the water hold-up
``M_water`` and the dry (metal) capacity ``C_dry`` form one well-mixed volume at ``T``
(Buildings lumps the metal to the water the same way, ``heaCapDry`` on ``vol.heatPort``),
whose enthalpy ``H = M_water h(T) + C_dry (T - 298.15 K)`` is the state:

    dH/dt = m (h_in - h(T)) + y P_nominal - UA_loss (T - T_amb),

and the outlet leaves at ``T``. With ``dynamics="steady_state"`` (Buildings'
``energyDynamics=SteadyState``) there is no state and ``T_out`` solves
``m (h(T_out) - h_in) = y P_nominal - UA_loss (T_out - T_amb)``, a quadratic in ``T_out``
for the liquids' linear cp, solved in closed form; the envelope loss reported is what the
balance leaves, so energy closes to round-off either way.

References
----------
[1] Wetter, M. et al., Modelica Buildings library, ``Buildings.Fluid.HeatExchangers.Heater_T``.
[2] EN 15316-4-1 (boiler efficiency on the net calorific value basis).
[3] Wetter, M. et al., Modelica Buildings library, ``Buildings.Fluid.Boilers.BoilerPolynomial``
    and ``Boilers.BaseClasses.PartialBoiler`` (water volume ``VWat = 1.5e-6 Q_nominal`` m^3,
    dry mass ``mDry = 1.5e-3 Q_nominal`` kg at 500 J/(kg K), ``UA = 0.05 Q_nominal / 30`` W/K).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core import exergy
from twin.core.component import AbstractComponent, AbstractStatelessComponent
from twin.core.schedule import Schedule
from twin.core.smooth import smooth_clip
from twin.core.stream import Stream
from twin.thermo import combustion
from twin.thermo.fluids import T_REF

_M_EPS = 1e-9  # [kg/s]


class Heater(AbstractStatelessComponent):
    """Set-point heater with limited capacity (see module docstring).

    Ports
    -----
    inlet, outlet : The heated liquid.

    Parameters
    ----------
    P_nominal : Largest heat flow to the fluid. [W]
    efficiency : Heat to the fluid over energy drawn, in (0, 1]. [-]
    T_set : Outlet set point over time. [K]
    dh_smooth : Width of the smooth clip. [J/kg]
    fuel : A fuel for a boiler, or None for an electric heater (static).
    fluid : The heated liquid (static).
    """

    P_nominal: jnp.ndarray
    efficiency: jnp.ndarray
    T_set: Schedule
    dh_smooth: jnp.ndarray
    fluid: object = eqx.field(static=True)
    fuel: combustion.Fuel | None = eqx.field(static=True, default=None)

    inlets: ClassVar = ("inlet",)
    outlets: ClassVar = ("outlet",)
    flow_paths: ClassVar = {"outlet": "inlet"}
    flow_names: ClassVar = ("electricity", "fuel", "conversion_loss")
    tally_names: ClassVar = ("co2", "heat_supplied")
    tally_units: ClassVar = {"co2": "kg/s", "heat_supplied": "W"}
    signal_info: ClassVar = {
        "Q_flow": ("W", "heat supplied to the fluid", ()),
        "P_input": ("W", "electricity or fuel (LHV) drawn", ()),
    }

    def thermal_inputs(self, port):
        return ("inlet",)

    def _dh(self, ctx, s: Stream):
        m_safe = jnp.where(s.m_flow > _M_EPS, s.m_flow, 1.0)
        dh = smooth_clip(self.fluid.h(self.T_set(ctx.t)) - s.h, 0.0, self.P_nominal / m_safe, self.dh_smooth)
        return jnp.where(s.m_flow > _M_EPS, dh, 0.0)

    def outlet(self, ctx, x, port, inlets):
        s = inlets["inlet"]
        h = s.h + self._dh(ctx, s)
        return Stream(s.m_flow, self.fluid.T(h), h, s.Y)

    def rhs(self, ctx, x, inlets, outlets):
        s = inlets["inlet"]
        Q = s.m_flow * (outlets["outlet"].h - s.h)
        P = Q / self.efficiency
        fuel = self.fuel is not None
        flows = {
            "electricity": exergy.nothing() if fuel else exergy.work(P),
            "fuel": exergy.fuel(P, combustion.exergy_factor(self.fuel)) if fuel else exergy.nothing(),
            "conversion_loss": exergy.heat(Q - P, ctx.T_ambient, ctx.T0),
        }
        co2 = 0.0
        if fuel:
            co2 = P / combustion.lower_heating_value(self.fuel) * combustion.flue_gas(self.fuel, 0.0).co2_per_kg_fuel
        return jnp.zeros(0), flows, {"co2": jnp.asarray(co2, dtype=float), "heat_supplied": Q}

    def signals(self, ctx, x, inlets, outlets):
        s = inlets["inlet"]
        Q = s.m_flow * (outlets["outlet"].h - s.h)
        return {"Q_flow": Q, "P_input": Q / self.efficiency}


def _drawn(Q_fire, efficiency, fuel):
    """Boundary flows of the energy drawn for ``Q_fire`` [W] into the fluid: (electricity,
    fuel, CO2 [kg/s]); the conversion loss is ``Q_fire - Q_fire / efficiency``."""
    P = Q_fire / efficiency
    if fuel is None:
        return exergy.work(P), exergy.nothing(), jnp.zeros(())
    co2 = P / combustion.lower_heating_value(fuel) * combustion.flue_gas(fuel, 0.0).co2_per_kg_fuel
    return exergy.nothing(), exergy.fuel(P, combustion.exergy_factor(fuel)), jnp.asarray(co2, dtype=float)


class FiredHeater(AbstractComponent):
    """Boiler or electric heater at a prescribed firing ratio, with its water and metal
    capacity and its envelope loss (see the module docstring).

    Ports
    -----
    inlet, outlet : The heated liquid.

    Parameters
    ----------
    P_nominal : Heat into the water at full firing (y = 1). [W]
    efficiency : Heat into the water over energy drawn, in (0, 1]. [-]
    firing : Firing (part-load) ratio over time, in [0, 1]. [-]
    UA_loss : Envelope conductance from the water volume to ambient. [W/K]
    M_water : Water hold-up (dynamics="dynamic"). [kg]
    C_dry : Heat capacity of the metal lumped with the water (dynamics="dynamic"). [J/K]
    T_initial : Initial temperature of water and metal (dynamics="dynamic"). [K]
    fluid : The heated liquid (static).
    fuel : A fuel for a boiler, or None for an electric heater (static).
    dynamics : "dynamic" (one well-mixed volume) or "steady_state" (no state) (static).
    """

    P_nominal: jnp.ndarray
    efficiency: jnp.ndarray
    firing: Schedule
    UA_loss: jnp.ndarray
    M_water: jnp.ndarray
    C_dry: jnp.ndarray
    T_initial: jnp.ndarray
    fluid: object = eqx.field(static=True)
    fuel: combustion.Fuel | None = eqx.field(static=True, default=None)
    dynamics: str = eqx.field(static=True, default="dynamic")

    inlets: ClassVar = ("inlet",)
    outlets: ClassVar = ("outlet",)
    flow_paths: ClassVar = {"outlet": "inlet"}
    flow_names: ClassVar = ("electricity", "fuel", "conversion_loss", "envelope_loss")
    tally_names: ClassVar = ("co2", "heat_supplied")
    tally_units: ClassVar = {"co2": "kg/s", "heat_supplied": "W"}
    state_info: ClassVar = {"H": ("J", "enthalpy of water and metal relative to 298.15 K", ())}
    signal_info: ClassVar = {
        "T": ("K", "temperature of the water volume (the outlet)", ()),
        "firing": ("1", "firing (part-load) ratio", ()),
        "Q_flow": ("W", "heat put into the water by the burner or element", ()),
        "Q_flow_loss": ("W", "envelope loss of the water volume to ambient", ()),
        "P_input": ("W", "electricity or fuel (LHV) drawn", ()),
    }

    def __check_init__(self):
        if self.dynamics not in ("dynamic", "steady_state"):
            raise ValueError(f"heater dynamics must be 'dynamic' or 'steady_state', not {self.dynamics!r}")

    @property
    def _dynamic(self) -> bool:
        return self.dynamics == "dynamic"

    def port_fluid(self, port):
        return self.fluid

    def thermal_inputs(self, port):
        return () if self._dynamic else ("inlet",)

    # ------------------------------------------------------------------ the lumped volume
    def _T_of_H(self, H):
        """Temperature of water and metal from their enthalpy: the root of
        ``M_water h(T) + C_dry (T - T_REF) = H`` for the liquid's quadratic h(T). [K]"""
        A = self.M_water * self.fluid.cp_a + self.C_dry
        disc = jnp.maximum(A * A + 2.0 * self.M_water * self.fluid.cp_b * H, 1e-12 * A * A)
        return T_REF + 2.0 * H / (A + jnp.sqrt(disc))

    def _H_of_T(self, T):
        return self.M_water * self.fluid.h(T) + self.C_dry * (T - T_REF)

    def _steady_outlet(self, ctx, s: Stream, Q_fire):
        """Specific enthalpy leaving a volume without storage (module docstring). [J/kg]

        With ``h(T) = a d + b/2 d^2``, ``d = T - T_REF``, the balance
        ``m (h(T) - h_in) + UA (T - T_amb) = Q`` is the quadratic
        ``(m b/2) d^2 + (m a + UA) d - c = 0``, ``c = m h_in + UA (T_amb - T_REF) + Q``, whose
        root is taken in the form that stays exact as ``b -> 0``. It needs flow or
        ``UA_loss > 0``: without either no steady state exists."""
        f = self.fluid
        A = 0.5 * s.m_flow * f.cp_b
        B = s.m_flow * f.cp_a + self.UA_loss
        c = s.m_flow * s.h + self.UA_loss * (ctx.T_ambient - T_REF) + Q_fire
        disc = jnp.maximum(B * B + 4.0 * A * c, 1e-12 * B * B)
        d = 2.0 * c / jnp.maximum(B + jnp.sqrt(disc), 1e-300)
        return f.h(T_REF + d)

    def _Q_fire(self, ctx):
        return self.firing(ctx.t) * self.P_nominal

    # ------------------------------------------------------------------ passes
    def outlet(self, ctx, x, port, inlets):
        s = inlets["inlet"]
        if self._dynamic:
            T = self._T_of_H(x)
            return Stream(s.m_flow, T, self.fluid.h(T), s.Y)
        h = self._steady_outlet(ctx, s, self._Q_fire(ctx))
        return Stream(s.m_flow, self.fluid.T(h), h, s.Y)

    def _balance(self, ctx, x, inlets, outlets):
        """(heat into the water, envelope loss, water temperature) [W], [W], [K]."""
        s, o = inlets["inlet"], outlets["outlet"]
        Q_fire = self._Q_fire(ctx)
        if self._dynamic:
            T = o.T
            return Q_fire, self.UA_loss * (T - ctx.T_ambient), T
        # no storage: the loss is what the balance leaves (equal to UA (T - T_amb) to round-off)
        return Q_fire, Q_fire - s.m_flow * (o.h - s.h), o.T

    def rhs(self, ctx, x, inlets, outlets):
        s, o = inlets["inlet"], outlets["outlet"]
        Q_fire, loss, T = self._balance(ctx, x, inlets, outlets)
        el, fu, co2 = _drawn(Q_fire, self.efficiency, self.fuel)
        flows = {"electricity": el, "fuel": fu,
                 "conversion_loss": exergy.heat(Q_fire - Q_fire / self.efficiency, ctx.T_ambient, ctx.T0),
                 "envelope_loss": exergy.heat(-loss, T, ctx.T0)}
        dx = s.m_flow * (s.h - o.h) + Q_fire - loss if self._dynamic else jnp.zeros(0)
        return dx, flows, {"co2": co2, "heat_supplied": Q_fire}

    def signals(self, ctx, x, inlets, outlets):
        Q_fire, loss, T = self._balance(ctx, x, inlets, outlets)
        return {"T": T, "firing": self.firing(ctx.t), "Q_flow": Q_fire, "Q_flow_loss": loss,
                "P_input": Q_fire / self.efficiency}

    # ------------------------------------------------------------------ state and energy
    def initial_state(self):
        if self._dynamic:
            return self._H_of_T(jnp.asarray(self.T_initial, dtype=float))
        return jnp.zeros(0)

    def stored_energy(self, x):
        return x if self._dynamic else jnp.zeros(())

    def stored_exergy(self, x, T0):
        if not self._dynamic:
            return jnp.zeros(())
        T = self._T_of_H(x)
        return self.M_water * exergy.fluid_exergy(self.fluid, T, None, T0) + exergy.capacity_exergy(self.C_dry, T, T0)
