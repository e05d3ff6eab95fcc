"""Heat consumers: a mould-preheating oven (set-point load) and a demand-driven heat sink.

``MouldPreheater``: moulds (a lumped metal inventory of mass ``M_moulds``) are heated by the
loop fluid through a coil of conductance ``UA``; cold moulds are charged and hot moulds
leave for casting at ``mould_rate x schedule`` (so the inventory stays constant). The coil
fluid is either one well-mixed hold-up (``dynamic``) or quasi-steady: along the coil it
relaxes towards the mould temperature,
``h_out = h_in - ε (h_in - h(T_moulds))`` with ``ε = 1 - exp(-UA / (m cp))``, the
effectiveness of an exchanger with one side at uniform temperature [1, eq. 11.35]. The
heat ``Q = m (h_in - h_out)`` is exactly what the fluid gave up. The oven loses heat to the
ambient through ``UA_loss``. Mould temperature is compared with ``T_target`` (the preheat
target before casting).

``HeatDemand``: a well-mixed hold-up cell gives up a prescribed demand ``Q_demand(t)``;
the draw is faded out smoothly as the cell temperature approaches ``T_min`` (over
``dT_fade``), so a cold loop is never pulled below its floor and gradients exist.

References
----------
[1] Incropera et al., Fundamentals of Heat and Mass Transfer, 6th ed., sec. 11.4-11.5.
[2] Wetzel, Die Sandgießerei / ASM Handbook vol. 15 (Casting), die and mould preheating
    practice: permanent moulds are preheated to 150-350 degC before casting.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core import exergy
from twin.core.component import AbstractComponent
from twin.core.march import coil_effectiveness
from twin.core.schedule import Schedule
from twin.core.smooth import smooth_clip
from twin.core.stream import Stream
from twin.thermo.fluids import T_REF


class MouldState(eqx.Module):
    """State of a :class:`MouldPreheater`.

    Parameters
    ----------
    T_moulds : Mould temperature. [K]
    h_fluid : Specific enthalpy of the coil hold-up (empty when quasi-steady). [J/kg]
    """

    T_moulds: jnp.ndarray
    h_fluid: jnp.ndarray


class MouldPreheater(AbstractComponent):
    """Mould preheating oven heated by a loop fluid.

    Ports
    -----
    supply : Hot loop fluid in.
    return : Cooled loop fluid out.

    Parameters
    ----------
    UA : Conductance of the heating coil. [W/K]
    M_moulds : Mould mass held in the oven. [kg]
    cp_moulds : Specific heat of the mould metal. [J/(kg K)]
    mould_rate : Mould throughput at schedule value 1. [kg/s]
    schedule : Throughput fraction over time (shifts). [-]
    UA_loss : Oven envelope conductance to ambient. [W/K]
    T_target : Preheat target temperature. [K]
    T_initial : Initial mould (and coil fluid) temperature. [K]
    M_fluid : Fluid hold-up of the coil and its pipework (fluid_dynamics="dynamic"). [kg]
    fluid : Loop fluid (static).
    fluid_dynamics : "quasi_steady" (coil fluid without hold-up, ε-NTU relation) or
        "dynamic" (one well-mixed hold-up ``M_fluid``, ``Q = UA (T_fluid - T_moulds)``);
        a closed loop needs at least one element with a fluid state (static).
    """

    UA: jnp.ndarray
    M_moulds: jnp.ndarray
    cp_moulds: jnp.ndarray
    mould_rate: jnp.ndarray
    schedule: Schedule
    UA_loss: jnp.ndarray
    T_target: jnp.ndarray
    T_initial: jnp.ndarray
    M_fluid: jnp.ndarray
    fluid: object = eqx.field(static=True)
    fluid_dynamics: str = eqx.field(static=True, default="quasi_steady")

    inlets: ClassVar = ("supply",)
    outlets: ClassVar = ("return",)
    flow_paths: ClassVar = {"return": "supply"}
    flow_names: ClassVar = ("moulds_in", "moulds_out", "envelope_loss")
    tally_names: ClassVar = ("moulds_preheated", "heat_delivered", "exergy_delivered")
    tally_units: ClassVar = {"moulds_preheated": "kg/s", "heat_delivered": "W", "exergy_delivered": "W"}
    state_info: ClassVar = {
        "T_moulds": ("K", "mould temperature", ()),
        "h_fluid": ("J/kg", "specific enthalpy of the coil hold-up", ("coil",)),
    }
    signal_info: ClassVar = {
        "T_moulds": ("K", "mould temperature", ()),
        "Q_flow": ("W", "heat delivered by the loop fluid to the moulds", ()),
        "Q_flow_to_casting": ("W", "enthalpy leaving with preheated moulds (above ambient)", ()),
        "target_deficit": ("K", "how far the moulds are below the preheat target (0 when reached)", ()),
    }

    def __check_init__(self):
        if self.fluid_dynamics not in ("dynamic", "quasi_steady"):
            raise ValueError(f"fluid_dynamics must be 'dynamic' or 'quasi_steady', not {self.fluid_dynamics!r}")

    @property
    def _dynamic(self) -> bool:
        return self.fluid_dynamics == "dynamic"

    def port_fluid(self, port):
        return self.fluid

    def thermal_inputs(self, port):
        return () if self._dynamic else ("supply",)

    def initial_state(self):
        T0 = jnp.asarray(self.T_initial, dtype=float)
        h_f = self.fluid.h(T0)[None] if self._dynamic else jnp.zeros(0)
        return MouldState(T_moulds=T0, h_fluid=h_f)

    def stored_energy(self, x):
        return self.M_moulds * self.cp_moulds * (x.T_moulds - T_REF) + self.M_fluid * jnp.sum(x.h_fluid)

    def stored_exergy(self, x, T0):
        X = exergy.capacity_exergy(self.M_moulds * self.cp_moulds, x.T_moulds, T0)
        if self._dynamic:
            X = X + self.M_fluid * exergy.fluid_exergy(self.fluid, self.fluid.T(x.h_fluid[0]), None, T0)
        return X

    def _heat(self, x, s: Stream):
        """(specific enthalpy drop of the fluid [J/kg], heat to the moulds [W])."""
        if self._dynamic:
            return None, self.UA * (self.fluid.T(x.h_fluid[0]) - x.T_moulds)
        dh = coil_effectiveness(self.fluid, s, self.UA) * (s.h - self.fluid.h(x.T_moulds))
        return dh, s.m_flow * dh

    def outlet(self, ctx, x, port, inlets):
        s = inlets["supply"]
        h = x.h_fluid[0] if self._dynamic else s.h - self._heat(x, s)[0]
        return Stream(s.m_flow, self.fluid.T(h), h, s.Y)

    def _rates(self, ctx, x):
        m_m = self.mould_rate * self.schedule(ctx.t)
        cpm = self.cp_moulds
        return m_m, m_m * cpm * (ctx.T_ambient - T_REF), -m_m * cpm * (x.T_moulds - T_REF)

    def rhs(self, ctx, x, inlets, outlets):
        s = inlets["supply"]
        _, Q = self._heat(x, s)
        m_m, e_in, e_out = self._rates(ctx, x)
        loss = -self.UA_loss * (x.T_moulds - ctx.T_ambient)
        dT = (Q + e_in + e_out + loss) / (self.M_moulds * self.cp_moulds)
        dh_f = ((s.m_flow * (s.h - x.h_fluid[0]) - Q) / self.M_fluid)[None] if self._dynamic else jnp.zeros(0)
        cpm = self.cp_moulds
        flows = {
            "moulds_in": exergy.matter(m_m, cpm * (ctx.T_ambient - T_REF), exergy.capacity_exergy(cpm, ctx.T_ambient, ctx.T0)),
            "moulds_out": exergy.matter(-m_m, cpm * (x.T_moulds - T_REF), exergy.capacity_exergy(cpm, x.T_moulds, ctx.T0)),
            "envelope_loss": exergy.heat(loss, x.T_moulds, ctx.T0),
        }
        tallies = {"moulds_preheated": m_m, "heat_delivered": Q,
                   # the useful effect: exergy of the preheated moulds over the cold ones
                   "exergy_delivered": -(flows["moulds_out"].exergy + flows["moulds_in"].exergy)}
        return MouldState(T_moulds=dT, h_fluid=dh_f), flows, tallies

    def signals(self, ctx, x, inlets, outlets):
        _, Q = self._heat(x, inlets["supply"])
        m_m, _, _ = self._rates(ctx, x)
        return {
            "T_moulds": x.T_moulds,
            "Q_flow": Q,
            "Q_flow_to_casting": m_m * self.cp_moulds * (x.T_moulds - ctx.T_ambient),
            "target_deficit": jnp.maximum(self.T_target - x.T_moulds, 0.0),
        }


class HeatDemand(AbstractComponent):
    """A heat sink that draws a scheduled demand from a well-mixed hold-up cell.

    Ports
    -----
    supply : Hot loop fluid in.
    return : Cooled loop fluid out (at the cell temperature).

    Parameters
    ----------
    Q_demand : Heat demand as a schedule. [W]
    M_fluid : Fluid hold-up of the cell. [kg]
    T_min : Temperature below which no heat is drawn. [K]
    dT_fade : Width over which the draw fades out above ``T_min``. [K]
    T_initial : Initial cell temperature. [K]
    fluid : Loop fluid (static).
    """

    Q_demand: Schedule
    M_fluid: jnp.ndarray
    T_min: jnp.ndarray
    dT_fade: jnp.ndarray
    T_initial: jnp.ndarray
    fluid: object = eqx.field(static=True)

    inlets: ClassVar = ("supply",)
    outlets: ClassVar = ("return",)
    flow_paths: ClassVar = {"return": "supply"}
    flow_names: ClassVar = ("heat_delivered",)
    tally_names: ClassVar = ("exergy_delivered",)
    tally_units: ClassVar = {"exergy_delivered": "W"}
    state_info: ClassVar = {"h": ("J/kg", "specific enthalpy of the consumer cell", ())}
    signal_info: ClassVar = {
        "T": ("K", "consumer cell temperature", ()),
        "Q_flow": ("W", "heat delivered to the use", ()),
        "unmet_demand": ("W", "demand not met", ()),
    }

    def port_fluid(self, port):
        return self.fluid

    def initial_state(self):
        return self.fluid.h(jnp.asarray(self.T_initial, dtype=float))

    def stored_energy(self, x):
        return self.M_fluid * x

    def stored_exergy(self, x, T0):
        return self.M_fluid * exergy.fluid_exergy(self.fluid, self.fluid.T(x), None, T0)

    def _draw(self, ctx, x):
        T = self.fluid.T(x)
        fade = smooth_clip((T - self.T_min) / self.dT_fade, 0.0, 1.0, 0.05)
        return self.Q_demand(ctx.t) * fade

    def outlet(self, ctx, x, port, inlets):
        s = inlets["supply"]
        return Stream(s.m_flow, self.fluid.T(x), x, s.Y)

    def rhs(self, ctx, x, inlets, outlets):
        s = inlets["supply"]
        Q = self._draw(ctx, x)
        dx = (s.m_flow * (s.h - x) - Q) / self.M_fluid
        use = exergy.heat(-Q, self.fluid.T(x), ctx.T0)
        return dx, {"heat_delivered": use}, {"exergy_delivered": -use.exergy}

    def signals(self, ctx, x, inlets, outlets):
        Q = self._draw(ctx, x)
        return {"T": self.fluid.T(x), "Q_flow": Q, "unmet_demand": self.Q_demand(ctx.t) - Q}
