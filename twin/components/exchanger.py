"""Counterflow (or parallel-flow) heat exchanger as N finite-volume cells per side with a wall
between them.

Hot fluid runs through cells 0 -> N-1, cold fluid N-1 -> 0 (counterflow, the default) or
0 -> N-1 (``arrangement="parallel_flow"``); cell i of each side exchanges heat with wall
cell i. Each side is either

* ``dynamic``: a well-mixed hold-up per cell with specific enthalpy as its state,
  ``M_i dh_i/dt = m (h_upstream - h_i) + Q_i``, ``Q_i = hA_i (T_wall,i - T_i)``; or
* ``quasi_steady``: no hold-up (gas sides: their residence time is milliseconds, so keeping
  it dynamic makes the plant stiff, DESIGN lesson 1; Modelica's
  ``energyDynamics=SteadyState``). Along cell i the fluid relaxes exponentially towards the
  wall, ``T_out = T_w + (T_in - T_w) exp(-hA_i / (m cp))``, the exact solution for a
  constant-temperature wall and constant cp (cp at the cell's mean temperature, see
  :func:`twin.core.march.relax_march`), and the heat passed on is the enthalpy difference
  ``Q_i = m (h(T_in) - h(T_out))``. Energy balances exactly whatever cp is used in the
  exponent, because the wall receives precisely what the fluid gave up.

With ``1/UA = 1/hA_hot + 1/hA_cold`` (a thin wall of capacity ``C_wall`` and no conduction
resistance) and ``hA_hot / hA_cold = hA_ratio``, the steady state tends to the ε-NTU
relation of its arrangement as N grows [1, table 11.3]: ``tests/test_exchanger.py`` checks
that the error falls with N for counterflow, ``tests/test_exchanger_parallel_flow.py`` for
parallel flow, and the validation case ``validation/hx_eps_ntu_grid`` over a grid of NTU and
C_r for both.

References
----------
[1] Incropera, DeWitt, Bergman, Lavine, Fundamentals of Heat and Mass Transfer, 6th ed.,
    eq. 11.29b and table 11.3 (Wiley, 2007).
[2] Shah & Sekulić, Fundamentals of Heat Exchanger Design, ch. 3 (Wiley, 2003).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core import exergy
from twin.core.component import AbstractComponent
from twin.core.march import relax_march
from twin.core.stream import Stream
from twin.thermo.fluids import T_REF


class ExchangerState(eqx.Module):
    """State of a :class:`CounterflowExchanger`.

    Parameters
    ----------
    h_hot, h_cold : Specific enthalpy of each dynamic side's cells (empty if quasi-steady). [J/kg]
    T_wall : Wall temperature per cell. [K]
    """

    h_hot: jnp.ndarray
    h_cold: jnp.ndarray
    T_wall: jnp.ndarray


class CounterflowExchanger(AbstractComponent):
    """Counterflow (or parallel-flow) exchanger, ``n_cells`` cells per side, hot fluid / wall /
    cold fluid.

    Ports
    -----
    hot_in, hot_out : The hot fluid (e.g. flue gas) in and out.
    cold_in, cold_out : The cold fluid (e.g. thermal oil) in and out.

    Parameters
    ----------
    UA : Overall conductance between the two fluids. [W/K]
    hA_ratio : Ratio of hot-side to cold-side film conductance. [-]
    C_wall : Heat capacity of the wall. [J/K]
    M_hot, M_cold : Fluid hold-up of each side (used when that side is dynamic). [kg]
    T_initial : Initial temperature of walls and hold-ups. [K]
    n_cells : Cells per side (static). [-]
    hot_dynamics, cold_dynamics : "dynamic" or "quasi_steady" (static).
    hot_fluid, cold_fluid : Fluids of each side (static).
    arrangement : "counterflow" (cold fluid enters at cell N-1) or "parallel_flow" (at
        cell 0) (static).
    """

    UA: jnp.ndarray
    hA_ratio: jnp.ndarray
    C_wall: jnp.ndarray
    M_hot: jnp.ndarray
    M_cold: jnp.ndarray
    T_initial: jnp.ndarray
    hot_fluid: object = eqx.field(static=True)
    cold_fluid: object = eqx.field(static=True)
    n_cells: int = eqx.field(static=True, default=20)
    hot_dynamics: str = eqx.field(static=True, default="quasi_steady")
    cold_dynamics: str = eqx.field(static=True, default="dynamic")
    arrangement: str = eqx.field(static=True, default="counterflow")

    inlets: ClassVar = ("hot_in", "cold_in")
    outlets: ClassVar = ("hot_out", "cold_out")
    flow_paths: ClassVar = {"hot_out": "hot_in", "cold_out": "cold_in"}
    flow_names: ClassVar = ()
    tally_names: ClassVar = ("heat_recovered",)
    tally_units: ClassVar = {"heat_recovered": "W"}
    state_info: ClassVar = {
        "h_hot": ("J/kg", "specific enthalpy of the hot-side cells", ("cell",)),
        "h_cold": ("J/kg", "specific enthalpy of the cold-side cells", ("cell",)),
        "T_wall": ("K", "wall temperature per cell", ("cell",)),
    }
    signal_info: ClassVar = {
        "T_hot": ("K", "hot fluid temperature at each cell outlet", ("cell",)),
        "T_cold": ("K", "cold fluid temperature at each cell outlet", ("cell",)),
        "Q_flow": ("W", "heat flow from the hot to the cold fluid (through the wall)", ()),
        "effectiveness": ("1", "heat flow over the maximum possible heat flow", ()),
    }

    def __check_init__(self):
        for side in (self.hot_dynamics, self.cold_dynamics):
            if side not in ("dynamic", "quasi_steady"):
                raise ValueError(f"exchanger side dynamics must be 'dynamic' or 'quasi_steady', not {side!r}")
        if self.arrangement not in ("counterflow", "parallel_flow"):
            raise ValueError(f"exchanger arrangement must be 'counterflow' or 'parallel_flow', "
                             f"not {self.arrangement!r}")

    # ------------------------------------------------------------------ helpers
    @property
    def hA_hot(self):
        return self.UA * (1.0 + self.hA_ratio)

    @property
    def hA_cold(self):
        return self.UA * (1.0 + self.hA_ratio) / self.hA_ratio

    def port_fluid(self, port):
        return self.hot_fluid if port.startswith("hot") else self.cold_fluid

    def thermal_inputs(self, port):
        if port == "hot_out" and self.hot_dynamics == "quasi_steady":
            return ("hot_in",)
        if port == "cold_out" and self.cold_dynamics == "quasi_steady":
            return ("cold_in",)
        return ()

    def initial_state(self):
        n = self.n_cells
        T0 = jnp.full((n,), self.T_initial)
        h_hot = self.hot_fluid.h(T0, self._Y0(self.hot_fluid)) if self.hot_dynamics == "dynamic" else jnp.zeros(0)
        h_cold = self.cold_fluid.h(T0, self._Y0(self.cold_fluid)) if self.cold_dynamics == "dynamic" else jnp.zeros(0)
        return ExchangerState(h_hot=h_hot, h_cold=h_cold, T_wall=T0)

    @staticmethod
    def _Y0(fluid):
        if fluid.is_gas:
            from twin.thermo.combustion import AIR_Y

            return jnp.asarray(AIR_Y)
        return None

    def stored_energy(self, x):
        e = jnp.sum(self.C_wall / self.n_cells * (x.T_wall - T_REF))
        if self.hot_dynamics == "dynamic":
            e = e + jnp.sum(self.M_hot / self.n_cells * x.h_hot)
        if self.cold_dynamics == "dynamic":
            e = e + jnp.sum(self.M_cold / self.n_cells * x.h_cold)
        return e

    def stored_exergy(self, x, T0):
        # a dynamic gas hold-up does not keep its composition in the state: its exergy is
        # evaluated as air's (the same approximation as its initial state)
        n = self.n_cells
        X = exergy.capacity_exergy(self.C_wall / n, x.T_wall, T0)
        for fluid, dyn, M, h in ((self.hot_fluid, self.hot_dynamics, self.M_hot, x.h_hot),
                                 (self.cold_fluid, self.cold_dynamics, self.M_cold, x.h_cold)):
            if dyn == "dynamic":
                Y = self._Y0(fluid)
                X = X + M / n * jnp.sum(exergy.fluid_exergy(fluid, fluid.T(h, Y), Y, T0))
        return X

    def _reversed(self, which):
        """Whether ``which`` side flows from cell N-1 to cell 0 (the cold side of counterflow)."""
        return which == "cold" and self.arrangement == "counterflow"

    def _side(self, which, x, inlet: Stream):
        """(T of each cell in cell order, heat each cell *receives from the wall* [W], outlet h, T)."""
        hot = which == "hot"
        rev = self._reversed(which)
        fluid = self.hot_fluid if hot else self.cold_fluid
        dyn = self.hot_dynamics if hot else self.cold_dynamics
        hA_cell = (self.hA_hot if hot else self.hA_cold) / self.n_cells
        out = 0 if rev else -1
        if dyn == "quasi_steady":
            path = x.T_wall[::-1] if rev else x.T_wall
            h, T, Q = relax_march(fluid, inlet, path, hA_cell)
            if rev:
                h, T, Q = h[::-1], T[::-1], Q[::-1]
            # Q is what the fluid gave up; the wall receives it
            return T, -Q, h[out], T[out]
        hcell = x.h_hot if hot else x.h_cold
        T = fluid.T(hcell, inlet.Y if fluid.is_gas else None)
        Q_from_wall = hA_cell * (x.T_wall - T)
        return T, Q_from_wall, hcell[out], T[out]

    # ------------------------------------------------------------------ passes
    def outlet(self, ctx, x, port, inlets):
        which = "hot" if port == "hot_out" else "cold"
        inlet = inlets[f"{which}_in"]
        if (self.hot_dynamics if which == "hot" else self.cold_dynamics) == "dynamic":
            fluid = self.hot_fluid if which == "hot" else self.cold_fluid
            h = x.h_hot[-1] if which == "hot" else x.h_cold[0 if self._reversed("cold") else -1]
            return Stream(inlet.m_flow, fluid.T(h, inlet.Y), h, inlet.Y)
        T, q, h_out, T_out = self._side(which, x, inlet)
        return Stream(inlet.m_flow, T_out, h_out, inlet.Y, aux=(T, q))

    def _side_of_call(self, which, x, inlets, outlets):
        """(cell temperatures, heat from the wall per cell) of one side, reusing the march that
        produced the outlet stream in this call when the side is quasi-steady."""
        aux = outlets[f"{which}_out"].aux
        if aux is not None:
            return aux
        T, q, _, _ = self._side(which, x, inlets[f"{which}_in"])
        return T, q

    def rhs(self, ctx, x, inlets, outlets):
        n = self.n_cells
        _, q_hot = self._side_of_call("hot", x, inlets, outlets)
        _, q_cold = self._side_of_call("cold", x, inlets, outlets)
        dT_wall = -(q_hot + q_cold) / (self.C_wall / n)
        dh_hot = jnp.zeros(0)
        if self.hot_dynamics == "dynamic":
            s = inlets["hot_in"]
            up = jnp.concatenate([s.h[None], x.h_hot[:-1]])
            dh_hot = (s.m_flow * (up - x.h_hot) + q_hot) / (self.M_hot / n)
        dh_cold = jnp.zeros(0)
        if self.cold_dynamics == "dynamic":
            s = inlets["cold_in"]
            if self._reversed("cold"):
                up = jnp.concatenate([x.h_cold[1:], s.h[None]])
            else:
                up = jnp.concatenate([s.h[None], x.h_cold[:-1]])
            dh_cold = (s.m_flow * (up - x.h_cold) + q_cold) / (self.M_cold / n)
        dx = ExchangerState(h_hot=dh_hot, h_cold=dh_cold, T_wall=dT_wall)
        return dx, {}, {"heat_recovered": jnp.sum(q_cold)}

    def signals(self, ctx, x, inlets, outlets):
        hi, ci = inlets["hot_in"], inlets["cold_in"]
        T_hot, _ = self._side_of_call("hot", x, inlets, outlets)
        T_cold, q_cold = self._side_of_call("cold", x, inlets, outlets)
        Q = jnp.sum(q_cold)
        C_hot = hi.m_flow * self.hot_fluid.cp(hi.T, hi.Y)
        C_cold = ci.m_flow * self.cold_fluid.cp(ci.T, ci.Y)
        Q_max = jnp.minimum(C_hot, C_cold) * (hi.T - ci.T)
        eff = Q / jnp.where(jnp.abs(Q_max) > 1e-9, Q_max, 1.0)
        return {"T_hot": T_hot, "T_cold": T_cold, "Q_flow": Q, "effectiveness": eff}
