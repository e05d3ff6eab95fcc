"""Greenhouse heated by a loop fluid: a two-node (air, soil) resistance-capacitance model.

A lumped RC model in the spirit of the greenhouse climate models of Vanthoor et al. [1]
reduced to its two dominant heat capacities (cf. the 2R2C building models of ISO 13790 [2]):

    C_air  dT_air/dt  = Q_heat + Q_solar - UA_env (T_air - T_amb) - G_soil (T_air - T_soil)
    C_soil dT_soil/dt = G_soil (T_air - T_soil) - G_ground (T_soil - T_ground)

The heating pipes (pipe-rail heating) exchange with the air as a quasi-steady coil against a
uniform air temperature, ``Q_heat = m (h_in - h_out)`` with ``h_out = h_in - ε u (h_in -
h(T_air))``, ``ε = 1 - exp(-UA_pipe / (m cp))``. The mixing valve of the heating circuit is a
proportional controller on the air temperature: the share ``u = clip(k_p (T_set - T_air), 0,
1)`` of the flow passes the pipes and the rest bypasses (the clip is smoothed over 0.02).
Envelope loss, ground loss and solar gains are boundary flows; the stored energy is linear in
the two temperatures.

References
----------
[1] Vanthoor, B. H. E. et al. (2011), A methodology for model-based greenhouse design: Part 1,
    a greenhouse climate model for a broad range of designs and climates, Biosyst. Eng. 110.
[2] ISO 13790:2008, Energy performance of buildings, simplified hourly method (5R1C/2R2C).
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

#: Exergy-to-energy ratio of solar radiation, Petela's ``1 - 4/3 (T0/Ts) + 1/3 (T0/Ts)^4``
#: for a 5762 K sun and a 288 K dead state (Petela, J. Heat Transfer 86 (1964) 187-192).
SOLAR_EXERGY_FACTOR = 0.933


class GreenhouseState(eqx.Module):
    """Air and soil temperatures of a :class:`Greenhouse`. [K]"""

    T_air: jnp.ndarray
    T_soil: jnp.ndarray


class Greenhouse(AbstractComponent):
    """Two-node greenhouse with pipe-rail heating (see module docstring).

    Ports
    -----
    supply, return : Heating water in and out.

    Parameters
    ----------
    C_air : Heat capacity of air, canopy and structure. [J/K]
    C_soil : Heat capacity of the active soil layer. [J/K]
    UA_envelope : Envelope conductance (cover, ventilation). [W/K]
    G_soil : Air-soil conductance. [W/K]
    G_ground : Soil to deep-ground conductance. [W/K]
    T_ground : Deep-ground temperature. [K]
    UA_pipe : Heating-pipe conductance to the air. [W/K]
    k_p : Valve gain (fraction of the flow per kelvin below the set point). [1/K]
    T_set : Air temperature set point over time. [K]
    Q_solar : Solar and lighting gains over time. [W]
    T_initial : Initial air and soil temperature. [K]
    fluid : Heating water (static).
    """

    C_air: jnp.ndarray
    C_soil: jnp.ndarray
    UA_envelope: jnp.ndarray
    G_soil: jnp.ndarray
    G_ground: jnp.ndarray
    T_ground: jnp.ndarray
    UA_pipe: jnp.ndarray
    k_p: jnp.ndarray
    T_set: Schedule
    Q_solar: Schedule
    T_initial: jnp.ndarray
    fluid: object = eqx.field(static=True)

    inlets: ClassVar = ("supply",)
    outlets: ClassVar = ("return",)
    flow_paths: ClassVar = {"return": "supply"}
    flow_names: ClassVar = ("envelope_loss", "ground_loss", "solar_gain")
    tally_names: ClassVar = ("heat_delivered", "exergy_delivered")
    tally_units: ClassVar = {"heat_delivered": "W", "exergy_delivered": "W"}
    state_info: ClassVar = {"T_air": ("K", "air temperature", ()), "T_soil": ("K", "soil temperature", ())}
    signal_info: ClassVar = {
        "T_air": ("K", "air temperature", ()),
        "T_soil": ("K", "soil temperature", ()),
        "Q_flow": ("W", "heat delivered by the heating pipes", ()),
        "valve": ("1", "share of the heating flow through the pipes", ()),
        "T_deficit": ("K", "how far the air is below its set point (0 when reached)", ()),
    }

    def port_fluid(self, port):
        return self.fluid

    def thermal_inputs(self, port):
        return ("supply",)

    def initial_state(self):
        T0 = jnp.asarray(self.T_initial, dtype=float)
        return GreenhouseState(T_air=T0, T_soil=T0)

    def stored_energy(self, x):
        return self.C_air * (x.T_air - T_REF) + self.C_soil * (x.T_soil - T_REF)

    def stored_exergy(self, x, T0):
        return exergy.capacity_exergy(self.C_air, x.T_air, T0) + exergy.capacity_exergy(self.C_soil, x.T_soil, T0)

    def _heating(self, ctx, x, s: Stream):
        """(specific enthalpy drop [J/kg], heat to the air [W], valve share [-])."""
        u = smooth_clip(self.k_p * (self.T_set(ctx.t) - x.T_air), 0.0, 1.0, 0.02)
        dh = u * coil_effectiveness(self.fluid, s, self.UA_pipe) * (s.h - self.fluid.h(x.T_air))
        return dh, s.m_flow * dh, u

    def outlet(self, ctx, x, port, inlets):
        s = inlets["supply"]
        dh, Q, u = self._heating(ctx, x, s)
        h = s.h - dh
        return Stream(s.m_flow, self.fluid.T(h), h, s.Y, aux=(Q, u))

    def rhs(self, ctx, x, inlets, outlets):
        Q, _ = outlets["return"].aux
        env = -self.UA_envelope * (x.T_air - ctx.T_ambient)
        soil = self.G_soil * (x.T_air - x.T_soil)
        ground = -self.G_ground * (x.T_soil - self.T_ground)
        solar = self.Q_solar(ctx.t)
        dx = GreenhouseState(T_air=(Q + solar + env - soil) / self.C_air, T_soil=(soil + ground) / self.C_soil)
        flows = {
            "envelope_loss": exergy.heat(env, x.T_air, ctx.T0),
            "ground_loss": exergy.heat(ground, x.T_soil, ctx.T0),
            "solar_gain": exergy.Flow(solar, SOLAR_EXERGY_FACTOR * solar),
        }
        # the useful effect: heat delivered into the air at its temperature
        return dx, flows, {"heat_delivered": Q, "exergy_delivered": Q * (1.0 - ctx.T0 / x.T_air)}

    def signals(self, ctx, x, inlets, outlets):
        Q, u = outlets["return"].aux
        return {"T_air": x.T_air, "T_soil": x.T_soil, "Q_flow": Q, "valve": u,
                "T_deficit": jnp.maximum(self.T_set(ctx.t) - x.T_air, 0.0)}
