"""Heat users fed through a heat exchanger: a fab's make-up-air reheat and a district substation.

Both take hot water (or oil) from the plant's loop on their primary side and heat a secondary
medium through a counterflow exchanger of conductance ``UA``. The secondary side asks for a
heat flow ``Q_req`` between its inlet temperature ``T_sec,in`` and its set point ``T_set``; the
exchanger can give at most (Incropera et al. [1], eq. 11.29b)

    Q_max = ε C_min (T_prim,in - T_sec,in),
    ε = (1 - exp(-NTU (1 - C_r))) / (1 - C_r exp(-NTU (1 - C_r))),   NTU = UA / C_min,

and a control valve (a primary bypass, ideal control as Modelica Buildings' ``Heater_T``)
delivers ``Q = min(Q_req, Q_max)``, smoothed over ``1e-3 Q_nominal`` so gradients exist. The
primary side leaves at ``h_out = h_in - Q / m``: energy balances exactly. What the loop
cannot give, ``Q_req - Q``, is either supplied by the user's own backup (the fab's boiler or
electric reheater, drawing ``(Q_req - Q) / η``) or left unmet (the substation reports it).

``FabHVAC``: semiconductor fabs condition 100 % outside make-up air; it is cooled to about
11-13 °C to dehumidify and then *reheated* to a tight supply window (typically 19-21 °C,
±0.5 K) all year, so reheat is a large, steady low-temperature heat demand that waste heat
at 40-90 °C can cover (Hu & Chuah, ASHRAE Trans. 109 (2003) 2; Tschudi et al., LBNL-49419,
2002). The air reaching the reheat coil is the outside air cooled to ``T_dehum`` when it is
warmer, else the outside air itself (winter preheat counted as reheat). The tally
``window_violation_time`` accumulates the time the supply air would miss the window without
the backup.

``DistrictSubstation``: a building's substation with a demand profile ``Q_demand(t)`` on its
secondary side, supplied at ``T_sec,supply`` and returning at ``T_sec,return`` (e.g. 60/40
°C for a modern radiator network; EN 13941, Frederiksen & Werner, *District Heating and
Cooling*, 2013, ch. 6). The primary return temperature it produces is what a district
heating operator watches.

References
----------
[1] Incropera, DeWitt, Bergman, Lavine, Fundamentals of Heat and Mass Transfer, 6th ed.
    (Wiley, 2007), eq. 11.29b.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core import exergy
from twin.core.component import AbstractStatelessComponent
from twin.core.schedule import Schedule
from twin.core.smooth import smooth_max, smooth_min
from twin.core.stream import Stream
from twin.thermo import combustion

CP_AIR = 1006.0  # dry air near 20 degC (Incropera table A.4) [J/(kg K)]
_M_EPS = 1e-9  # [kg/s]


def counterflow_effectiveness(ntu, c_r):
    """Counterflow ε(NTU, C_r), Incropera eq. 11.29b, with its C_r -> 1 limit NTU/(1+NTU). [-]"""
    one = jnp.abs(1.0 - c_r) < 1e-6
    c = jnp.where(one, 0.5, c_r)
    e = jnp.exp(-ntu * (1.0 - c))
    return jnp.where(one, ntu / (1.0 + ntu), (1.0 - e) / (1.0 - c * e))


def _coil(fluid, s: Stream, UA, C_sec, T_sec_in, Q_req, Q_nominal):
    """Heat the primary stream ``s`` gives to a secondary of capacity rate ``C_sec`` [W/K]
    entering at ``T_sec_in``, capped at ``Q_req``: (Q [W], primary outlet h [J/kg])."""
    m = jnp.where(s.m_flow > _M_EPS, s.m_flow, 1.0)
    C_p = m * fluid.cp(s.T)
    C_min, C_max = jnp.minimum(C_p, C_sec), jnp.maximum(C_p, C_sec)
    eps = counterflow_effectiveness(UA / C_min, C_min / C_max)
    Q_max = smooth_max(eps * C_min * (s.T - T_sec_in), 0.0, 1e-3 * Q_nominal)
    Q = smooth_min(Q_req, Q_max, 1e-3 * Q_nominal) * (s.m_flow > _M_EPS)
    Q = jnp.maximum(Q, 0.0)
    return Q, s.h - Q / m


class FabHVAC(AbstractStatelessComponent):
    """Make-up-air reheat of a semiconductor fab (see module docstring).

    Ports
    -----
    supply, return : Heating water in and out.

    Parameters
    ----------
    air_flow : Make-up air mass flow over time. [kg/s]
    T_set : Supply-air set point over time. [K]
    T_dehum : Air temperature leaving the dehumidifying cooling coil. [K]
    UA : Reheat coil conductance. [W/K]
    window : Half-width of the supply-air window. [K]
    backup_efficiency : The fab's own reheat (boiler or electric), heat over energy drawn. [-]
    fluid : Heating water (static).
    backup_fuel : Fuel of the backup boiler, or None for electric reheat (static).
    """

    air_flow: Schedule
    T_set: Schedule
    T_dehum: jnp.ndarray
    UA: jnp.ndarray
    window: jnp.ndarray
    backup_efficiency: jnp.ndarray
    fluid: object = eqx.field(static=True)
    backup_fuel: combustion.Fuel | None = eqx.field(static=True, default=None)

    inlets: ClassVar = ("supply",)
    outlets: ClassVar = ("return",)
    flow_paths: ClassVar = {"return": "supply"}
    flow_names: ClassVar = ("reheat", "electricity", "fuel", "backup_loss")  # backup's draw
    tally_names: ClassVar = ("heat_delivered", "backup_heat", "window_violation_time", "co2",
                             "exergy_delivered")
    tally_units: ClassVar = {"heat_delivered": "W", "backup_heat": "W", "window_violation_time": "s/s",
                             "co2": "kg/s", "exergy_delivered": "W"}
    signal_info: ClassVar = {
        "Q_flow_required": ("W", "reheat required by the make-up air", ()),
        "Q_flow": ("W", "reheat covered by the heating water", ()),
        "Q_flow_backup": ("W", "reheat covered by the fab's own backup", ()),
        "T_air_coil_in": ("K", "air temperature entering the reheat coil", ()),
        "T_air_without_backup": ("K", "supply-air temperature the heating water alone reaches", ()),
    }

    def thermal_inputs(self, port):
        return ("supply",)

    def _reheat(self, ctx, s: Stream):
        """(required, from the water, primary outlet h, air temperatures in and at set point)."""
        m_a = self.air_flow(ctx.t)
        T_in = smooth_min(ctx.T_ambient, self.T_dehum, 0.2)
        T_set = self.T_set(ctx.t)
        C_a = m_a * CP_AIR
        Q_req = smooth_max(C_a * (T_set - T_in), 0.0, 0.01 * C_a)
        Q, h_out = _coil(self.fluid, s, self.UA, C_a, T_in, Q_req, jnp.maximum(Q_req, 1.0) + C_a)
        return Q_req, Q, h_out, T_in, T_set, C_a

    def outlet(self, ctx, x, port, inlets):
        s = inlets["supply"]
        r = self._reheat(ctx, s)  # solved once per call: rhs and signals read it from aux
        return Stream(s.m_flow, self.fluid.T(r[2]), r[2], s.Y, aux=r)

    def rhs(self, ctx, x, inlets, outlets):
        Q_req, Q, _, T_in, T_set, C_a = outlets["return"].aux
        Q_b = jnp.maximum(Q_req - Q, 0.0)
        P_b = Q_b / self.backup_efficiency
        # the air is heated from T_in to T_set: its exergy gain, Q - T0 C ln(T_set/T_in)
        X_air = Q_req - ctx.T0 * C_a * jnp.log(T_set / T_in)
        fuel = self.backup_fuel is not None
        flows = {
            "reheat": exergy.Flow(-Q_req, -X_air),
            "electricity": exergy.nothing() if fuel else exergy.work(P_b),
            "fuel": exergy.fuel(P_b, combustion.exergy_factor(self.backup_fuel)) if fuel else exergy.nothing(),
            "backup_loss": exergy.heat(Q_b - P_b, ctx.T_ambient, ctx.T0),
        }
        co2 = 0.0
        if fuel:
            co2 = P_b / combustion.lower_heating_value(self.backup_fuel) * combustion.flue_gas(self.backup_fuel, 0.0).co2_per_kg_fuel
        T_water_only = T_in + Q / jnp.maximum(C_a, 1e-9)
        miss = jnp.clip((T_set - self.window - T_water_only) / (0.05 * self.window) + 0.5, 0.0, 1.0)
        # useful exergy: what the air gains; none when reheat only brings air that was cooled
        # below the dead state back towards it (reheat after dehumidification in summer)
        tallies = {"heat_delivered": Q, "backup_heat": Q_b, "window_violation_time": miss,
                   "co2": jnp.asarray(co2, dtype=float), "exergy_delivered": jnp.maximum(X_air, 0.0)}
        return jnp.zeros(0), flows, tallies

    def signals(self, ctx, x, inlets, outlets):
        Q_req, Q, _, T_in, _, C_a = outlets["return"].aux
        return {"Q_flow_required": Q_req, "Q_flow": Q, "Q_flow_backup": jnp.maximum(Q_req - Q, 0.0),
                "T_air_coil_in": T_in, "T_air_without_backup": T_in + Q / jnp.maximum(C_a, 1e-9)}


class DistrictSubstation(AbstractStatelessComponent):
    """Building substation on a district or site heating loop (see module docstring).

    Ports
    -----
    supply, return : Primary (network) water in and out.

    Parameters
    ----------
    Q_demand : Secondary heat demand over time. [W]
    T_sec_supply : Secondary supply temperature over time (heating curve). [K]
    T_sec_return : Secondary return temperature. [K]
    UA : Substation exchanger conductance. [W/K]
    fluid : Primary water (static).
    """

    Q_demand: Schedule
    T_sec_supply: Schedule
    T_sec_return: jnp.ndarray
    UA: jnp.ndarray
    fluid: object = eqx.field(static=True)

    inlets: ClassVar = ("supply",)
    outlets: ClassVar = ("return",)
    flow_paths: ClassVar = {"return": "supply"}
    flow_names: ClassVar = ("heat_delivered",)
    tally_names: ClassVar = ("unmet_demand", "exergy_delivered")
    tally_units: ClassVar = {"unmet_demand": "W", "exergy_delivered": "W"}
    signal_info: ClassVar = {
        "Q_flow": ("W", "heat delivered to the building", ()),
        "unmet_demand": ("W", "demand the network could not meet", ()),
    }

    def thermal_inputs(self, port):
        return ("supply",)

    def _exchange(self, ctx, s: Stream):
        Q_dem = jnp.maximum(self.Q_demand(ctx.t), 0.0)
        T_sup = self.T_sec_supply(ctx.t)
        # the secondary's capacity rate follows from its demand and design temperature lift
        C_sec = Q_dem / jnp.maximum(T_sup - self.T_sec_return, 1.0) + 1e-6
        Q, h_out = _coil(self.fluid, s, self.UA, C_sec, self.T_sec_return, Q_dem, jnp.maximum(Q_dem, 1.0))
        return Q_dem, Q, h_out, T_sup

    def outlet(self, ctx, x, port, inlets):
        s = inlets["supply"]
        r = self._exchange(ctx, s)  # solved once per call: rhs and signals read it from aux
        return Stream(s.m_flow, self.fluid.T(r[2]), r[2], s.Y, aux=r)

    def rhs(self, ctx, x, inlets, outlets):
        Q_dem, Q, _, T_sup = outlets["return"].aux
        # delivered across the secondary's temperature lift (entropic mean temperature)
        T_ret = self.T_sec_return
        T_m = jnp.where(jnp.abs(T_sup - T_ret) > 1e-6, (T_sup - T_ret) / jnp.log(T_sup / T_ret), T_ret)
        use = exergy.heat(-Q, T_m, ctx.T0)
        return jnp.zeros(0), {"heat_delivered": use}, {"unmet_demand": Q_dem - Q, "exergy_delivered": -use.exergy}

    def signals(self, ctx, x, inlets, outlets):
        Q_dem, Q, _, _ = outlets["return"].aux
        return {"Q_flow": Q, "unmet_demand": Q_dem - Q}
