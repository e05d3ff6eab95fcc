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

The pipe wall's own heat capacity (steel adds 10-30 % to the water's in district-heating
pipes) is left out by default. Given ``C_wall`` it is lumped, as in [1] and in Modelica
Buildings' ``PlugFlowPipe`` [3], into adiabatic, well-mixed volumes of fluid holding the
equivalent mass ``C_wall / cp(298.15 K)`` (Buildings' ``VEqu``): half at the inlet and half
at the outlet (``wall_symmetric=True``, Buildings' default ``have_symmetry=true`` since
2021), or all at the outlet (``wall_symmetric=False``, the model of [1]). A temperature
front then leaves through one or two first-order lags of time constant
``C_wall / (m cp)`` in total, which is how [1] reproduced the ULg test bench; the outlet
is the last volume's state. :func:`wall_heat_capacity` and :func:`insulation_conductance`
give ``C_wall`` and ``U_loss`` from the pipe's geometry as [3] computes them.

References
----------
[1] van der Heijde, B., Fuchs, M., Ribas Tugores, C., Schweiger, G., Sartor, K., Basciotti,
    D., Müller, D., Nytsch-Geusen, C., Wetter, M., Helsen, L., "Dynamic equation-based
    thermo-hydraulic pipe model for district heating and cooling systems", Energy
    Conversion and Management 151 (2017) 158-169.
[2] van Leer, B., "Towards the ultimate conservative difference scheme II. Monotonicity
    and conservation combined in a second-order scheme", J. Comput. Phys. 14 (1974) 361-370.
[3] Modelica Buildings library, ``Buildings.Fluid.FixedResistances.PlugFlowPipe`` (LBNL):
    ``CPip``, ``VEqu`` and the thermal resistance ``R`` per metre.
[4] Incropera, F. P. et al., Fundamentals of Heat and Mass Transfer, 6th ed., Wiley 2007,
    sec. 3.3.1 (cylindrical wall and outer convection in series).
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
from twin.thermo.fluids import T_REF


def wall_heat_capacity(diameter, thickness, length, rho_wall, c_wall):
    """Heat capacity of a pipe wall of inner ``diameter`` and ``thickness`` [m], ``length``
    [m], density ``rho_wall`` [kg/m^3] and specific heat ``c_wall`` [J/(kg K)], as
    Buildings' ``CPip`` [3]: ``L pi/4 ((d + 2 t)^2 - d^2) rho c``. [J/K]"""
    return length * math.pi / 4.0 * ((diameter + 2.0 * thickness) ** 2 - diameter**2) * rho_wall * c_wall


def insulation_conductance(d_outer, d_insulation, k_insulation, h_outer=None):
    """Heat-loss conductance per metre of a pipe of outer diameter ``d_outer`` [m] in an
    insulation shell of thickness ``d_insulation`` [m] and conductivity ``k_insulation``
    [W/(m K)], with an outer film coefficient ``h_outer`` [W/(m^2 K)] (None: the outer
    surface is at the surroundings' temperature). The inverse of the resistance in series
    ``ln((r + d)/r) / (2 pi k) + 1 / (h pi (d_outer + 2 d))`` [4], Buildings' ``R`` [3];
    the fluid film and the steel wall are neglected. [W/(m K)]"""
    r = 0.5 * d_outer
    R = jnp.log((r + d_insulation) / r) / (2.0 * math.pi * k_insulation)
    if h_outer is not None:
        R = R + 1.0 / (h_outer * math.pi * (d_outer + 2.0 * d_insulation))
    return 1.0 / R


class PipeState(eqx.Module):
    """State of a :class:`Pipe` with a wall heat capacity.

    Parameters
    ----------
    h : Specific enthalpy per cell along the flow. [J/kg]
    h_wall : Specific enthalpy of the volumes that hold the wall's capacity: inlet and
        outlet (``wall_symmetric``), or the outlet alone. [J/kg]
    """

    h: jnp.ndarray
    h_wall: jnp.ndarray


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
    T_initial : Initial fluid temperature, one value or one per cell. [K]
    fluid : The liquid (static).
    n_cells : Finite volumes along the pipe (static). [-]
    C_wall : Heat capacity of the pipe wall, or None (no wall; the state is then the
        cells' enthalpies alone, else a :class:`PipeState`). [J/K]
    wall_symmetric : Lump half the wall at the inlet and half at the outlet (static;
        False: all at the outlet). [-]
    """

    length: jnp.ndarray
    diameter: jnp.ndarray
    U_loss: jnp.ndarray
    T_surroundings: Schedule | None
    T_initial: jnp.ndarray
    fluid: object = eqx.field(static=True)
    n_cells: int = eqx.field(static=True, default=20)
    C_wall: jnp.ndarray | None = None
    wall_symmetric: bool = eqx.field(static=True, default=True)

    inlets: ClassVar = ("inlet",)
    outlets: ClassVar = ("outlet",)
    flow_paths: ClassVar = {"outlet": "inlet"}
    flow_names: ClassVar = ("heat_loss",)
    state_info: ClassVar = {
        "h": ("J/kg", "specific enthalpy per cell along the flow", ("cell",)),
        "h_wall": ("J/kg", "specific enthalpy of the volumes holding the wall's capacity, inlet first",
                   ("wall_volume",)),
    }
    signal_info: ClassVar = {
        "T": ("K", "fluid temperature per cell along the flow", ("cell",)),
        "T_wall": ("K", "temperature of the volumes holding the wall's capacity, inlet first (with C_wall)",
                   ("wall_volume",)),
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

    @property
    def wall_mass(self):
        """Fluid mass of each wall volume, inlet first: ``C_wall / cp(298.15 K)`` split as
        ``wall_symmetric`` says. [kg]"""
        M = jnp.asarray(self.C_wall / self.fluid.cp(T_REF))
        return jnp.stack([0.5 * M, 0.5 * M]) if self.wall_symmetric else M[None]

    def _split(self, x):
        """(cell enthalpies, wall-volume enthalpies or None). [J/kg]"""
        return (x, None) if self.C_wall is None else (x.h, x.h_wall)

    def initial_state(self):
        T0 = jnp.asarray(self.T_initial, dtype=float)
        h = jnp.broadcast_to(self.fluid.h(T0), (self.n_cells,))
        if self.C_wall is None:
            return h
        # each wall volume starts at the temperature of the cell beside it
        return PipeState(h=h, h_wall=jnp.stack([h[0], h[-1]]) if self.wall_symmetric else h[-1:])

    def stored_energy(self, x):
        h, h_wall = self._split(x)
        e = self.mass / self.n_cells * jnp.sum(h)
        return e if h_wall is None else e + jnp.sum(self.wall_mass * h_wall)

    def stored_exergy(self, x, T0):
        h, h_wall = self._split(x)
        xs = self.mass / self.n_cells * jnp.sum(exergy.fluid_exergy(self.fluid, self.fluid.T(h), None, T0))
        if h_wall is None:
            return xs
        return xs + jnp.sum(self.wall_mass * exergy.fluid_exergy(self.fluid, self.fluid.T(h_wall), None, T0))

    def outlet(self, ctx, x, port, inlets):
        s = inlets["inlet"]
        h, h_wall = self._split(x)
        h_out = h[-1] if h_wall is None else h_wall[-1]
        return Stream(s.m_flow, self.fluid.T(h_out), h_out, s.Y)

    def _loss(self, ctx, T):
        """Heat lost from each cell to the surroundings. [W]"""
        T_s = self.T_surroundings(ctx.t) if self.T_surroundings is not None else ctx.T_ambient
        return self.U_loss * self.length / self.n_cells * (T - T_s)

    def rhs(self, ctx, x, inlets, outlets):
        s = inlets["inlet"]
        m = s.m_flow
        h, h_wall = self._split(x)
        # what enters the first cell: the inlet, or the (adiabatic, well-mixed) inlet wall volume
        h_first = h_wall[0] if h_wall is not None and self.wall_symmetric else s.h
        T = self.fluid.T(h)
        face = m * van_leer_faces(h_first, h)
        into = jnp.concatenate([(m * h_first)[None], face[:-1]])
        loss = self._loss(ctx, T)
        dh = (into - face - loss) / (self.mass / self.n_cells)
        flows = {"heat_loss": exergy.heat(-loss, T, ctx.T0)}  # each cell at its temperature
        if h_wall is None:
            return dh, flows, {}
        # the last cell's outflow mixes into the outlet wall volume, which feeds the outlet
        upstream = jnp.stack([m * s.h, face[-1]]) if self.wall_symmetric else face[-1:]
        return PipeState(h=dh, h_wall=(upstream - m * h_wall) / self.wall_mass), flows, {}

    def signals(self, ctx, x, inlets, outlets):
        h, h_wall = self._split(x)
        T = self.fluid.T(h)
        m = inlets["inlet"].m_flow
        out = {"T": T, "Q_flow_loss": jnp.sum(self._loss(ctx, T)), "delay": self.mass / jnp.maximum(m, 1e-12)}
        if h_wall is not None:
            out["T_wall"] = self.fluid.T(h_wall)
        return out
