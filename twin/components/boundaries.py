"""Plant boundaries: a prescribed inflow (``source``) and an outflow to the surroundings (``stack``).

Both are stateless. Across them enthalpy becomes a boundary flow of the plant: a source
injects ``m_flow * h(T)``, a stack discharges what reaches it (flue gas to the chimney,
water to a drain). Conventions follow Modelica Buildings' ``Sources.Boundary_pT`` /
``MassFlowSource_T``.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core import exergy
from twin.core.component import AbstractStatelessComponent
from twin.core.schedule import Schedule
from twin.core.stream import Stream


class Source(AbstractStatelessComponent):
    """Prescribed mass flow at a prescribed temperature (a boundary inflow).

    Ports
    -----
    outlet : The supplied stream.

    Parameters
    ----------
    m_flow : Mass flow as a schedule. [kg/s]
    T : Supply temperature as a schedule. [K]
    fluid : The fluid supplied (static).
    Y : Composition for a gas (mass fractions over GAS_SPECIES), empty for liquids. [-]
    """

    m_flow: Schedule
    T: Schedule
    Y: jnp.ndarray
    fluid: object = eqx.field(static=True)

    outlets: ClassVar = ("outlet",)
    flow_names: ClassVar = ("supply",)

    def mass_flow_out(self, ctx, x, port, m_in):
        return self.m_flow(ctx.t)

    def outlet(self, ctx, x, port, inlets):
        T = self.T(ctx.t)
        return Stream(self.m_flow(ctx.t), T, self.fluid.h(T, self.Y), self.Y)

    def rhs(self, ctx, x, inlets, outlets):
        return jnp.zeros(0), {"supply": exergy.stream(self.fluid, outlets["outlet"], ctx.T0)}, {}


class Stack(AbstractStatelessComponent):
    """Where a stream leaves the plant (chimney, drain); its enthalpy is a boundary outflow.

    Ports
    -----
    inlet : The stream discharged.
    """

    fluid: object = eqx.field(static=True)

    inlets: ClassVar = ("inlet",)
    flow_names: ClassVar = ("discharge",)

    def rhs(self, ctx, x, inlets, outlets):
        f = exergy.stream(self.fluid, inlets["inlet"], ctx.T0)
        return jnp.zeros(0), {"discharge": exergy.Flow(-f.power, -f.exergy)}, {}

    def signals(self, ctx, x, inlets, outlets):
        s = inlets["inlet"]
        # enthalpy above the dead state is what a recovery could still use
        h0 = self.fluid.h(ctx.T_ambient, s.Y)
        return {"Q_flow_above_ambient": s.m_flow * (s.h - h0)}

    signal_info: ClassVar = {
        "Q_flow_above_ambient": ("W", "enthalpy flow discharged above the ambient dead state", ()),
    }
