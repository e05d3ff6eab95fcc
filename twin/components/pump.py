"""Pump with a prescribed mass flow (Modelica Buildings ``Movers.FlowControlled_m_flow``).

The pump sets the mass flow of its loop; it is what makes a closed loop's flow defined. Its
shaft work ``W = m_flow * dp / (rho * eta)`` is drawn as electricity and, all of it ending
as heat in the fluid (the Buildings convention for an unheated motor inside the flow),
raises the specific enthalpy by ``dp / (rho * eta)``:
``m_flow * h_out = m_flow * h_in + W`` exactly.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core import exergy
from twin.core.component import AbstractStatelessComponent
from twin.core.schedule import Schedule
from twin.core.stream import Stream


class Pump(AbstractStatelessComponent):
    """Flow-controlled pump.

    Ports
    -----
    inlet, outlet : The loop fluid in and out.

    Parameters
    ----------
    m_flow_nominal : Nominal mass flow. [kg/s]
    schedule : Fraction of nominal flow over time. [-]
    pressure_rise : Pressure rise across the pump. [Pa]
    efficiency : Total (hydraulic x motor) efficiency, in (0, 1]. [-]
    fluid : The pumped liquid (static).
    """

    m_flow_nominal: jnp.ndarray
    schedule: Schedule
    pressure_rise: jnp.ndarray
    efficiency: jnp.ndarray
    fluid: object = eqx.field(static=True)

    inlets: ClassVar = ("inlet",)
    outlets: ClassVar = ("outlet",)
    flow_names: ClassVar = ("electricity",)

    def thermal_inputs(self, port):
        return ("inlet",)

    def mass_flow_out(self, ctx, x, port, m_in):
        return self.m_flow_nominal * self.schedule(ctx.t)

    def _dh(self):
        return self.pressure_rise / (self.fluid.rho * self.efficiency)

    def outlet(self, ctx, x, port, inlets):
        s = inlets["inlet"]
        h = s.h + self._dh()
        return Stream(s.m_flow, self.fluid.T(h, s.Y), h, s.Y)

    def rhs(self, ctx, x, inlets, outlets):
        m = outlets["outlet"].m_flow
        return jnp.zeros(0), {"electricity": exergy.work(m * self._dh())}, {}

    def signals(self, ctx, x, inlets, outlets):
        return {"P_electric": outlets["outlet"].m_flow * self._dh()}

    signal_info: ClassVar = {"P_electric": ("W", "pump electric power", ())}
