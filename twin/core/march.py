"""Quasi-steady fluid marching through a row of cells, each relaxing towards a temperature.

A fluid with no hold-up (a gas side, a fast liquid channel) passes cells 0..n-1. In cell i
it exchanges heat with conductance ``G_i`` towards a temperature ``T_target_i`` (a wall, a
PCM surface node, or the conductance-weighted mean of several). For constant cp the exact
solution along the cell is exponential,

    T_out,i = T_target,i + (T_in,i - T_target,i) exp(-G_i / (m cp_i)),

the effectiveness relation of a stream against a uniform-temperature surface (Incropera
et al., Fundamentals of Heat and Mass Transfer, eq. 11.35). The march is a composition of
affine maps and is evaluated with ``jax.lax.associative_scan`` (log depth, vectorised)
instead of a chain of n dependent steps. ``cp_i`` is taken at the cell's mean temperature
from a first march that used cp at the target (predictor-corrector; exact for constant cp).

Energy is exact whatever cp is used: the heat given up in cell i is defined as the enthalpy
difference ``m (h_i-1 - h_i)``, and the caller hands exactly that to the cell's surface.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from twin.core.stream import Stream

M_EPS = 1e-9  # mass flow below which the fluid is treated as stagnant [kg/s]


def relax_march(fluid, inlet: Stream, T_target, G):
    """March ``inlet`` through cells with conductances ``G`` [W/K] towards ``T_target`` [K].

    Returns ``(h, T, Q)``: specific enthalpy [J/kg] and temperature [K] leaving each cell,
    and the heat the fluid gave up in each cell [W] (``m (h_in - h_out)``).
    With no flow the fluid leaves each cell at its target and gives up nothing.
    """
    m = inlet.m_flow
    flowing = m > M_EPS
    m_safe = jnp.where(flowing, m, 1.0)
    T_target = jnp.asarray(T_target)
    G = jnp.broadcast_to(G, T_target.shape)

    def march(cp):
        a = jnp.where(flowing, jnp.exp(-G / (m_safe * cp)), 0.0)
        b = (1.0 - a) * T_target

        def compose(f, g):  # apply f, then g
            return g[0] * f[0], g[0] * f[1] + g[1]

        A, B = jax.lax.associative_scan(compose, (a, b))
        return A * inlet.T + B

    T = march(fluid.cp(T_target, inlet.Y))
    T_up = jnp.concatenate([inlet.T[None], T[:-1]])
    T = march(fluid.cp(0.5 * (T_up + T), inlet.Y))
    h = fluid.h(T, inlet.Y)
    h_up = jnp.concatenate([inlet.h[None], h[:-1]])
    return h, T, m * (h_up - h)


def coil_effectiveness(fluid, inlet: Stream, UA):
    """ε = 1 - exp(-UA / (m cp)) of a stream against a uniform-temperature surface, with cp at
    the inlet; 0 with no flow (a one-cell march in closed form, for heating coils). [-]"""
    flowing = inlet.m_flow > M_EPS
    m_safe = jnp.where(flowing, inlet.m_flow, 1.0)
    return jnp.where(flowing, 1.0 - jnp.exp(-UA / (m_safe * fluid.cp(inlet.T, inlet.Y))), 0.0)


def mean_temperature(T_in, T_out, T_target, G, m, cp):
    """Length-mean fluid temperature of an exponential relaxation (exact for constant cp). [K]

    ``T_mean = T_target + (T_in - T_out) / NTU`` with ``NTU = G / (m cp)``; with no flow the
    fluid sits at its target.
    """
    flowing = m > M_EPS
    ntu = jnp.where(flowing, G / (jnp.where(flowing, m, 1.0) * cp), 1.0)
    return jnp.where(flowing, T_target + (T_in - T_out) / ntu, T_target)
