"""Streams: what flows through a connection.

A stream is a small pytree: mass flow ``m_flow`` [kg/s], temperature ``T`` [K], specific
enthalpy ``h`` [J/kg] (relative to 298.15 K, the reference of every enthalpy in twin) and the
composition ``Y`` (mass fractions over :data:`twin.thermo.nasa.GAS_SPECIES` for gases, an
empty vector for liquids).

Sign convention (Modelica Buildings, UsersGuide.Conventions): a stream flows from an outlet
port to an inlet port with ``m_flow >= 0``. The enthalpy it carries, ``m_flow * h``, is
computed once, by the component that owns the outlet, and used unchanged by the component
that owns the inlet, so what leaves one control volume enters the next exactly (flux form).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float


class Stream(eqx.Module):
    """State of the fluid crossing a connection.

    Parameters
    ----------
    m_flow : Mass flow rate, outlet to inlet. [kg/s]
    T : Temperature. [K]
    h : Specific enthalpy relative to 298.15 K. [J/kg]
    Y : Mass fractions of the gas species (empty for liquids). [-]

    aux : What the producing component computed on the way to this outlet (per-cell heat
        flows of a quasi-steady march, a solved gas temperature, ...), handed back to the same
        component's ``rhs`` in ``outlets`` so that nothing is solved twice in one call.
        Other components must not read it.

    During plant assembly an inlet whose upstream temperature is not yet known is handed
    over with ``T = h = None``; reading it is a trace-time error, which is how a component
    that declared no thermal feed-through but used its inlet temperature is caught.
    """

    m_flow: Float[Array, ""]
    T: Float[Array, ""] | None = None
    h: Float[Array, ""] | None = None
    Y: Float[Array, " species"] | None = None
    aux: object = None

    @property
    def enthalpy_flow(self) -> Float[Array, ""]:
        """Enthalpy carried by the stream, ``m_flow * h``. [W]"""
        return self.m_flow * self.h


def no_composition() -> Float[Array, " 0"]:
    """The composition vector of a liquid stream (empty). [-]"""
    return jnp.zeros((0,))
