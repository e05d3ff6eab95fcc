"""Stateless junctions: a splitter (or diverting three-way valve) and a mixer.

Both are evaluated in topological order with the streams around them (they have no
volume; Modelica Buildings' ``Fluid.FixedResistances.Junction`` with
``energyDynamics=SteadyState``). A cycle made only of such stateless parts is an
algebraic loop and is reported as a scenario error.

* ``Splitter``: the inlet flow leaves through ``outlet_a`` with fraction ``f(t)`` and through
  ``outlet_b`` with ``1 - f(t)``, both at the inlet state. Used as a bypass (diverting
  valve) around an exchanger. Mass: ``f m + (1 - f) m = m`` exactly.
* ``Mixer``: two streams of the same fluid merge adiabatically:
  ``m = m_a + m_b`` and ``m h = m_a h_a + m_b h_b``, the outlet temperature from ``h``.
  With no flow at all the outlet carries the mean of the two inlet enthalpies (it carries
  no energy then, so the choice only keeps the temperature defined).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core.component import AbstractStatelessComponent
from twin.core.schedule import Schedule
from twin.core.stream import Stream

_M_EPS = 1e-12  # [kg/s]


class Splitter(AbstractStatelessComponent):
    """Split one stream into two by a (scheduled) fraction.

    Ports
    -----
    inlet : The stream split.
    outlet_a, outlet_b : Fractions ``f`` and ``1 - f`` of it, at the inlet state.

    Parameters
    ----------
    fraction : Share of the flow leaving through ``outlet_a``, in [0, 1], over time. [-]
    fluid : The fluid (static).
    controller : Name of a :class:`twin.components.controller.Controller` whose output sets
        the fraction instead (a bypass damper or a three-way valve), or None (static).
    """

    fraction: Schedule
    fluid: object = eqx.field(static=True)
    controller: str | None = eqx.field(static=True, default=None)

    inlets: ClassVar = ("inlet",)
    outlets: ClassVar = ("outlet_a", "outlet_b")
    flow_paths: ClassVar = {"outlet_a": "inlet", "outlet_b": "inlet"}
    signal_info: ClassVar = {"fraction": ("1", "share of the flow through outlet_a", ())}

    def thermal_inputs(self, port):
        return ("inlet",)

    def _f(self, ctx):
        u = ctx.controls[self.controller] if self.controller is not None else self.fraction(ctx.t)
        return jnp.clip(u, 0.0, 1.0)

    def mass_flow_out(self, ctx, x, port, m_in):
        f = self._f(ctx)
        return m_in["inlet"] * (f if port == "outlet_a" else 1.0 - f)

    def outlet(self, ctx, x, port, inlets):
        s = inlets["inlet"]
        return Stream(s.m_flow, s.T, s.h, s.Y)

    def rhs(self, ctx, x, inlets, outlets):
        return jnp.zeros(0), {}, {}

    def signals(self, ctx, x, inlets, outlets):
        return {"fraction": self._f(ctx)}


class Mixer(AbstractStatelessComponent):
    """Adiabatic mixing of two streams of one fluid.

    Ports
    -----
    inlet_a, inlet_b : The streams merged.
    outlet : The mixed stream.

    Parameters
    ----------
    fluid : The fluid (static).
    """

    fluid: object = eqx.field(static=True)

    inlets: ClassVar = ("inlet_a", "inlet_b")
    outlets: ClassVar = ("outlet",)

    def mass_inputs(self, port):
        return ("inlet_a", "inlet_b")

    def thermal_inputs(self, port):
        return ("inlet_a", "inlet_b")

    def mass_flow_out(self, ctx, x, port, m_in):
        return m_in["inlet_a"] + m_in["inlet_b"]

    def outlet(self, ctx, x, port, inlets):
        a, b = inlets["inlet_a"], inlets["inlet_b"]
        m = a.m_flow + b.m_flow
        some = m > _M_EPS
        m_safe = jnp.where(some, m, 1.0)
        h = jnp.where(some, (a.m_flow * a.h + b.m_flow * b.h) / m_safe, 0.5 * (a.h + b.h))
        Y = a.Y
        if self.fluid.is_gas:  # species mass balance
            Y = jnp.where(some, (a.m_flow * a.Y + b.m_flow * b.Y) / m_safe, 0.5 * (a.Y + b.Y))
        return Stream(m, self.fluid.T(h, Y), h, Y)

    def rhs(self, ctx, x, inlets, outlets):
        return jnp.zeros(0), {}, {}
