"""Stratified hot-water (or thermal-oil) storage tank as N well-mixed layers.

The multi-node tank of Duffie & Beckman [1, sec. 8.4] with fixed inlet positions, as in
Modelica Buildings' ``Fluid.Storage.Stratified`` [2]: layer 0 is the top. The charging
(source) loop enters at the top (``hot_in``) and leaves at the bottom (``cold_out``); the
discharging (load) loop enters at the bottom (``cold_in``) and leaves at the top
(``hot_out``). Between layers the *net* flow ``m_net = m_source - m_load`` (downward
positive) carries the enthalpy of the upstream layer (upwind). Every layer holds the same
fluid mass ``M/N`` with its specific enthalpy as the state, so the stored energy is linear
in the state and the tank conserves energy to round-off.

Heat exchange of layer i:

* losses through the insulation, ``U A_i (T_amb - T_i)``, with A_i its share of the
  mantle plus the lid (top layer) or the floor (bottom layer) of a cylinder of the given
  volume and height; with ``floor_loss=False`` the floor is adiabatic (a tank standing on
  its own insulated base, or Buildings' ``heaPorBot`` left unconnected);
* optionally (``d_insulation``, ``k_insulation``) the conductances of an insulation shell
  as ``Buildings.Fluid.Storage.BaseClasses.PartialStratified`` [2] computes them, added to
  the ``U A_i`` above: per layer the cylindrical shell
  ``2 pi k_ins dz / ln((r + d_ins) / r)`` (Incropera [3]), and the flat lid and
  floor ``A_cross k_ins / d_ins`` on the top and bottom layers;
* conduction between adjacent layers, ``k_fluid A_cross / dz (T_i+1 - T_i)``;
* buoyancy: when a layer is warmer than the one above (an inversion), they exchange heat
  as in ``Buildings.Fluid.Storage.BaseClasses.Buoyancy`` [2]. ``buoyancy="linear"`` (the
  default) uses ``M_layer cp / tau_buoyancy * max(T_below - T_above, 0)`` with the switch
  smoothed over 0.05 K so gradients exist, as a conductance times the temperature
  difference, ``M_layer cp / tau_buoyancy * step(ΔT) ΔT`` with a smooth step: heat only
  ever flows from the warmer layer to the colder one, exactly none between layers of equal
  temperature, so a tank at rest stays as it is and generates no negative entropy. (The
  smoothed ``max(ΔT, 0)`` used before left ``M_layer cp / tau_buoyancy * 0.025 K`` flowing
  upwards between equal layers: an idle uniform tank stratified by itself, creating exergy;
  found by tests/test_properties.py.)
  ``buoyancy="quadratic"`` is Buildings' law itself,
  ``M_layer cp / tau_buoyancy * max(T_below - T_above, 0)^2 / (1 K)``, which is
  continuously differentiable without smoothing, exactly zero without an inversion, and
  stiff only while one lasts: use it with Buildings' ``tau = 1 s``.

The up/down split of the net flow uses ``smooth_max(m_net, 0)`` and
``smooth_max(-m_net, 0)``, whose difference is exactly ``m_net``: mass is conserved exactly.

References
----------
[1] Duffie, J. A., Beckman, W. A., Solar Engineering of Thermal Processes, 4th ed.,
    Wiley 2013, sec. 8.4 (stratified liquid storage).
[2] Wetter, M. et al., Modelica Buildings library, ``Buildings.Fluid.Storage.Stratified``,
    ``BaseClasses.PartialStratified`` and ``BaseClasses.Buoyancy`` (LBNL).
[3] Incropera, F. P. et al., Fundamentals of Heat and Mass Transfer, 6th ed., Wiley 2007,
    sec. 3.3.1 (radial conduction through a cylindrical wall).
"""

from __future__ import annotations

import math
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core import exergy
from twin.core.component import AbstractComponent
from twin.core.smooth import smooth_max, smooth_step
from twin.core.stream import Stream

_M_SMOOTH = 1e-6  # width of the smooth up/down split of the net flow [kg/s]
_DT_BUOYANCY = 1.0  # temperature scale of the quadratic buoyancy law (Buildings: 1 K) [K]
_DT_SMOOTH = 0.05  # width of the smooth switch of the linear buoyancy law [K]


class StratifiedTank(AbstractComponent):
    """Stratified storage tank (see module docstring).

    Ports
    -----
    hot_in : Charging flow into the top layer.
    cold_out : Charging flow out of the bottom layer.
    cold_in : Load return into the bottom layer.
    hot_out : Load supply out of the top layer.

    Parameters
    ----------
    volume : Fluid volume. [m^3]
    height : Height of the fluid column. [m]
    U_loss : Heat-loss coefficient of the insulated envelope. [W/(m^2 K)]
    k_fluid : Thermal conductivity of the fluid (vertical conduction). [W/(m K)]
    tau_buoyancy : Time constant of buoyancy mixing of an inverted layer pair. [s]
    T_initial : Initial temperature per layer, top first (or one value). [K]
    n_layers : Number of layers (static). [-]
    fluid : The stored liquid (static).
    buoyancy : ``"linear"`` (smoothed, the default) or ``"quadratic"`` (Buildings' law;
        static). [-]
    d_insulation : Thickness of an insulation shell, or None for ``U_loss`` alone. [m]
    k_insulation : Thermal conductivity of that insulation (with ``d_insulation``). [W/(m K)]
    floor_loss : Whether the floor loses heat (static; False: adiabatic floor). [-]
    """

    volume: jnp.ndarray
    height: jnp.ndarray
    U_loss: jnp.ndarray
    k_fluid: jnp.ndarray
    tau_buoyancy: jnp.ndarray
    T_initial: jnp.ndarray
    fluid: object = eqx.field(static=True)
    n_layers: int = eqx.field(static=True, default=10)
    buoyancy: str = eqx.field(static=True, default="linear")
    d_insulation: jnp.ndarray | None = None
    k_insulation: jnp.ndarray | None = None
    floor_loss: bool = eqx.field(static=True, default=True)

    inlets: ClassVar = ("hot_in", "cold_in")
    outlets: ClassVar = ("hot_out", "cold_out")
    flow_paths: ClassVar = {"hot_out": "cold_in", "cold_out": "hot_in"}
    flow_names: ClassVar = ("envelope_loss",)
    state_info: ClassVar = {"h": ("J/kg", "specific enthalpy of each layer, top first", ("layer",))}
    signal_info: ClassVar = {
        "T": ("K", "layer temperature, top first", ("layer",)),
        "Q_flow_loss": ("W", "heat lost through the envelope", ()),
        "stratification": ("K", "top minus bottom layer temperature", ()),
    }

    def __check_init__(self):
        if self.n_layers < 2:
            raise ValueError("a stratified tank needs at least 2 layers")
        if self.buoyancy not in ("linear", "quadratic"):
            raise ValueError(f"buoyancy must be 'linear' or 'quadratic', not {self.buoyancy!r}")
        if (self.d_insulation is None) != (self.k_insulation is None):
            raise ValueError("give both d_insulation and k_insulation, or neither")

    def port_fluid(self, port):
        return self.fluid

    # ------------------------------------------------------------------ geometry
    def _geometry(self):
        n = self.n_layers
        A_cross = self.volume / self.height
        D = jnp.sqrt(4.0 * A_cross / math.pi)
        dz = self.height / n
        A = jnp.full((n,), math.pi * D * dz)
        A = A.at[0].add(A_cross)  # lid
        if self.floor_loss:
            A = A.at[-1].add(A_cross)  # floor
        M_layer = self.fluid.rho * self.volume / n
        return A, A_cross, dz, M_layer

    def envelope_conductance(self):
        """Conductance from each layer to the ambient, top first. [W/K]"""
        A, A_cross, dz, _ = self._geometry()
        G = self.U_loss * A
        if self.d_insulation is not None:
            r = jnp.sqrt(A_cross / math.pi)
            d, k = self.d_insulation, self.k_insulation
            G = G + 2.0 * math.pi * k * dz / jnp.log((r + d) / r)  # cylindrical shell [3]
            G = G.at[0].add(A_cross * k / d)  # lid
            if self.floor_loss:
                G = G.at[-1].add(A_cross * k / d)  # floor
        return G

    def initial_state(self):
        T0 = jnp.broadcast_to(jnp.asarray(self.T_initial, dtype=float), (self.n_layers,))
        return self.fluid.h(T0)

    def stored_energy(self, x):
        return self._geometry()[3] * jnp.sum(x)

    def stored_exergy(self, x, T0):
        return self._geometry()[3] * jnp.sum(exergy.fluid_exergy(self.fluid, self.fluid.T(x), None, T0))

    def outlet(self, ctx, x, port, inlets):
        i = 0 if port == "hot_out" else -1
        s = inlets["cold_in" if port == "hot_out" else "hot_in"]
        return Stream(s.m_flow, self.fluid.T(x[i]), x[i], s.Y)

    def _exchange(self, ctx, x):
        """(T per layer [K], heat into each layer from losses, conduction and buoyancy [W], loss [W])."""
        _, A_cross, dz, M_layer = self._geometry()
        T = self.fluid.T(x)
        loss = self.envelope_conductance() * (ctx.T_ambient - T)
        cp = self.fluid.cp(0.5 * (T[:-1] + T[1:]))
        # heat flowing upwards across each interface (from layer i+1 to layer i)
        dT = T[1:] - T[:-1]
        cond = self.k_fluid * A_cross / dz * dT
        if self.buoyancy == "quadratic":  # Buildings' Buoyancy: k max(dT, 0)^2, C1 as it is [2]
            buoy = M_layer * cp / self.tau_buoyancy * jnp.maximum(dT, 0.0) ** 2 / _DT_BUOYANCY
        else:
            buoy = M_layer * cp / self.tau_buoyancy * smooth_step(dT, _DT_SMOOTH) * dT
        up = cond + buoy
        zero = jnp.zeros(1)
        q = loss + jnp.concatenate([up, zero]) - jnp.concatenate([zero, up])
        return T, q, loss

    def rhs(self, ctx, x, inlets, outlets):
        _, _, _, M_layer = self._geometry()
        src, load = inlets["hot_in"], inlets["cold_in"]
        m_net = src.m_flow - load.m_flow  # downward positive
        down = smooth_max(m_net, 0.0, _M_SMOOTH)
        upw = smooth_max(-m_net, 0.0, _M_SMOOTH)  # down - upw == m_net exactly
        T, q, loss = self._exchange(ctx, x)
        # enthalpy crossing each interface i|i+1 (downward positive), upwind
        f = down * x[:-1] - upw * x[1:]
        zero = jnp.zeros(1)
        adv = jnp.concatenate([zero, f]) - jnp.concatenate([f, zero])
        adv = adv.at[0].add(src.m_flow * src.h - load.m_flow * x[0])
        adv = adv.at[-1].add(load.m_flow * load.h - src.m_flow * x[-1])
        # each layer's loss at the layer's temperature
        return (adv + q) / M_layer, {"envelope_loss": exergy.heat(loss, T, ctx.T0)}, {}

    def signals(self, ctx, x, inlets, outlets):
        T, _, loss = self._exchange(ctx, x)
        return {"T": T, "Q_flow_loss": -jnp.sum(loss), "stratification": T[0] - T[-1]}
