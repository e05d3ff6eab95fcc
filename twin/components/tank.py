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
  volume and height;
* conduction between adjacent layers, ``k_fluid A_cross / dz (T_i+1 - T_i)``;
* buoyancy: when a layer is warmer than the one above (an inversion), they exchange
  ``M_layer cp / tau_buoyancy * max(T_below - T_above, 0)``, the model of
  ``Buildings.Fluid.Storage.BaseClasses.Buoyancy`` [2]. The max is smoothed over
  ``dT_smooth`` (0.05 K) so gradients exist; a smaller ``tau_buoyancy`` mixes faster but
  makes the equations stiffer (Buildings uses 1 s with an implicit solver).

The up/down split of the net flow uses ``smooth_max(m_net, 0)`` and
``smooth_max(-m_net, 0)``, whose difference is exactly ``m_net``: mass is conserved exactly.

References
----------
[1] Duffie, J. A., Beckman, W. A., Solar Engineering of Thermal Processes, 4th ed.,
    Wiley 2013, sec. 8.4 (stratified liquid storage).
[2] Wetter, M. et al., Modelica Buildings library, ``Buildings.Fluid.Storage.Stratified``
    and ``BaseClasses.Buoyancy`` (LBNL).
"""

from __future__ import annotations

import math
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core import exergy
from twin.core.component import AbstractComponent
from twin.core.smooth import smooth_max
from twin.core.stream import Stream

_M_SMOOTH = 1e-6  # width of the smooth up/down split of the net flow [kg/s]


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
    """

    volume: jnp.ndarray
    height: jnp.ndarray
    U_loss: jnp.ndarray
    k_fluid: jnp.ndarray
    tau_buoyancy: jnp.ndarray
    T_initial: jnp.ndarray
    fluid: object = eqx.field(static=True)
    n_layers: int = eqx.field(static=True, default=10)

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

    def port_fluid(self, port):
        return self.fluid

    # ------------------------------------------------------------------ geometry
    def _geometry(self):
        n = self.n_layers
        A_cross = self.volume / self.height
        D = jnp.sqrt(4.0 * A_cross / math.pi)
        dz = self.height / n
        A = jnp.full((n,), math.pi * D * dz)
        A = A.at[0].add(A_cross).at[-1].add(A_cross)  # lid and floor
        M_layer = self.fluid.rho * self.volume / n
        return A, A_cross, dz, M_layer

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
        A, A_cross, dz, M_layer = self._geometry()
        T = self.fluid.T(x)
        loss = self.U_loss * A * (ctx.T_ambient - T)
        cp = self.fluid.cp(0.5 * (T[:-1] + T[1:]))
        # heat flowing upwards across each interface (from layer i+1 to layer i)
        cond = self.k_fluid * A_cross / dz * (T[1:] - T[:-1])
        buoy = M_layer * cp / self.tau_buoyancy * smooth_max(T[1:] - T[:-1], 0.0, 0.05)
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
