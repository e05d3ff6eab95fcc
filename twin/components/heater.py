"""Backup heater (electric heater or fuel-fired boiler) heating a stream to a set point.

A quasi-steady, flow-through heater with ideal control up to its capacity, as Modelica
Buildings' ``Fluid.HeatExchangers.Heater_T`` (prescribed outlet temperature, limited
heating power), extended with a conversion efficiency: the heat to the fluid is

    Q = m · clip(h(T_set) - h_in, 0, P_nominal / m),

the energy drawn is ``Q / η`` (electricity, or fuel on a lower-heating-value basis with the
CO2 of its carbon), and ``Q (1/η - 1)`` is lost to ambient (counted at the ambient
temperature: its exergy is destroyed inside the heater). The clip is smoothed over
``dh_smooth`` (about 0.1 K of liquid) so gradients exist at the set point and at capacity.
With no flow nothing is heated. Energy balances exactly: ``m h_out = m h_in + Q``.

References
----------
[1] Wetter, M. et al., Modelica Buildings library, ``Buildings.Fluid.HeatExchangers.Heater_T``.
[2] EN 15316-4-1 (boiler efficiency on the net calorific value basis).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core import exergy
from twin.core.component import AbstractStatelessComponent
from twin.core.schedule import Schedule
from twin.core.smooth import smooth_clip
from twin.core.stream import Stream
from twin.thermo import combustion

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
