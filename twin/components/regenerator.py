"""Two-bed regenerator with periodic flow reversal (glass-furnace checkers, Cowper stoves).

Two beds of refractory checkers, A and B, each ``n_cells`` cells of heat capacity
``C_bed / n_cells`` along the flow. For the first half of every ``period`` the hot gas
(flue) passes bed A from cell 0 to cell n-1 while the cold gas (combustion air) passes bed
B in the opposite direction (counterflow, from cell n-1 to cell 0); for the second half the
beds swap. The gases are quasi-steady (residence times of a second against reversal periods
of 20-30 minutes in glass furnaces; Trinks et al. [1], ch. 10): in each cell they relax
exponentially towards the checker temperature, exactly as the quasi-steady sides of
:mod:`twin.components.exchanger`, with film conductances ``hA_hot`` and ``hA_cold`` per bed
(``1/UA = 1/hA_hot + 1/hA_cold``, ``hA_hot / hA_cold = hA_ratio``). The checkers receive
exactly what the gases give up, so energy balances to round-off; the reversals are schedule
breakpoints the solver steps onto.

For a fast-switched regenerator (checker capacity large against the heat passed in a
half-period, ``C_bed / (C_min period) >> 1``) the time-averaged effectiveness tends to that
of a counterflow recuperator with ``NTU_0 = UA / C_min`` (Hausen's limit; Kays & London [2],
sec. 2.4, and Shah & Sekulić [3], sec. 5.2), which ``tests/test_regenerator.py`` checks.

References
----------
[1] Trinks, Mawhinney, Shannon, Reed, Garvey, Industrial Furnaces, 6th ed. (Wiley, 2004).
[2] Kays, W. M., London, A. L., Compact Heat Exchangers, 3rd ed. (McGraw-Hill, 1984).
[3] Shah, R. K., Sekulić, D. P., Fundamentals of Heat Exchanger Design (Wiley, 2003), ch. 5.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core import exergy
from twin.core.component import AbstractComponent
from twin.core.march import relax_march
from twin.core.schedule import Schedule
from twin.core.stream import Stream
from twin.thermo.fluids import T_REF


class RegeneratorState(eqx.Module):
    """Checker temperatures of beds A and B, cell 0 at the hot-gas inlet end. [K]"""

    T_A: jnp.ndarray
    T_B: jnp.ndarray


class Regenerator(AbstractComponent):
    """Two-bed regenerator (see module docstring).

    Ports
    -----
    hot_in, hot_out : The hot gas (flue) in and out.
    cold_in, cold_out : The cold gas (combustion air) in and out.

    Parameters
    ----------
    UA : Overall gas-to-gas conductance of one bed, ``1/(1/hA_hot + 1/hA_cold)``. [W/K]
    hA_ratio : Hot-side over cold-side film conductance. [-]
    C_bed : Heat capacity of the checkers of one bed. [J/K]
    phase : 0 while the hot gas passes bed A, 1 while it passes bed B, over time. [-]
    T_initial : Initial checker temperature. [K]
    hot_fluid, cold_fluid : The gases (static).
    n_cells : Cells along each bed (static). [-]
    """

    UA: jnp.ndarray
    hA_ratio: jnp.ndarray
    C_bed: jnp.ndarray
    phase: Schedule
    T_initial: jnp.ndarray
    hot_fluid: object = eqx.field(static=True)
    cold_fluid: object = eqx.field(static=True)
    n_cells: int = eqx.field(static=True, default=10)

    inlets: ClassVar = ("hot_in", "cold_in")
    outlets: ClassVar = ("hot_out", "cold_out")
    flow_paths: ClassVar = {"hot_out": "hot_in", "cold_out": "cold_in"}
    tally_names: ClassVar = ("heat_recovered",)
    tally_units: ClassVar = {"heat_recovered": "W"}
    state_info: ClassVar = {
        "T_A": ("K", "checker temperature of bed A, hot-gas inlet end first", ("cell",)),
        "T_B": ("K", "checker temperature of bed B, hot-gas inlet end first", ("cell",)),
    }
    signal_info: ClassVar = {
        "Q_flow": ("W", "heat passed to the cold gas", ()),
        "hot_bed": ("1", "bed heated by the hot gas (0: A, 1: B)", ()),
    }

    def port_fluid(self, port):
        return self.hot_fluid if port.startswith("hot") else self.cold_fluid

    def thermal_inputs(self, port):
        return ("hot_in",) if port == "hot_out" else ("cold_in",)

    def _films(self):
        hA_cold = self.UA * (1.0 + 1.0 / self.hA_ratio)
        return self.hA_ratio * hA_cold, hA_cold

    def _beds(self, ctx, x):
        """(checkers seen by the hot gas, by the cold gas, phase as 0/1)."""
        b = jnp.clip(self.phase(ctx.t), 0.0, 1.0)
        hot_bed = jnp.where(b > 0.5, x.T_B, x.T_A)
        cold_bed = jnp.where(b > 0.5, x.T_A, x.T_B)
        return hot_bed, cold_bed, b > 0.5

    def _side(self, ctx, x, which: str, inlet: Stream):
        """March one gas through its bed: (heat it gave up per cell, in bed order [W], h, T out)."""
        hot_bed, cold_bed, _ = self._beds(ctx, x)
        hA_h, hA_c = self._films()
        n = self.n_cells
        if which == "hot":
            h, T, Q = relax_march(self.hot_fluid, inlet, hot_bed, hA_h / n)
            return Q, h[-1], T[-1]
        h, T, Q = relax_march(self.cold_fluid, inlet, cold_bed[::-1], hA_c / n)  # counterflow
        return Q[::-1], h[-1], T[-1]

    def outlet(self, ctx, x, port, inlets):
        which = "hot" if port == "hot_out" else "cold"
        s = inlets[f"{which}_in"]
        Q, h, T = self._side(ctx, x, which, s)
        return Stream(s.m_flow, T, h, s.Y, aux=Q)

    def rhs(self, ctx, x, inlets, outlets):
        Q_h, Q_c = outlets["hot_out"].aux, outlets["cold_out"].aux
        _, _, on_b = self._beds(ctx, x)
        c = self.C_bed / self.n_cells
        # the hot bed gains what the hot gas gave up; the cold bed gives what the cold gas took
        dT_A = jnp.where(on_b, Q_c, Q_h) / c
        dT_B = jnp.where(on_b, Q_h, Q_c) / c
        return RegeneratorState(T_A=dT_A, T_B=dT_B), {}, {"heat_recovered": -jnp.sum(Q_c)}

    def initial_state(self):
        T = jnp.full((self.n_cells,), jnp.asarray(self.T_initial, dtype=float))
        return RegeneratorState(T_A=T, T_B=T)

    def stored_energy(self, x):
        return self.C_bed / self.n_cells * jnp.sum((x.T_A - T_REF) + (x.T_B - T_REF))

    def stored_exergy(self, x, T0):
        c = self.C_bed / self.n_cells
        return exergy.capacity_exergy(c, x.T_A, T0) + exergy.capacity_exergy(c, x.T_B, T0)

    def signals(self, ctx, x, inlets, outlets):
        Q_c = outlets["cold_out"].aux
        return {"Q_flow": -jnp.sum(Q_c), "hot_bed": jnp.clip(self.phase(ctx.t), 0.0, 1.0)}
