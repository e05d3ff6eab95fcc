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

Combustion air is drawn from ambient. :class:`AirPreheatFurnace` (``combustion_air:
preheated``) sends it out through ``air_out`` (the burner fan's delivery, at ambient
temperature and at the flow the firing needs) and takes it back preheated through
``air_in``, so a recuperator or regenerator between the two closes the loop: hotter air
means less fuel for the same load, the classic furnace saving (Trinks [1], ch. 9).

Charge and cullet: the charge enters at ambient temperature. Its material card describes raw
batch, whose h(T) includes the transformation enthalpy ``L`` (for glass the batch reactions
and dissolution, 0.5 MJ/kg). A share ``cullet_share`` of the charge is recycled material
(cullet), already transformed: it enters with ``L`` more enthalpy per kilogram, and with
the transformation's entropy ``L / T_tr`` (``T_tr`` the middle of the card's transformation
range), so exergy ``L (1 - T0 / T_tr)``. The rest, raw batch, releases ``batch_co2``
kilograms of process CO2 per kilogram (carbonates). The charge's energy inflow is therefore
``m h(T_amb) + r m L``. What this captures of the 2.5-3 % fuel saving per 10 % of cullet seen
in practice (EU BREF Glass 2013, sec. 3.2.2) is the reaction heat; the heat carried off by
the batch gases and the faster melting of cullet are not modelled, and the gases' mass is
not added to the flue (about 0.2 kg per kg of glass against 2-3 kg of flue gas).

Product and scrap: of the product pulled, a share ``forming_yield`` leaves the forming
line as good product, the rest as scrap (rejected ware; in glass the "pack-to-melt" ratio,
85-95 % for container glass, EU BREF Glass 2013 sec. 3.4), which plants remelt as in-house
cullet. Both are mass inventories tallied over the run; the energy per tonne of *good*
product (:mod:`twin.kpi`, ``specific_energy``) is the figure plants and the BREF quote.
Forming happens outside the furnace, so the yield changes no energy flow here.

Boundary flows: fuel (LHV basis), sensible enthalpy of combustion air and fuel, electricity,
charge in, product out, wall loss; the exhaust is a stream. Tallies: CO2 (fuel and batch),
fuel mass, charge and recycled mass, product pulled (``product_mass``), good product
(``good_mass``) and scrap (``scrap_mass``), and the exergy delivered to the product.

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

from twin.core import exergy
from twin.core.component import AbstractComponent
from twin.core.schedule import Schedule
from twin.core.smooth import smooth_clip
from twin.core.stream import Stream
from twin.thermo import combustion, nasa
from twin.thermo.fluids import AIR, FLUE_GAS, T_REF
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
    cullet_share : Recycled share of the charge, in [0, 1]. [-]
    batch_co2 : Process CO2 per kg of product made from batch. [kg/kg]
    forming_yield : Good product / product pulled, in (0, 1]; the rest is scrap. [-]
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
    cullet_share: jnp.ndarray
    batch_co2: jnp.ndarray
    fuel: combustion.Fuel | None = eqx.field(static=True, default=None)
    control: str = eqx.field(static=True, default="schedule")
    gas_dynamics: str = eqx.field(static=True, default="quasi_steady")
    nodes_per_layer: int = eqx.field(static=True, default=3)
    forming_yield: float | jnp.ndarray = 1.0

    outlets: ClassVar = ("exhaust",)
    flow_names: ClassVar = ("fuel", "electricity", "combustion_air", "charge_in", "product_out", "wall_loss")
    tally_names: ClassVar = ("co2", "fuel_mass", "charge_mass", "recycled_mass", "product_mass",
                             "good_mass", "scrap_mass", "exergy_delivered")
    tally_units: ClassVar = {"co2": "kg/s", "fuel_mass": "kg/s", "charge_mass": "kg/s", "recycled_mass": "kg/s",
                             "product_mass": "kg/s", "good_mass": "kg/s", "scrap_mass": "kg/s",
                             "exergy_delivered": "W"}
    signal_info: ClassVar = {
        "T_gas": ("K", "furnace gas (zone) temperature", ()),
        "T_load": ("K", "charge (load) temperature", ()),
        "T_wall": ("K", "refractory node temperatures, inner to outer", ("wall_node",)),
        "firing": ("W", "firing rate (fuel LHV or electric power)", ()),
        "Q_flow_to_load": ("W", "heat flow into the charge by radiation and convection", ()),
        "Q_flow_wall_loss": ("W", "heat lost through the refractory to ambient", ()),
        "Q_flow_exhaust": ("W", "exhaust enthalpy flow above the ambient dead state", ()),
        "T_air": ("K", "combustion air temperature at the burners", ()),
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
        return FLUE_GAS if port == "exhaust" else AIR

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

    def _firing(self, ctx, x):
        """Firing fraction from the state (mass pass, before the zones are solved). [-]"""
        return self._firing_fraction(ctx, x, self.charge.T(x.H_charge / x.M_charge))[1]

    def _air_demand(self, u):
        """(fuel power P [W], fuel mass flow [kg/s], combustion air mass flow [kg/s])."""
        P = self.firing_rate * u
        if self.fuel is None:
            return P, jnp.zeros(()), jnp.zeros(())
        m_fuel = P / combustion.lower_heating_value(self.fuel)
        return P, m_fuel, combustion.flue_gas(self.fuel, self.excess_air).afr * m_fuel

    def _gas_inputs(self, ctx, u, air: Stream | None = None):
        """(enthalpy input rate [W], flue mass flow [kg/s], flue Y, fuel mass flow, P,
        enthalpy of the ambient air and fuel drawn [W], air temperature at the burners [K]).

        ``air`` is the preheated combustion air (:class:`AirPreheatFurnace`), else the air
        is taken at ambient temperature."""
        P, m_fuel, m_air = self._air_demand(u)
        if self.fuel is None:
            return P, jnp.zeros(()), jnp.asarray(combustion.AIR_Y), m_fuel, P, jnp.zeros(()), ctx.T_ambient
        Y_air = jnp.asarray(combustion.AIR_Y)
        H_ambient = m_air * nasa.h_mix(ctx.T_ambient, Y_air) + m_fuel * combustion.h_fuel_sensible(self.fuel, ctx.T_ambient)
        if air is None:
            H_in, m_flue, T_air = P + H_ambient, m_fuel + m_air, ctx.T_ambient
        else:
            H_in = P + air.enthalpy_flow + m_fuel * combustion.h_fuel_sensible(self.fuel, ctx.T_ambient)
            m_flue, T_air = m_fuel + air.m_flow, air.T
        return H_in, m_flue, combustion.flue_gas(self.fuel, self.excess_air).Y_flue, m_fuel, P, H_ambient, T_air

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

    def _zones(self, ctx, x, air: Stream | None = None):
        """Everything the passes share: temperatures, firing, gas inputs and surface heat flows.

        Computed once per call, in the outlet pass; the exhaust stream carries it to ``rhs``
        and ``signals`` as its ``aux``.
        """
        T_load = self.charge.T(x.H_charge / x.M_charge)
        T_wi = x.T_wall[0]
        u_raw, u = self._firing_fraction(ctx, x, T_load)
        H_in, m_flue, Y, m_fuel, P, H_ambient, T_air = self._gas_inputs(ctx, u, air)
        if self.gas_dynamics == "quasi_steady":
            T_g = self._gas_temperature(H_in, m_flue, Y, T_load, T_wi)
            h_g = nasa.h_cp_poly(T_g, nasa.mixture_polynomial(Y))[0]
        else:
            h_g = x.h_gas[0]
            T_g = nasa.T_from_h_mix(h_g, Y)
        q_gl, q_gw = self._surface_exchange(T_g, T_load, T_wi)
        q_wl = SIGMA * self.eps_wall_load * self.A_load * (T_wi**4 - T_load**4)
        return dict(T_load=T_load, T_g=T_g, h_g=h_g, u_raw=u_raw, u=u, H_in=H_in, m_flue=m_flue,
                    Y=Y, m_fuel=m_fuel, P=P, q_gl=q_gl, q_gw=q_gw, q_wl=q_wl, H_ambient=H_ambient,
                    T_air=T_air, m_air=m_flue - m_fuel)

    # ------------------------------------------------------------------ passes
    def mass_flow_out(self, ctx, x, port, m_in):
        return self._gas_inputs(ctx, self._firing(ctx, x))[1]

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
        batch = m_in * (1.0 - self.cullet_share)
        h_amb = self.charge.h(ctx.T_ambient)
        L = self.charge.latent_heat
        e_in = m_in * h_amb + (m_in - batch) * L  # cullet is already transformed
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
            "fuel": exergy.fuel(z["P"], combustion.exergy_factor(self.fuel)) if fuel else exergy.nothing(),
            "electricity": exergy.nothing() if fuel else exergy.work(z["P"]),
            "combustion_air": self._air_flow(ctx, z) if fuel else exergy.nothing(),
            "charge_in": exergy.Flow(e_in, m_in * self._charge_exergy(h_amb, ctx.T0) + (m_in - batch) * L * (
                1.0 - ctx.T0 / (0.5 * (self.charge.T_solidus + self.charge.T_liquidus)))),
            "product_out": exergy.matter(-m_out, x.H_charge / x.M_charge, self._charge_exergy(x.H_charge / x.M_charge, ctx.T0)),
            "wall_loss": exergy.heat(-loss, x.T_wall[-1], ctx.T0),  # at the outer surface
        }
        co2 = combustion.flue_gas(self.fuel, self.excess_air).co2_per_kg_fuel if fuel else 0.0
        tallies = {
            "co2": z["m_fuel"] * co2 + batch * self.batch_co2,
            "fuel_mass": z["m_fuel"],
            "charge_mass": m_in,
            "recycled_mass": m_in - batch,
            "product_mass": m_out,
            "good_mass": self.forming_yield * m_out,
            "scrap_mass": (1.0 - self.forming_yield) * m_out,
            # the useful effect: exergy the product leaves with over what the charge brought
            "exergy_delivered": -(flows["product_out"].exergy + flows["charge_in"].exergy),
        }
        dx = FurnaceState(M_charge=m_in - m_out, H_charge=dH, T_wall=dT_wall, integral=d_int, h_gas=dh_gas)
        return dx, flows, tallies

    def _charge_exergy(self, h, T0):
        """Specific exergy of the charge material at specific enthalpy ``h``. [J/kg]"""
        h0 = self.charge.h(T0)
        return exergy.specific_exergy(h, self.charge.s(h), h0, self.charge.s(h0), T0)

    def _air_flow(self, ctx, z):
        """Combustion air and the fuel's sensible enthalpy, both at ambient temperature. The
        fuel's thermomechanical exergy (its sensible part; under 0.1 % of its chemical exergy
        for |T_amb - T0| < 30 K) is not counted."""
        Y = jnp.asarray(combustion.AIR_Y)
        return exergy.Flow(z["H_ambient"], z["m_air"] * exergy.fluid_exergy(AIR, ctx.T_ambient, Y, ctx.T0))

    def signals(self, ctx, x, inlets, outlets):
        z = outlets["exhaust"].aux
        _, loss = self._wall_rhs(ctx, x, z["q_gw"] - z["q_wl"])
        h0 = nasa.h_mix(ctx.T_ambient, z["Y"])
        return {
            "T_gas": z["T_g"], "T_load": z["T_load"], "T_wall": x.T_wall, "firing": z["P"],
            "Q_flow_to_load": z["q_gl"] + z["q_wl"], "Q_flow_wall_loss": loss,
            "Q_flow_exhaust": z["m_flue"] * (z["h_g"] - h0),
            "T_air": z["T_air"],
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

    def stored_exergy(self, x, T0):
        X = x.M_charge * self._charge_exergy(x.H_charge / x.M_charge, T0)
        X = X + exergy.capacity_exergy(self._wall_nodes()[0], x.T_wall, T0)
        if self.gas_dynamics == "dynamic":
            Y = combustion.flue_gas(self.fuel, self.excess_air).Y_flue if self.fuel else jnp.asarray(combustion.AIR_Y)
            X = X + self.M_gas * exergy.fluid_exergy(FLUE_GAS, nasa.T_from_h_mix(x.h_gas[0], Y), Y, T0)
        return X


class AirPreheatFurnace(Furnace):
    """A :class:`Furnace` whose combustion air leaves through ``air_out`` (at ambient
    temperature, at the flow the firing needs) and returns preheated through ``air_in``.

    Ports
    -----
    exhaust : Flue gas out.
    air_out : Combustion air drawn from ambient by the burner fan, to the preheater.
    air_in : Preheated combustion air back to the burners.

    The exhaust's temperature depends on the preheated air (quasi-steady gas zone), the air
    leaving does not, so a recuperator between exhaust and air closes no algebraic loop.
    """

    inlets: ClassVar = ("air_in",)
    outlets: ClassVar = ("exhaust", "air_out")

    def __check_init__(self):
        if self.fuel is None:
            raise ValueError("combustion air preheat needs a fuel-fired furnace (an electric one draws no air)")

    def mass_inputs(self, port):
        return ("air_in",) if port == "exhaust" else ()

    def thermal_inputs(self, port):
        return ("air_in",) if port == "exhaust" else ()

    def mass_flow_out(self, ctx, x, port, m_in):
        _, m_fuel, m_air = self._air_demand(self._firing(ctx, x))
        return m_air if port == "air_out" else m_fuel + m_in["air_in"]

    def outlet(self, ctx, x, port, inlets):
        if port == "air_out":
            Y = jnp.asarray(combustion.AIR_Y)
            return Stream(self._air_demand(self._firing(ctx, x))[2], ctx.T_ambient, nasa.h_mix(ctx.T_ambient, Y), Y)
        z = self._zones(ctx, x, inlets["air_in"])
        return Stream(z["m_flue"], z["T_g"], z["h_g"], z["Y"], aux=z)
