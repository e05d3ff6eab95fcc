"""Insulated pipe with transport delay and heat loss (district-heating and process pipework).

The reference is the plug-flow pipe of van der Heijde et al. [1] (as in Modelica IBPSA's
``Fluid.FixedResistances.PlugFlowPipe``): fluid leaves the pipe a transport time
``τ = ρ A L / m`` after it entered, and on the way relaxes towards the surroundings,

    T_out(t) = T_s + (T_in(t - τ) - T_s) exp(-U L / (m cp)),            (1)

with ``U`` the heat-loss conductance per metre (insulation and soil) and ``T_s`` the
surrounding temperature (ambient, or a buried pipe's ground temperature).

A delay is not an ordinary differential equation, so twin discretises the pipe into ``cells``
finite volumes of equal fluid mass along the flow and advects enthalpy between them with a
second-order upwind (MUSCL) flux limited by van Leer's harmonic slope [2]: a temperature
front then travels at the fluid velocity and arrives after τ, smeared over a few cells
instead of the first-order upwind scheme's ``τ/sqrt(N)`` (a tank cascade's Erlang spread).
At steady state the cells reproduce (1) to second order in ``U L / (m cp N)``. Energy is
conserved exactly (flux form: what leaves one cell enters the next; the stored energy is
``M/N Σ h_i``). The outlet is the last cell's state, so a pipe also breaks algebraic loops.
The pipe wall's own heat capacity is not modelled (steel adds 10-20 % to the water's for
district-heating pipes, [1] sec. 2.3).

References
----------
[1] van der Heijde, B., Fuchs, M., Ribas Tugores, C., Schweiger, G., Sartor, K., Basciotti,
    D., Müller, D., Nytsch-Geusen, C., Wetter, M., Helsen, L., "Dynamic equation-based
    thermo-hydraulic pipe model for district heating and cooling systems", Energy
    Conversion and Management 151 (2017) 158-169.
[2] van Leer, B., "Towards the ultimate conservative difference scheme II. Monotonicity
    and conservation combined in a second-order scheme", J. Comput. Phys. 14 (1974) 361-370.
"""

from __future__ import annotations

import math
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core import exergy
from twin.core.component import AbstractComponent
from twin.core.schedule import Schedule
from twin.core.stream import Stream


def van_leer_faces(h_in, h):
    """Specific enthalpy on the downstream face of every cell (flow from cell 0 to N-1).

    The inlet is the upwind ghost of cell 0; the last cell's face is first order (the
    outlet is the cell's own state). [J/kg]
    """
    up = jnp.concatenate([h_in[None], h[:-1]])
    d_minus = h - up
    d_plus = jnp.concatenate([h[1:] - h[:-1], jnp.zeros(1)])
    prod = d_minus * d_plus
    denom = d_minus + d_plus
    slope = jnp.where(prod > 0, 2.0 * prod / jnp.where(prod > 0, denom, 1.0), 0.0)
    return h + 0.5 * slope


class Pipe(AbstractComponent):
    """Pipe with plug-flow-like transport and heat loss (see module docstring).

    Ports
    -----
    inlet, outlet : The fluid in and out.

    Parameters
    ----------
    length : Pipe length. [m]
    diameter : Inner diameter. [m]
    U_loss : Heat-loss conductance per metre of pipe (insulation, soil). [W/(m K)]
    T_surroundings : Temperature the pipe loses heat to, or None for the ambient. [K]
    T_initial : Initial fluid temperature. [K]
    fluid : The liquid (static).
    n_cells : Finite volumes along the pipe (static). [-]
    """

    length: jnp.ndarray
    diameter: jnp.ndarray
    U_loss: jnp.ndarray
    T_surroundings: Schedule | None
    T_initial: jnp.ndarray
    fluid: object = eqx.field(static=True)
    n_cells: int = eqx.field(static=True, default=20)

    inlets: ClassVar = ("inlet",)
    outlets: ClassVar = ("outlet",)
    flow_paths: ClassVar = {"outlet": "inlet"}
    flow_names: ClassVar = ("heat_loss",)
    state_info: ClassVar = {"h": ("J/kg", "specific enthalpy per cell along the flow", ("cell",))}
    signal_info: ClassVar = {
        "T": ("K", "fluid temperature per cell along the flow", ("cell",)),
        "Q_flow_loss": ("W", "heat lost to the surroundings", ()),
        "delay": ("s", "transport time of the fluid through the pipe at the current flow", ()),
    }

    def __check_init__(self):
        if self.n_cells < 2:
            raise ValueError("a pipe needs at least 2 cells")

    def port_fluid(self, port):
        return self.fluid

    @property
    def mass(self):
        """Fluid mass in the pipe. [kg]"""
        return self.fluid.rho * math.pi / 4.0 * self.diameter**2 * self.length

    def initial_state(self):
        return jnp.full((self.n_cells,), self.fluid.h(jnp.asarray(self.T_initial, dtype=float)))

    def stored_energy(self, x):
        return self.mass / self.n_cells * jnp.sum(x)

    def stored_exergy(self, x, T0):
        return self.mass / self.n_cells * jnp.sum(exergy.fluid_exergy(self.fluid, self.fluid.T(x), None, T0))

    def outlet(self, ctx, x, port, inlets):
        s = inlets["inlet"]
        return Stream(s.m_flow, self.fluid.T(x[-1]), x[-1], s.Y)

    def _loss(self, ctx, T):
        """Heat lost from each cell to the surroundings. [W]"""
        T_s = self.T_surroundings(ctx.t) if self.T_surroundings is not None else ctx.T_ambient
        return self.U_loss * self.length / self.n_cells * (T - T_s)

    def rhs(self, ctx, x, inlets, outlets):
        s = inlets["inlet"]
        T = self.fluid.T(x)
        face = s.m_flow * van_leer_faces(s.h, x)
        into = jnp.concatenate([(s.m_flow * s.h)[None], face[:-1]])
        loss = self._loss(ctx, T)
        dx = (into - face - loss) / (self.mass / self.n_cells)
        return dx, {"heat_loss": exergy.heat(-loss, T, ctx.T0)}, {}  # each cell at its temperature

    def signals(self, ctx, x, inlets, outlets):
        T = self.fluid.T(x)
        m = inlets["inlet"].m_flow
        return {"T": T, "Q_flow_loss": jnp.sum(self._loss(ctx, T)),
                "delay": self.mass / jnp.maximum(m, 1e-12)}
