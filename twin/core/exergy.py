"""Exergy of boundary flows, streams and stored energy: the second-law half of the audit.

The dead state is the ambient at a fixed temperature ``T0`` (the plant's ``T_dead``, by default
the ambient temperature at the start of the run) and the standard pressure. With it, the exergy
balance of a control volume over a run is (Bejan, Tsatsaronis & Moran 1996, ch. 3; Kotas 1985,
ch. 2)

    X_D = ∫ (Σ_in m ex - Σ_out m ex) dt + Σ_k ∫ X_k dt - ΔX_stored  >= 0,

    ex(T, Y)   = h(T, Y) - h(T0, Y) - T0 (s(T, Y) - s(T0, Y))        (thermomechanical),
    X_heat     = Q (1 - T0 / T_b)      heat Q crossing the boundary where it is at T_b,
    X_work     = W                     electricity and shaft work,
    X_fuel     = phi LHV m_fuel         chemical exergy of a fuel (phi from Szargut 1988),

and ``X_D = T0 S_gen`` (Gouy-Stodola) is the exergy destroyed inside. Every component returns
its boundary flows as :class:`Flow` (energy and exergy together), built with :func:`heat`,
:func:`work`, :func:`fuel` or :func:`matter`, and reports its stored exergy
(:meth:`twin.core.component.AbstractComponent.stored_exergy`); the plant integrates the port
and boundary exergy flows alongside the state, like the first-law terms.

Conventions, stated once:

* A heat loss is counted at the temperature of the node it leaves (a wall surface, a fluid
  hold-up), so the exergy it carries is an *exergy loss* of the plant (destroyed later, in the
  environment) and the component's ``X_D`` is its internal destruction only.
* Streams carry thermomechanical exergy at their own composition. The chemical exergy of flue
  gas (its CO2 and H2O above the atmosphere's) is not credited, so the furnace's destruction
  includes it (about 1 % of the fuel exergy; Kotas 1985, sec. 2.9).
* Exergy at a temperature below ``T0`` is positive too (cold is worth something); heat that
  leaves at ``T_b < T0`` carries negative ``Q (1 - T0/T_b)`` in the direction of ``Q``.

References
----------
.. [1] A. Bejan, G. Tsatsaronis, M. Moran, *Thermal Design and Optimization*, Wiley, 1996.
.. [2] T. J. Kotas, *The Exergy Method of Thermal Plant Analysis*, Butterworths, 1985.
.. [3] J. Szargut, D. R. Morris, F. R. Steward, *Exergy Analysis of Thermal, Chemical and
   Metallurgical Processes*, Hemisphere, 1988 (standard chemical exergies).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float


class Flow(eqx.Module):
    """A boundary flow of a component: its energy and its exergy, positive *into* it.

    Parameters
    ----------
    power : Energy flow. [W]
    exergy : Exergy flow. [W]
    """

    power: Float[Array, ""]
    exergy: Float[Array, ""]


def heat(Q, T_b, T0) -> Flow:
    """Heat ``Q`` [W] crossing the boundary where it is at ``T_b`` [K]; ``T0`` dead state [K].

    ``Q`` and ``T_b`` may be per cell (a loss through every layer of a tank at its own
    temperature): the flow is their sum."""
    Q = jnp.asarray(Q, dtype=float)
    return Flow(jnp.sum(Q), jnp.sum(Q * (1.0 - T0 / T_b)))


def work(W) -> Flow:
    """Electricity or shaft work ``W`` [W]: all exergy."""
    W = jnp.asarray(W, dtype=float)
    return Flow(W, W)


def fuel(P, exergy_factor) -> Flow:
    """Fuel power ``P = m LHV`` [W] with chemical exergy ``exergy_factor * P``."""
    P = jnp.asarray(P, dtype=float)
    return Flow(P, exergy_factor * P)


def matter(m_flow, h, ex) -> Flow:
    """Material (charge, product, air) crossing the boundary without a port.

    ``m_flow`` [kg/s] positive in, specific enthalpy ``h`` [J/kg] relative to 298.15 K and
    specific exergy ``ex`` [J/kg] (:func:`specific_exergy`).
    """
    m_flow = jnp.asarray(m_flow, dtype=float)
    return Flow(m_flow * h, m_flow * ex)


def nothing() -> Flow:
    """A flow that is absent in this configuration (e.g. electricity of a fuel-fired heater)."""
    return Flow(jnp.zeros(()), jnp.zeros(()))


def specific_exergy(h, s, h0, s0, T0):
    """``h - h0 - T0 (s - s0)`` [J/kg] from enthalpy and entropy and their dead-state values."""
    return (h - h0) - T0 * (s - s0)


def fluid_exergy(fluid, T, Y, T0):
    """Thermomechanical specific exergy of a fluid of :mod:`twin.thermo.fluids`. [J/kg]"""
    return specific_exergy(fluid.h(T, Y), fluid.s(T, Y), fluid.h(T0, Y), fluid.s(T0, Y), T0)


def capacity_exergy(C, T, T0):
    """Exergy of bodies of constant heat capacity ``C`` [J/K] at ``T`` [K]:
    ``C (T - T0 - T0 ln(T/T0))``, summed. [J]"""
    return jnp.sum(C * ((T - T0) - T0 * jnp.log(T / T0)))


def material_exergy(material, M, h, T0):
    """Exergy of a mass ``M`` [kg] of a material card (:mod:`twin.thermo.pcm`) at specific
    enthalpy ``h`` [J/kg], summed over nodes. [J]"""
    h0 = material.h(T0)
    return jnp.sum(M * specific_exergy(h, material.s(h), h0, material.s(h0), T0))


def stream(fluid, st, T0) -> Flow:
    """A port-less stream ``st`` (:class:`twin.core.stream.Stream`) *entering* the component,
    as a boundary flow: ``m h`` and ``m ex``. Negate both for a stream leaving."""
    return Flow(st.m_flow * st.h, st.m_flow * fluid_exergy(fluid, st.T, st.Y, T0))
