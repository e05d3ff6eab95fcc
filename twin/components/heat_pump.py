"""Electric heat pump lifting heat from a source stream into a sink stream.

Quasi-steady, with a second-law efficiency against Carnot (the usual engineering model of
industrial heat pumps; e.g. Arpagaus et al., Energy 152 (2018) 985-1010):

    COP = η_C · T_cond / (T_cond - T_evap),  T_cond = T_sink,out + ΔT_a,  T_evap = T_source,in - ΔT_a.

The condenser heats the sink stream to its set point, ``Q_cond = m_sink · clip(h(T_set) -
h_sink,in, 0, Q_nominal/m_sink)``, but never draws more from the source than it can give
without cooling it by more than ``dT_source_max``: ``Q_evap <= m_source cp ΔT_max``. Then
``W = Q_cond / COP`` is drawn as electricity and ``Q_evap = Q_cond - W`` leaves the source,
so energy balances exactly. η_C <= 1 keeps the cycle within the second law (the scenario
schema rejects more: a "post-Carnot" heat pump is an impossible input). The temperature lift
in the denominator is bounded below by a smooth 1 K so the COP stays finite.

References
----------
[1] Arpagaus, C. et al. (2018), High temperature heat pumps: market overview, state of the
    art, research status, refrigerants, and application potentials, Energy 152, 985-1010.
[2] Modelica Buildings, ``Fluid.HeatPumps.Carnot_TCon`` (COP from the Carnot efficiency).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core import exergy
from twin.core.component import AbstractStatelessComponent
from twin.core.schedule import Schedule
from twin.core.smooth import smooth_clip, smooth_max, smooth_min
from twin.core.stream import Stream

_M_EPS = 1e-9  # [kg/s]


class HeatPump(AbstractStatelessComponent):
    """Carnot-efficiency heat pump (see module docstring).

    Ports
    -----
    sink_in, sink_out : The stream heated by the condenser.
    source_in, source_out : The stream cooled by the evaporator.

    Parameters
    ----------
    Q_nominal : Largest condenser heat flow. [W]
    eta_carnot : Second-law (Carnot) efficiency, in (0, 1]. [-]
    dT_approach : Approach of condensing/evaporating temperature to the streams. [K]
    dT_source_max : Largest cooling of the source stream. [K]
    T_set : Sink outlet set point over time. [K]
    sink_fluid, source_fluid : Liquids of the two sides (static).
    """

    Q_nominal: jnp.ndarray
    eta_carnot: jnp.ndarray
    dT_approach: jnp.ndarray
    dT_source_max: jnp.ndarray
    T_set: Schedule
    sink_fluid: object = eqx.field(static=True)
    source_fluid: object = eqx.field(static=True)

    inlets: ClassVar = ("sink_in", "source_in")
    outlets: ClassVar = ("sink_out", "source_out")
    flow_paths: ClassVar = {"sink_out": "sink_in", "source_out": "source_in"}
    flow_names: ClassVar = ("electricity",)
    tally_names: ClassVar = ("heat_supplied", "heat_recovered")
    tally_units: ClassVar = {"heat_supplied": "W", "heat_recovered": "W"}
    signal_info: ClassVar = {
        "COP": ("1", "coefficient of performance (condenser heat over electricity)", ()),
        "Q_flow_condenser": ("W", "heat delivered to the sink stream", ()),
        "Q_flow_evaporator": ("W", "heat taken from the source stream", ()),
        "P_electric": ("W", "electric power", ()),
    }

    def port_fluid(self, port):
        return self.sink_fluid if port.startswith("sink") else self.source_fluid

    def thermal_inputs(self, port):
        return ("sink_in", "source_in")

    def _cycle(self, ctx, sink: Stream, source: Stream):
        """(condenser heat, electric power, evaporator heat, COP) [W], [W], [W], [-]."""
        sf, qf = self.sink_fluid, self.source_fluid
        m_s = jnp.where(sink.m_flow > _M_EPS, sink.m_flow, 1.0)
        dh = smooth_clip(sf.h(self.T_set(ctx.t)) - sink.h, 0.0, self.Q_nominal / m_s, 0.1 * sf.cp(sink.T))
        Q_req = jnp.where(sink.m_flow > _M_EPS, sink.m_flow * dh, 0.0)
        T_cond = sf.T(sink.h + dh) + self.dT_approach
        T_evap = source.T - self.dT_approach
        lift = smooth_max(T_cond - T_evap, 1.0, 0.5)
        cop = self.eta_carnot * T_cond / lift
        Q_evap_max = source.m_flow * qf.cp(source.T) * self.dT_source_max
        Q_cond = smooth_min(Q_req, Q_evap_max / (1.0 - 1.0 / cop), 0.001 * self.Q_nominal)
        Q_cond = jnp.maximum(Q_cond, 0.0) * (sink.m_flow > _M_EPS) * (source.m_flow > _M_EPS)
        W = Q_cond / cop
        return Q_cond, W, Q_cond - W, cop

    def outlet(self, ctx, x, port, inlets):
        sink, source = inlets["sink_in"], inlets["source_in"]
        Q_cond, W, Q_evap, cop = self._cycle(ctx, sink, source)
        if port == "sink_out":
            h = sink.h + Q_cond / jnp.where(sink.m_flow > _M_EPS, sink.m_flow, 1.0)
            return Stream(sink.m_flow, self.sink_fluid.T(h), h, sink.Y, aux=(Q_cond, W, Q_evap, cop))
        h = source.h - Q_evap / jnp.where(source.m_flow > _M_EPS, source.m_flow, 1.0)
        return Stream(source.m_flow, self.source_fluid.T(h), h, source.Y)

    def rhs(self, ctx, x, inlets, outlets):
        Q_cond, W, Q_evap, _ = outlets["sink_out"].aux
        return jnp.zeros(0), {"electricity": exergy.work(W)}, {"heat_supplied": Q_cond, "heat_recovered": Q_evap}

    def signals(self, ctx, x, inlets, outlets):
        Q_cond, W, Q_evap, cop = outlets["sink_out"].aux
        return {"COP": cop, "Q_flow_condenser": Q_cond, "Q_flow_evaporator": Q_evap, "P_electric": W}
