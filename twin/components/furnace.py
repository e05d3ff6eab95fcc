"""Industrial furnace: combustion (or electric heating), gas / load / wall zones, charge inventory.

Zones (Trinks et al. [1], ch. 3-4; Hottel & Sarofim zone method in its simplest form):

* **gas**: fuel burnt completely with excess air (:mod:`twin.thermo.combustion`), flue-gas
  enthalpy from NASA polynomials. By default the gas is *quasi-steady* (its residence time is
  seconds, so a dynamic gas zone makes the plant stiff, DESIGN lesson 1): its temperature
  T_g solves the zone balance

      P_fuel + m_air h_air(T_air) + m_fuel h_fuel(T_amb)
          = m_flue h_flue(T_g) + Q_gas->load + Q_gas->wall,

  with Q_gas->s = σ ε_gs A_s (T_g^4 - T_s^4) + h_conv A_s (T_g - T_s). The left side minus
  the right is concave and decreasing in T_g, so Newton from above (3000 K) converges
  monotonically from a radiative first guess; the converged root gets its gradient from one
  extra Newton step on un-stopped inputs (implicit-function theorem). The flue gas's NASA
  fits are combined into one mixture polynomial first (:func:`twin.thermo.nasa.mixture_polynomial`). ``gas_dynamics="dynamic"`` keeps a gas
  hold-up ``M_gas`` with its enthalpy as state instead (stiff; use an implicit solver).
  An electric furnace has no flue: its power heats the same gas/element zone.
* **load (charge)**: a mass inventory ``M`` with enthalpy ``H`` (both states). Charge enters
  at ambient temperature at ``charge_rate x production(t)``; product is pulled at
  ``charge_rate x pull(t)`` carrying ``H / M``. The charge material has a smooth monotone
  h(T) with its melting/reaction enthalpy (:class:`twin.thermo.pcm.PCMMaterial`). It is
  heated by the gas and by the wall, Q_wall->load = σ ε_wl A_load (T_w^4 - T_load^4).
* **wall**: multi-layer refractory (layers of thickness, conductivity, density, specific
  heat, ``nodes_per_layer`` cells each) on a vertex-centred grid: node 0 is the inner
  surface, the last node the outer surface, which loses ``h_outer`` (convection +
  linearised radiation) to ambient.

Firing is ``firing_rate x schedule(t)`` or, with ``control="pi"``, a PI controller on the
load temperature with back-calculation anti-windup (Åström & Hägglund [3], sec. 3.5)
and a smooth clip of the firing fraction to [firing_min, 1].

Boundary flows: fuel (LHV basis), sensible enthalpy of combustion air and fuel, electricity,
charge in, product out, wall loss; the exhaust is a stream. Tallies: CO2 and fuel mass.

References
----------
[1] Trinks, Mawhinney, Shannon, Reed, Garvey, Industrial Furnaces, 6th ed. (Wiley, 2004).
[2] Incropera et al., Fundamentals of Heat and Mass Transfer, 6th ed., ch. 3 (composite walls), ch. 13.
[3] Åström & Hägglund, Advanced PID Control (ISA, 2006).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from twin.core.component import AbstractComponent
from twin.core.schedule import Schedule
from twin.core.smooth import smooth_clip
from twin.core.stream import Stream
from twin.thermo import combustion, nasa
from twin.thermo.fluids import FLUE_GAS, T_REF
from twin.thermo.pcm import PCMMaterial

SIGMA = 5.670374419e-8  # Stefan-Boltzmann constant (CODATA 2018) [W/(m^2 K^4)]
N_NEWTON = 6  # from the radiative guess: < 1e-9 K (tests/test_furnace.py)


class FurnaceState(eqx.Module):
    """State of a :class:`Furnace`.

    Parameters
    ----------
    M_charge : Charge (load) inventory. [kg]
    H_charge : Enthalpy of the charge relative to 298.15 K. [J]
    T_wall : Refractory node temperatures, inner to outer. [K]
    integral : Integral of the control error (PI control; 0 otherwise). [K s]
    h_gas : Specific enthalpy of the gas hold-up (dynamic gas only; empty otherwise). [J/kg]
    """

    M_charge: jnp.ndarray
    H_charge: jnp.ndarray
    T_wall: jnp.ndarray
    integral: jnp.ndarray
    h_gas: jnp.ndarray


class Furnace(AbstractComponent):
    """Fuel-fired or electric furnace with gas, load and wall zones (see module docstring).

    Ports
    -----
    exhaust : Flue gas out (zero flow for an electric furnace).

    Parameters
    ----------
    firing_rate : Nominal firing rate (fuel LHV power, or electric power). [W]
    firing_schedule : Fraction of nominal firing over time (control="schedule"); under PI
        control its value at t = 0 is the controller's initial output. [-]
    T_set : Load temperature set point (control="pi"). [K]
    kp : Proportional gain (fraction of nominal firing per kelvin). [1/K]
    Ti : Integral time. [s]
    firing_min : Lowest firing fraction (burner turndown). [-]
    excess_air : Excess air, lambda - 1. [-]
    A_load : Load surface area seen by the gas. [m^2]
    A_wall : Inner refractory area. [m^2]
    eps_gas_load, eps_gas_wall, eps_wall_load : Effective exchange emissivities. [-]
    h_conv : Convective coefficient gas -> surfaces. [W/(m^2 K)]
    charge : Charge material (h(T) with its transformation enthalpy).
    M_charge_initial : Initial charge inventory. [kg]
    T_charge_initial : Initial charge temperature. [K]
    charge_rate : Charge (and pull) mass flow at schedule value 1. [kg/s]
    production, pull : Charging and pulling fractions over time. [-]
    layer_thickness, layer_k, layer_rho, layer_cp : Refractory layers, inner first. [m], [W/(m K)], [kg/m^3], [J/(kg K)]
    h_outer : Outer-surface coefficient to ambient. [W/(m^2 K)]
    T_wall_inner_initial : Initial inner wall temperature (steady profile assumed). [K]
    T_ambient_initial : Ambient temperature at t = 0, for that initial profile. [K]
    M_gas : Gas hold-up (gas_dynamics="dynamic"). [kg]
    fuel : Fuel, or None for an electric furnace (static).
    control : "schedule" or "pi" (static).
    gas_dynamics : "quasi_steady" or "dynamic" (static).
    nodes_per_layer : Control volumes per refractory layer (static). [-]
    """

    firing_rate: jnp.ndarray
    firing_schedule: Schedule
    T_set: Schedule
    kp: jnp.ndarray
    Ti: jnp.ndarray
    firing_min: jnp.ndarray
    excess_air: jnp.ndarray
    A_load: jnp.ndarray
    A_wall: jnp.ndarray
    eps_gas_load: jnp.ndarray
    eps_gas_wall: jnp.ndarray
    eps_wall_load: jnp.ndarray
    h_conv: jnp.ndarray
    charge: PCMMaterial
    M_charge_initial: jnp.ndarray
    T_charge_initial: jnp.ndarray
    charge_rate: jnp.ndarray
    production: Schedule
    pull: Schedule
    layer_thickness: jnp.ndarray
    layer_k: jnp.ndarray
    layer_rho: jnp.ndarray
    layer_cp: jnp.ndarray
    h_outer: jnp.ndarray
    T_wall_inner_initial: jnp.ndarray
    T_ambient_initial: jnp.ndarray
    M_gas: jnp.ndarray
    fuel: combustion.Fuel | None = eqx.field(static=True, default=None)
    control: str = eqx.field(static=True, default="schedule")
    gas_dynamics: str = eqx.field(static=True, default="quasi_steady")
    nodes_per_layer: int = eqx.field(static=True, default=3)

    outlets: ClassVar = ("exhaust",)
    flow_names: ClassVar = ("fuel", "electricity", "combustion_air", "charge_in", "product_out", "wall_loss")
    tally_names: ClassVar = ("co2", "fuel_mass", "charge_mass", "product_mass")
    tally_units: ClassVar = {"co2": "kg/s", "fuel_mass": "kg/s", "charge_mass": "kg/s", "product_mass": "kg/s"}
    signal_info: ClassVar = {
        "T_gas": ("K", "furnace gas (zone) temperature", ()),
        "T_load": ("K", "charge (load) temperature", ()),
        "T_wall": ("K", "refractory node temperatures, inner to outer", ("wall_node",)),
        "firing": ("W", "firing rate (fuel LHV or electric power)", ()),
        "Q_flow_to_load": ("W", "heat flow into the charge by radiation and convection", ()),
        "Q_flow_wall_loss": ("W", "heat lost through the refractory to ambient", ()),
        "Q_flow_exhaust": ("W", "exhaust enthalpy flow above the ambient dead state", ()),
    }
    state_info: ClassVar = {
        "M_charge": ("kg", "charge inventory", ()),
        "H_charge": ("J", "charge enthalpy relative to 298.15 K", ()),
        "T_wall": ("K", "refractory node temperatures", ("wall_node",)),
        "integral": ("K s", "integral of the load temperature error", ()),
        "h_gas": ("J/kg", "gas hold-up specific enthalpy", ("gas",)),
    }

    def __check_init__(self):
        if self.control not in ("schedule", "pi"):
            raise ValueError(f"furnace control must be 'schedule' or 'pi', not {self.control!r}")
        if self.gas_dynamics not in ("quasi_steady", "dynamic"):
            raise ValueError(f"gas_dynamics must be 'quasi_steady' or 'dynamic', not {self.gas_dynamics!r}")

    def port_fluid(self, port):
        return FLUE_GAS

    # ------------------------------------------------------------------ wall geometry
    def _wall_nodes(self):
        """Vertex-centred wall grid: (node heat capacities [J/K], conductances between nodes [W/K],
        cumulative resistance from the inner surface to each node [m^2 K/W]).

        Each layer is split into ``nodes_per_layer`` cells; nodes sit on the cell faces, so
        node 0 *is* the inner surface (where radiation lands) and the last node the outer
        surface. A node holds half of each adjacent cell's heat capacity. At steady state the
        node temperatures lie exactly on the series-resistance line of the composite wall
        (Incropera ch. 3), with no half-cell error at the surfaces.
        """
        n = self.nodes_per_layer
        dx = jnp.repeat(jnp.asarray(self.layer_thickness) / n, n)
        k = jnp.repeat(jnp.asarray(self.layer_k), n)
        c = self.A_wall * dx * jnp.repeat(jnp.asarray(self.layer_rho) * jnp.asarray(self.layer_cp), n)
        zero = jnp.zeros(1)
        C = 0.5 * (jnp.concatenate([c, zero]) + jnp.concatenate([zero, c]))
        R = jnp.concatenate([zero, jnp.cumsum(dx / k)])
        return C, self.A_wall * k / dx, R

    # ------------------------------------------------------------------ combustion
    def _firing_fraction(self, ctx, x, T_load):
        if self.control == "schedule":
            u_raw = self.firing_schedule(ctx.t)
            return u_raw, u_raw
        e = self.T_set(ctx.t) - T_load
        u_raw = self.kp * (e + x.integral / self.Ti)
        return u_raw, smooth_clip(u_raw, self.firing_min, 1.0, 0.01)

    def _gas_inputs(self, ctx, u):
        """(enthalpy input rate [W], flue mass flow [kg/s], flue Y, fuel mass flow, P)."""
        P = self.firing_rate * u
        if self.fuel is None:
            return P, jnp.zeros(()), jnp.asarray(combustion.AIR_Y), jnp.zeros(()), P
        fg = combustion.flue_gas(self.fuel, self.excess_air)
        m_fuel = P / combustion.lower_heating_value(self.fuel)
        m_air = fg.afr * m_fuel
        H_in = (P + m_air * nasa.h_mix(ctx.T_ambient, jnp.asarray(combustion.AIR_Y))
                + m_fuel * combustion.h_fuel_sensible(self.fuel, ctx.T_ambient))
        return H_in, m_fuel + m_air, fg.Y_flue, m_fuel, P

    def _surface_exchange(self, T_g, T_load, T_wi):
        r4 = lambda a, b: a**4 - b**4  # noqa: E731
        q_gl = SIGMA * self.eps_gas_load * self.A_load * r4(T_g, T_load) + self.h_conv * self.A_load * (T_g - T_load)
        q_gw = SIGMA * self.eps_gas_wall * self.A_wall * r4(T_g, T_wi) + self.h_conv * self.A_wall * (T_g - T_wi)
        return q_gl, q_gw

    def _gas_temperature(self, H_in, m_flue, Y, T_load, T_wi):
        """Root T_g of the quasi-steady gas balance (see the module docstring). [K]"""
        poly = nasa.mixture_polynomial(Y)
        eA_l = SIGMA * self.eps_gas_load * self.A_load
        eA_w = SIGMA * self.eps_gas_wall * self.A_wall
        hA_l, hA_w = self.h_conv * self.A_load, self.h_conv * self.A_wall

        def f_df(T, H_in, m_flue, poly, T_load, T_wi):
            h, cp = nasa.h_cp_poly(T, poly)
            T3 = T * T * T
            f = (H_in - m_flue * h - eA_l * (T3 * T - T_load**4) - hA_l * (T - T_load)
                 - eA_w * (T3 * T - T_wi**4) - hA_w * (T - T_wi))
            return f, -m_flue * cp - 4.0 * (eA_l + eA_w) * T3 - hA_l - hA_w

        args = (H_in, m_flue, poly, T_load, T_wi)
        frozen = jax.lax.stop_gradient(args)
        # Start above the root: radiation-only balance with the flue enthalpy taken at the
        # cooler surface, which over-states the heat left for radiation. f is concave and
        # decreasing, so Newton then descends monotonically onto the root.
        h_cold, _ = nasa.h_cp_poly(jnp.minimum(T_load, T_wi), poly)
        rad = (frozen[0] - frozen[1] * h_cold + eA_l * T_load**4 + eA_w * T_wi**4) / (eA_l + eA_w)
        T = jnp.clip(jnp.maximum(rad, 1.0) ** 0.25, jnp.maximum(T_load, T_wi), 4000.0)
        T = jax.lax.stop_gradient(T)
        # Unrolled (not lax.scan): XLA fuses the iterations and can share this solve between
        # the outlet and rhs passes, which a loop body would hide from it.
        for _ in range(N_NEWTON):
            f, df = f_df(T, *frozen)
            T = T - f / df
        T_star = jax.lax.stop_gradient(T)
        f, df = f_df(T_star, *args)
        return T_star - f / jax.lax.stop_gradient(df)

    def _zones(self, ctx, x):
        """Everything the passes share: temperatures, firing, gas inputs and surface heat flows.

        Computed once per call, in the outlet pass; the exhaust stream carries it to ``rhs``
        and ``signals`` as its ``aux``.
        """
        T_load = self.charge.T(x.H_charge / x.M_charge)
        T_wi = x.T_wall[0]
        u_raw, u = self._firing_fraction(ctx, x, T_load)
        H_in, m_flue, Y, m_fuel, P = self._gas_inputs(ctx, u)
        if self.gas_dynamics == "quasi_steady":
            T_g = self._gas_temperature(H_in, m_flue, Y, T_load, T_wi)
            h_g = nasa.h_cp_poly(T_g, nasa.mixture_polynomial(Y))[0]
        else:
            h_g = x.h_gas[0]
            T_g = nasa.T_from_h_mix(h_g, Y)
        q_gl, q_gw = self._surface_exchange(T_g, T_load, T_wi)
        q_wl = SIGMA * self.eps_wall_load * self.A_load * (T_wi**4 - T_load**4)
        return dict(T_load=T_load, T_g=T_g, h_g=h_g, u_raw=u_raw, u=u, H_in=H_in, m_flue=m_flue,
                    Y=Y, m_fuel=m_fuel, P=P, q_gl=q_gl, q_gw=q_gw, q_wl=q_wl)

    # ------------------------------------------------------------------ passes
    def mass_flow_out(self, ctx, x, port, m_in):
        T_load = self.charge.T(x.H_charge / x.M_charge)
        _, u = self._firing_fraction(ctx, x, T_load)
        return self._gas_inputs(ctx, u)[1]

    def outlet(self, ctx, x, port, inlets):
        z = self._zones(ctx, x)
        return Stream(z["m_flue"], z["T_g"], z["h_g"], z["Y"], aux=z)

    def _wall_rhs(self, ctx, x, q_inner):
        C, G, _ = self._wall_nodes()
        q = G * (x.T_wall[:-1] - x.T_wall[1:])
        loss = self.A_wall * self.h_outer * (x.T_wall[-1] - ctx.T_ambient)
        net = jnp.concatenate([q_inner[None], q]) - jnp.concatenate([q, loss[None]])
        return net / C, loss

    def rhs(self, ctx, x, inlets, outlets):
        # the zones were solved for the exhaust stream in this call: reuse them
        z = outlets["exhaust"].aux
        dT_wall, loss = self._wall_rhs(ctx, x, z["q_gw"] - z["q_wl"])
        m_in = self.charge_rate * self.production(ctx.t)
        m_out = self.charge_rate * self.pull(ctx.t)
        e_in = m_in * self.charge.h(ctx.T_ambient)
        e_out = -m_out * x.H_charge / x.M_charge
        dH = e_in + e_out + z["q_gl"] + z["q_wl"]
        d_int = jnp.zeros(())
        if self.control == "pi":
            # back-calculation anti-windup: the integrator tracks the clipped output
            e = self.T_set(ctx.t) - z["T_load"]
            d_int = e + (z["u"] - z["u_raw"]) / self.kp
        dh_gas = jnp.zeros(0)
        if self.gas_dynamics == "dynamic":
            dh_gas = ((z["H_in"] - z["m_flue"] * z["h_g"] - z["q_gl"] - z["q_gw"]) / self.M_gas)[None]
        fuel = self.fuel is not None
        flows = {
            "fuel": z["P"] if fuel else jnp.zeros(()),
            "electricity": jnp.zeros(()) if fuel else z["P"],
            "combustion_air": z["H_in"] - z["P"] if fuel else jnp.zeros(()),
            "charge_in": e_in,
            "product_out": e_out,
            "wall_loss": -loss,
        }
        co2 = combustion.flue_gas(self.fuel, self.excess_air).co2_per_kg_fuel if fuel else 0.0
        tallies = {
            "co2": z["m_fuel"] * co2,
            "fuel_mass": z["m_fuel"],
            "charge_mass": m_in,
            "product_mass": m_out,
        }
        dx = FurnaceState(M_charge=m_in - m_out, H_charge=dH, T_wall=dT_wall, integral=d_int, h_gas=dh_gas)
        return dx, flows, tallies

    def signals(self, ctx, x, inlets, outlets):
        z = outlets["exhaust"].aux
        _, loss = self._wall_rhs(ctx, x, z["q_gw"] - z["q_wl"])
        h0 = nasa.h_mix(ctx.T_ambient, z["Y"])
        return {
            "T_gas": z["T_g"], "T_load": z["T_load"], "T_wall": x.T_wall, "firing": z["P"],
            "Q_flow_to_load": z["q_gl"] + z["q_wl"], "Q_flow_wall_loss": loss,
            "Q_flow_exhaust": z["m_flue"] * (z["h_g"] - h0),
        }

    # ------------------------------------------------------------------ state and energy
    def initial_state(self):
        # steady conduction profile from the inner surface through the outer film to ambient
        _, _, R = self._wall_nodes()
        R_total = R[-1] + 1.0 / self.h_outer
        T_in, T_amb = self.T_wall_inner_initial, self.T_ambient_initial
        T_wall = T_in - (T_in - T_amb) * R / R_total
        M = jnp.asarray(self.M_charge_initial, dtype=float)
        h_gas = jnp.zeros(0)
        if self.gas_dynamics == "dynamic":
            Y = combustion.flue_gas(self.fuel, self.excess_air).Y_flue if self.fuel else jnp.asarray(combustion.AIR_Y)
            h_gas = nasa.h_mix(self.T_wall_inner_initial, Y)[None]
        return FurnaceState(
            M_charge=M, H_charge=M * self.charge.h(self.T_charge_initial), T_wall=T_wall,
            # PI control starts from the schedule's first firing fraction (bumpless start)
            integral=self.Ti * self.firing_schedule(0.0) / self.kp if self.control == "pi" else jnp.zeros(()),
            h_gas=h_gas,
        )

    def stored_energy(self, x):
        e = x.H_charge + jnp.sum(self._wall_nodes()[0] * (x.T_wall - T_REF))
        if self.gas_dynamics == "dynamic":
            e = e + self.M_gas * x.h_gas[0]
        return e
