"""Latent-heat storage bank: heat-transfer-fluid channel coupled to PCM slabs (enthalpy method).

The heat-transfer fluid (HTF) flows through ``n_channel`` well-mixed cells along the bank.
Beside each cell, a PCM layer of thickness ``thickness`` (heated from the channel side,
adiabatic at its mid-plane, i.e. half of a plate heated from both faces) is split into
``n_nodes`` control volumes through its thickness, so a melt front is resolved. Every PCM
node carries its **specific enthalpy** as the state; its temperature comes from the
material's smooth monotone T(h) (:class:`twin.thermo.pcm.PCMMaterial`). This is the
enthalpy method of Voller & Prakash [1] / Swaminathan & Voller [2]: the latent heat sits in
h, no front tracking is needed, and energy is a linear function of the state, so the
bank conserves energy to round-off.

With ``fluid_dynamics="quasi_steady"`` the HTF has no hold-up (its residence time per cell
is seconds against minutes for the PCM): each cell is marched in closed form
(:func:`twin.core.march.relax_march`) towards the conductance-weighted mean of the PCM
surface node and ambient, and the heat it gives up is split exactly between the two
through the cell's length-mean fluid temperature. This removes the stiffest mode of a
loop and lets an explicit solver take steps of minutes.

Balances (cell i along the flow, node j through the thickness, A_c = A / n_channel):

    M_f/n dh_f,i/dt  = m (h_f,i-1 - h_f,i) - G_0 (T_f,i - T_i,0) - UA_loss/n (T_f,i - T_amb)
    m_n dh_i,j/dt    = G_j-1/2 (T_i,j-1 - T_i,j) - G_j+1/2 (T_i,j - T_i,j+1)

with G_0 = A_c / (1/h_conv + dx / (2 k_0)) from the fluid through the film to the first
node centre, G_j+1/2 = A_c k_face / dx between nodes (k_face the harmonic mean, the
standard choice for conduction between control volumes, Patankar 1980 sec. 4.2-4), and
no flux through the mid-plane.

Surface node (``surface_node=True``): the first node sits *on* the channel-side surface
instead of at the centre of the first control volume, as in Modelica Buildings'
``Buildings.HeatTransfer.Conduction.SingleLayer`` with ``stateAtSurface_a = true`` (its
default; Wetter et al. [7]): the other ``n_nodes - 1`` nodes are centred in equal control
volumes of width dx = thickness / (n_nodes - 1), and the surface node takes half of the
first one's mass, so the node masses are (1/2, 1/2, 1, ..., 1) dx ρ A_c. Then
G_0 = A_c h_conv (the film alone: the node is the surface), G_1/2 = A_c k_face / (dx/2)
from the surface to the first centre and A_c k_face / dx between centres. The film then
sees the surface temperature as a state, and a surface layer of dx/2 has the thermal mass
that the film heats first. Validation case PCM-2 (``validation/pcm2_enthalpy_slab``)
reproduces Buildings' ``HeatTransfer.Examples.ConductorSingleLayerPCM`` with it.

Hysteresis (``hysteresis=True``): many PCMs solidify at lower temperatures than they melt
(paraffins 1-3 K, salt hydrates more). The liquid fraction ξ of every node is then a state
of its own ("curve track" model of slPCMlib, Barz et al. [4]): it relaxes with time constant
``tau_phase`` towards the melting curve ξ_m(T) when below it (melting), towards the
solidification curve ξ_s(T) when above that (solidifying), and stays put in between
(sensible heating or cooling only), so a cycle reversed inside the melting range leaves ξ
where it was until the node has cooled onto ξ_s. The solidification curve is

    ξ_s(T) = max(ξ_s,card(T + ΔT_hys), ξ_m(T))   for a card with its own curve
             (``PCMMaterial.solidification``, e.g. the data sheet's ``RT44HC_datasheet``),
    ξ_s(T) = ξ_m(T + ΔT_hys)                     otherwise (the melting curve shifted),

so ΔT_hys (``dT_hysteresis``) shifts a card's own curve further (0 K: the card's curve
as measured). The max is a guard only: :func:`twin.thermo.pcm.load_material` rejects
cards whose cooling curve lies below the melting curve anywhere. Inside the melting range
ξ_m(T) itself moves with ξ (melting cools the node), so the effective relaxation time is
``tau_phase / (1 + L ξ_m'(T) / c)``, some 20 times shorter than ``tau_phase`` for a paraffin:
a ``tau_phase`` of tens of minutes still means a response of minutes, and keeps an explicit
solver's steps long; on the curve, ξ lags the quasi-static curve by ``tau_phase dξ/dt``
(validation case PCM-3 measures it). The node's *enthalpy* stays the state, with

    h = c (T - T_ref) + L ξ,   c = (cp_s + cp_l) / 2,

so energy is conserved by construction whatever ξ does: an adiabatic melt/freeze cycle
returns exactly to its start enthalpy, which two separate h(T) curves switched by the
direction of heat flow do not (EnergyPlus issue 10420, where switching curves created or
destroyed energy). A single mean ``c`` keeps the phase entropy consistent: with the melting
curve as the reversible reference, ``s = c ln(T/T_ref) + L ∫_0^ξ dξ'/T_m*(ξ')``
(``T_m*`` the inverse of ξ_m), a node generates ``L dξ/dt (1/T_m*(ξ) - 1/T)`` by phase
change. Melting happens only where ξ < ξ_m(T), i.e. T > T_m*(ξ), and solidification only
where ξ > ξ_s(T) >= ξ_m(T), i.e. T < T_m*(ξ): both terms are non-negative, so hysteresis
only ever destroys exergy. This needs nothing of ξ_s but that it never lies below ξ_m
(true for the shifted curve, guarded above for a card's own). Any curve between ξ_m and ξ_s
would serve as the reference; the melting curve is the one the card's h(T) and the dead
state of the stored exergy (at rest on ξ_m at T0) are built on, so it stays, whichever
solidification curve is used.

Subcooling (``subcooling=True``, needs ``hysteresis=True``; ``dT_hysteresis`` may be 0): a
melt that holds no crystals does not solidify when it crosses the solidification curve; it
stays liquid, metastable, and cools sensibly at ``c`` until it nucleates at

    T_nuc = T_liq - ΔT_hys - ΔT_sub,

``ΔT_sub`` (``dT_subcooling``) below the solidification onset (the liquidus of the
solidification curve; T_liq is the melting curve's liquidus, or that of the card's own
solidification curve). Crystals then grow towards the solidification curve with
``tau_phase``, and the latent heat they release warms the node back up to that curve
(recalescence): the behaviour measured and modelled by Günther, Mehling & Hiebler [5] and
described by Mehling & Cabeza [6], where salts and salt hydrates subcool by a few to tens
of kelvin and paraffins hardly at all. A second state per node, the nucleated indicator
ν in [0, 1] (0: a melt without nuclei), gates the solidification:

    dξ/dt = [max(ξ_m(T) - ξ, 0) + G(ν) min(ξ_s(T) - ξ, 0)] / tau_phase,  G(ν) = S(2ν - 1)
    dν/dt = [a (1 - ν) - b ν + (1 - a)(1 - b) 4 ν (1 - ν)(ν - 1/2)] / tau_nucleation
    a = 1 - (1 - S((T_nuc - T) / w)) (1 - χ_l)(1 - χ_r)              (nucleate)
    b = S((ξ - 1 + δ) / δ) S((T - T_liq + ΔT_hys) / w) (1 - χ_l)(1 - χ_r)   (lose nuclei)

S is the C1 smoothstep (3x^2 - 2x^3 on [0, 1], exactly 0 below and 1 above: a gate far
from its band neither leaks nor costs a transcendental), ``w`` = :data:`NUCLEATION_WIDTH`,
``δ`` = :data:`MOLTEN_WIDTH`, and χ = S((1 - δ - ξ) / δ) says whether the neighbouring
nodes l, r through the thickness hold crystals. Modelling choices:

* A node nucleates (a) when it cools into the band [T_nuc - w, T_nuc], or when a
  neighbour holds crystals: a crystal front grows through a connected subcooled melt, so one nucleus
  solidifies the whole slab. Seeding is not passed along the flow (the model does not know
  whether the slabs beside the channel cells are one container).
* It loses its nuclei (b) only when *fully* molten (ξ > 1 - δ), above the solidification
  onset and out of contact with crystals. A partly molten node keeps crystals and does not
  subcool, which is why incomplete melting is a classic cure for subcooling [6].
* The cubic term makes ν bistable with 0 and 1 stable and 1/2 the threshold: a brief touch
  of the gate that leaves ν < 1/2 decays back (no nucleation), residual ν from a reset
  never grows spontaneously, and once ν > 1/2 the node stays nucleated while recalescence
  warms it far above ``T_nuc``. G(ν) keeps crystal growth off until ν passes 1/2: with it
  on earlier, the first latent heat (L / c ≈ 100 K per unit ξ) would hold the node at
  ``T_nuc`` with ν stuck near 0 and no recalescence.
* ``tau_nucleation`` (a minute) is short against a store's cooling: a node cooling at
  ``r`` bottoms out ``x* w`` below ``T_nuc``, ``x* ∈ (0, 1]`` where
  ``w / (r tau_nucleation) (x^3 - x^4/2) = 1/2`` (about 0.13 K at 4 K/h), and is back on
  the solidification curve within minutes.
* A start on the melting curve fully molten above the solidification onset is un-nucleated,
  any other start nucleated.

Energy: ν carries none; h stays the state, so the cycle still closes to round-off. Entropy:
s(h, ξ) above is unchanged (a subcooled liquid is the liquid continued at ``c``; its stored
exergy exceeds that of the solid at the same temperature by the metastable part). A node's
phase-change generation ``L dξ/dt (1/T_m*(ξ) - 1/T)`` stays non-negative because
``0 <= G(ν) <= 1`` only scales the solidification term, which acts where
ξ > ξ_s(T) >= ξ_m(T), i.e. T < T_m*(ξ): crystallising a subcooled melt, far below
T_m*, destroys more exergy than crystallising on the curve.

References
----------
[1] Voller, V. R., Prakash, C. (1987), A fixed grid numerical modelling methodology for
    convection-diffusion mushy region phase-change problems, Int. J. Heat Mass Transfer 30.
[2] Swaminathan, C. R., Voller, V. R. (1992), A general enthalpy method for modeling
    solidification processes, Metall. Trans. B 23, 651-664.
[3] Patankar, S. V. (1980), Numerical Heat Transfer and Fluid Flow, Hemisphere.
[4] Barz, T., Krämer, J., Emhofer, J. (2020), Identification of phase fraction-temperature
    curves from heat capacity data for numerical modeling of heat transfer in commercial
    paraffin waxes, Energies 13, 5149; and slPCMlib (Barz et al. 2022).
[5] Günther, E., Mehling, H., Hiebler, S. (2007), Modeling of subcooling and solidification
    of phase change materials, Modelling Simul. Mater. Sci. Eng. 15, 879-892.
[6] Mehling, H., Cabeza, L. F. (2008), Heat and cold storage with PCM, Springer, ch. 2
    (subcooling, nucleation, seeding by remaining crystals).
[7] Wetter, M., Zuo, W., Nouidui, T. S., Pang, X. (2014), Modelica Buildings library,
    J. Build. Perform. Simul. 7(4), 253-270; model
    Buildings.HeatTransfer.Conduction.SingleLayer (stateAtSurface_a).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from twin.core import exergy
from twin.core.component import AbstractComponent
from twin.core.march import mean_temperature, relax_march
from twin.core.stream import Stream
from twin.thermo.fluids import T_REF
from twin.thermo.pcm import PCMMaterial

#: temperature width of the nucleation and de-seeding gates (subcooling) [K]
NUCLEATION_WIDTH = 0.2
#: liquid-fraction width of the "fully molten" and "holds crystals" gates (subcooling) [-]
MOLTEN_WIDTH = 0.02


def _step(x):
    """C1 smoothstep: 0 for x <= 0, ``3x^2 - 2x^3`` between, 1 for x >= 1 (polynomial, and
    exactly 0 or 1 outside, so a gate far from its band neither leaks nor costs a
    transcendental). [-]"""
    t = jnp.clip(x, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


class PCMBankState(eqx.Module):
    """State of a :class:`PCMBank`.

    Parameters
    ----------
    h_fluid : Specific enthalpy of the HTF cells. [J/kg]
    h_pcm : Specific enthalpy of the PCM nodes, shape (n_channel, n_nodes). [J/kg]
    xi : Liquid fraction of the PCM nodes with hysteresis (empty without). [-]
    nucleated : Nucleated indicator ν of the PCM nodes with subcooling: 1 holds (or touches)
        crystals, 0 a melt without nuclei (empty without subcooling). [-]
    """

    h_fluid: jnp.ndarray
    h_pcm: jnp.ndarray
    xi: jnp.ndarray
    nucleated: jnp.ndarray


class PCMBank(AbstractComponent):
    """Latent-heat storage bank (see module docstring).

    Ports
    -----
    inlet, outlet : The heat-transfer fluid in and out (flow in either charging or
        discharging; the bank does not care which).

    Parameters
    ----------
    material : The PCM (a pytree; its tables are parameters too).
    mass : PCM mass. [kg]
    thickness : PCM layer thickness from the channel wall to the adiabatic mid-plane. [m]
    h_conv : Film coefficient between the HTF and the PCM surface (incl. container wall). [W/(m^2 K)]
    M_fluid : HTF hold-up of the bank (fluid_dynamics="dynamic"). [kg]
    UA_loss : Shell conductance to ambient. [W/K]
    T_initial : Initial temperature of PCM and fluid. [K]
    dT_hysteresis : Solidification curve this far below the card's own solidification curve,
        or below the melting curve for a card without one (hysteresis). [K]
    tau_phase : Time constant of the phase fraction (hysteresis). [s]
    dT_subcooling : Nucleation this far below the solidification onset (subcooling). [K]
    tau_nucleation : Time constant of the nucleated indicator (subcooling). [s]
    hysteresis : Phase fraction as a state with separate curves (static).
    subcooling : Nucleated indicator as a state, delaying solidification (static; needs
        ``hysteresis``).
    n_channel, n_nodes : Cells along the flow and nodes through the PCM thickness (static). [-]
    surface_node : First node on the channel-side surface (Buildings' ``stateAtSurface_a``,
        module docstring) rather than centred in the first control volume (static; needs
        ``n_nodes >= 2``).
    fluid : The HTF (static).
    fluid_dynamics : "dynamic" (a hold-up per channel cell) or "quasi_steady" (static).
    """

    material: PCMMaterial
    mass: jnp.ndarray
    thickness: jnp.ndarray
    h_conv: jnp.ndarray
    M_fluid: jnp.ndarray
    UA_loss: jnp.ndarray
    T_initial: jnp.ndarray
    fluid: object = eqx.field(static=True)
    n_channel: int = eqx.field(static=True, default=10)
    n_nodes: int = eqx.field(static=True, default=4)
    fluid_dynamics: str = eqx.field(static=True, default="dynamic")
    dT_hysteresis: float | jnp.ndarray = 0.0
    tau_phase: float | jnp.ndarray = 60.0
    hysteresis: bool = eqx.field(static=True, default=False)
    dT_subcooling: float | jnp.ndarray = 0.0
    tau_nucleation: float | jnp.ndarray = 60.0
    subcooling: bool = eqx.field(static=True, default=False)
    surface_node: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if self.fluid_dynamics not in ("dynamic", "quasi_steady"):
            raise ValueError(f"fluid_dynamics must be 'dynamic' or 'quasi_steady', not {self.fluid_dynamics!r}")
        if self.subcooling and not self.hysteresis:
            raise ValueError("subcooling needs the liquid fraction as a state: set hysteresis=True "
                             "(dT_hysteresis may be 0)")
        if self.surface_node and self.n_nodes < 2:
            raise ValueError("a surface node needs n_nodes >= 2 (the surface and one control volume)")

    inlets: ClassVar = ("inlet",)
    outlets: ClassVar = ("outlet",)
    flow_paths: ClassVar = {"outlet": "inlet"}
    flow_names: ClassVar = ("shell_loss",)
    state_info: ClassVar = {
        "h_fluid": ("J/kg", "specific enthalpy of the heat-transfer fluid cells", ("channel",)),
        "h_pcm": ("J/kg", "specific enthalpy of the PCM nodes", ("channel", "node")),
        "xi": ("1", "liquid fraction of the PCM nodes (with hysteresis)", ("channel", "node")),
        "nucleated": ("1", "nucleated indicator of the PCM nodes, 0: melt without nuclei (subcooling)",
                      ("channel", "node")),
    }
    signal_info: ClassVar = {
        "T_fluid": ("K", "heat-transfer fluid temperature per channel cell (length mean)", ("channel",)),
        "T_pcm": ("K", "PCM temperature per node", ("channel", "node")),
        "liquid_fraction": ("1", "mean liquid mass fraction of the PCM", ()),
        "solid_fraction": ("1", ("mean solid mass fraction of the PCM, 1 - liquid_fraction (the state "
                                 "of charge of a cold store such as an ice tank)"), ()),
        "Q_flow": ("W", "heat flow from the fluid into the PCM (positive when charging)", ()),
        "state_of_charge": ("1", "stored energy between solidus-10 K and liquidus+10 K", ()),
        "liquid_fraction_channel": ("1", "liquid mass fraction of the PCM per channel (along the flow)",
                                    ("channel",)),
    }

    # ------------------------------------------------------------------ geometry
    @property
    def area(self):
        """Heat-transfer area between fluid and PCM. [m^2]"""
        return self.mass / (self.material.rho * self.thickness)

    def _node_shares(self):
        """Share of a channel's PCM mass in each node with a surface node (static). [-]"""
        w = np.full(self.n_nodes, 1.0 / (self.n_nodes - 1))
        w[:2] *= 0.5
        return w

    def _node_mass(self):
        """PCM mass of a node: a scalar for equal nodes, per node with a surface node
        (broadcasts over the channels). [kg]"""
        if not self.surface_node:
            return self.mass / (self.n_channel * self.n_nodes)
        return self.mass / self.n_channel * jnp.asarray(self._node_shares())

    def _node_mean(self, a, axis=None):
        """Mass-weighted mean over the nodes (and the channels for ``axis=None``). [unit of a]"""
        if not self.surface_node:
            return jnp.mean(a, axis=axis)
        per_channel = jnp.sum(a * self._node_shares(), axis=-1)
        return per_channel if axis == -1 else jnp.mean(per_channel)

    def _conductances(self, xi):
        """Fluid -> first node and node -> node conductances from the liquid fractions. [W/K]"""
        n, k_n = self.n_channel, self.n_nodes
        A_c = self.area / n
        mat = self.material
        k = (1.0 - xi) * mat.k_solid + xi * mat.k_liquid
        k_face = 2.0 * k[:, 1:] * k[:, :-1] / (k[:, 1:] + k[:, :-1])
        if self.surface_node:  # film to the surface node, half a spacing to the first centre
            dx = self.thickness / (k_n - 1)
            G0 = A_c * self.h_conv * jnp.ones(n)
            spacing = jnp.asarray([0.5] + [1.0] * (k_n - 2)) * dx
            return G0, A_c * k_face / spacing
        dx = self.thickness / k_n
        G0 = A_c / (1.0 / self.h_conv + dx / (2.0 * k[:, 0]))
        G = A_c * k_face / dx
        return G0, G

    def port_fluid(self, port):
        return self.fluid

    def thermal_inputs(self, port):
        return ("inlet",) if self.fluid_dynamics == "quasi_steady" else ()

    @property
    def _dynamic(self) -> bool:
        return self.fluid_dynamics == "dynamic"

    # ------------------------------------------------------------------ hysteresis model
    def _c_mean(self):
        return 0.5 * (self.material.cp_solid + self.material.cp_liquid)

    def _xi_melt(self, T):
        """Melting curve ξ_m(T) from the card's table. [-]"""
        m = self.material
        return jnp.interp(T, m.T_grid, m.xi_grid)

    def _xi_solid(self, T):
        """Solidification curve ξ_s(T): the card's own (module docstring) or the melting
        curve, shifted down by ΔT_hys. [-]"""
        curve = self.material.solidification
        if curve is None:
            return self._xi_melt(T + self.dT_hysteresis)
        return jnp.maximum(curve.liquid_fraction(T + self.dT_hysteresis), self._xi_melt(T))

    def _T_hys(self, h, xi):
        """Temperature of a node of the hysteresis model, ``T_ref + (h - L ξ) / c``. [K]"""
        return T_REF + (h - self.material.latent_heat * xi) / self._c_mean()

    def _on_melting_curve(self, T):
        """(h, ξ) of a node at rest on the melting curve at ``T``. [J/kg], [-]"""
        xi = self._xi_melt(T)
        return self._c_mean() * (T - T_REF) + self.material.latent_heat * xi, xi

    def _s_hys(self, h, xi):
        """Specific entropy of the hysteresis model with the melting curve as reference. [J/(kg K)]"""
        m = self.material
        T_mid = 0.5 * (m.T_grid[1:] + m.T_grid[:-1])
        phase = jnp.concatenate([jnp.zeros(1), jnp.cumsum(jnp.diff(m.xi_grid) / T_mid)])
        return self._c_mean() * jnp.log(self._T_hys(h, xi) / T_REF) + m.latent_heat * jnp.interp(xi, m.xi_grid, phase)

    # ------------------------------------------------------------------ subcooling model
    def _T_onset(self):
        """Solidification onset, the liquidus of the solidification curve. [K]"""
        curve = self.material.solidification
        T_liquidus = self.material.T_liquidus if curve is None else curve.T_liquidus
        return T_liquidus - self.dT_hysteresis

    def _deseed(self, xi, T):
        """Gate of losing the nuclei: fully molten and above the solidification onset. [-]"""
        molten = _step((xi - 1.0 + MOLTEN_WIDTH) / MOLTEN_WIDTH)
        return molten * _step((T - self._T_onset()) / NUCLEATION_WIDTH)

    def _dnucleated(self, T, xi, nu):
        """dν/dt: nucleation when cold or seeded by a neighbour, loss when fully molten, and
        a bistable latch in between (see module docstring). [1/s]"""
        crystals = _step((1.0 - MOLTEN_WIDTH - xi) / MOLTEN_WIDTH)
        zero = jnp.zeros((self.n_channel, 1))
        # no seed: no neighbour through the thickness holds crystals (probabilistic OR)
        no_seed = (1.0 - jnp.concatenate([zero, crystals[:, :-1]], axis=1)) \
            * (1.0 - jnp.concatenate([crystals[:, 1:], zero], axis=1))
        T_nuc = self._T_onset() - self.dT_subcooling
        a = 1.0 - (1.0 - _step((T_nuc - T) / NUCLEATION_WIDTH)) * no_seed
        b = self._deseed(xi, T) * no_seed
        latch = 4.0 * nu * (1.0 - nu) * (nu - 0.5)
        return (a * (1.0 - nu) - b * nu + (1.0 - a) * (1.0 - b) * latch) / self.tau_nucleation

    def _pcm_state(self, x):
        """(temperature, liquid fraction) of every PCM node. [K], [-]"""
        if self.hysteresis:
            return self._T_hys(x.h_pcm, x.xi), x.xi
        return self.material.T_and_liquid_fraction(x.h_pcm)

    def initial_state(self):
        T0 = jnp.asarray(self.T_initial, dtype=float)
        n_f = self.n_channel if self._dynamic else 0
        shape = (self.n_channel, self.n_nodes)
        nu = jnp.zeros(0)
        if self.hysteresis:  # start on the melting curve
            h0, xi0 = self._on_melting_curve(T0)
            h_pcm, xi = jnp.full(shape, h0), jnp.full(shape, xi0)
            if self.subcooling:  # a melt above the solidification onset holds no nuclei
                nu = jnp.full(shape, 1.0 - self._deseed(xi0, T0))
        else:
            h_pcm, xi = jnp.full(shape, self.material.h(T0)), jnp.zeros(0)
        return PCMBankState(h_fluid=jnp.full((n_f,), self.fluid.h(T0)), h_pcm=h_pcm, xi=xi,
                            nucleated=nu)

    def stored_energy(self, x):
        m_node = self._node_mass()
        pcm = m_node * jnp.sum(x.h_pcm) if not self.surface_node else jnp.sum(m_node * x.h_pcm)
        return jnp.sum(self.M_fluid / self.n_channel * x.h_fluid) + pcm

    def stored_exergy(self, x, T0):
        m_node = self._node_mass()
        if self.hysteresis:  # dead state: at rest on the melting curve at T0
            h0, xi0 = self._on_melting_curve(T0)
            ex = exergy.specific_exergy(x.h_pcm, self._s_hys(x.h_pcm, x.xi), h0, self._s_hys(h0, xi0), T0)
            X = m_node * jnp.sum(ex) if not self.surface_node else jnp.sum(m_node * ex)
        else:
            X = exergy.material_exergy(self.material, m_node, x.h_pcm, T0)
        if self._dynamic:
            ex = exergy.fluid_exergy(self.fluid, self.fluid.T(x.h_fluid), None, T0)
            X = X + self.M_fluid / self.n_channel * jnp.sum(ex)
        return X

    def _channel(self, ctx, x, inlet: Stream):
        """Fluid side of every channel cell: (T_fluid [K], heat into node 0 [W], shell loss [W],
        outlet (h, T)). Dynamic cells read their state; quasi-steady cells are marched."""
        T_p, xi = self._pcm_state(x)
        G0, G = self._conductances(xi)
        G_L = self.UA_loss / self.n_channel
        if self._dynamic:
            T_f = self.fluid.T(x.h_fluid)
            q_in = G0 * (T_f - T_p[:, 0])
            loss = G_L * (T_f - ctx.T_ambient)
            return T_p, G, T_f, q_in, loss, (x.h_fluid[-1], T_f[-1])
        # quasi-steady: each cell relaxes towards the conductance-weighted mean of the PCM
        # surface node and ambient; the length-mean fluid temperature splits the heat exactly
        T_eq = (G0 * T_p[:, 0] + G_L * ctx.T_ambient) / (G0 + G_L)
        h, T, Q = relax_march(self.fluid, inlet, T_eq, G0 + G_L)
        T_up = jnp.concatenate([inlet.T[None], T[:-1]])
        T_f = mean_temperature(T_up, T, T_eq, G0 + G_L, inlet.m_flow, self.fluid.cp(0.5 * (T_up + T)))
        loss = G_L * (T_f - ctx.T_ambient)
        return T_p, G, T_f, Q - loss, loss, (h[-1], T[-1])

    def outlet(self, ctx, x, port, inlets):
        s = inlets["inlet"]
        if self._dynamic:
            h = x.h_fluid[-1]
            return Stream(s.m_flow, self.fluid.T(h), h, s.Y)
        *channel, (h, T) = self._channel(ctx, x, s)
        return Stream(s.m_flow, T, h, s.Y, aux=tuple(channel))

    def _channel_of_call(self, ctx, x, inlets, outlets):
        """The channel of this call: reused from the outlet pass when it was marched there."""
        aux = outlets["outlet"].aux
        return aux if aux is not None else self._channel(ctx, x, inlets["inlet"])[:5]

    def rhs(self, ctx, x, inlets, outlets):
        s = inlets["inlet"]
        T_p, G, T_f, q_in, loss = self._channel_of_call(ctx, x, inlets, outlets)
        q_cond = G * (T_p[:, :-1] - T_p[:, 1:])  # node j -> j+1
        dh_f = jnp.zeros(0)
        if self._dynamic:
            up = jnp.concatenate([s.h[None], x.h_fluid[:-1]])
            dh_f = (s.m_flow * (up - x.h_fluid) - q_in - loss) / (self.M_fluid / self.n_channel)
        zero = jnp.zeros((self.n_channel, 1))
        net = jnp.concatenate([q_in[:, None], q_cond], axis=1) - jnp.concatenate([q_cond, zero], axis=1)
        dh_p = net / self._node_mass()
        dxi, dnu = jnp.zeros(0), jnp.zeros(0)
        if self.hysteresis:  # curve track: melt towards ξ_m, solidify towards ξ_s, else hold
            # a plain clip (kinks, no bias): a smoothed one would pull ξ off 0 and 1 by a
            # fraction of its width, i.e. shift the solid's and the liquid's temperatures
            lo, hi = self._xi_melt(T_p), self._xi_solid(T_p)
            if self.subcooling:  # solidification only where nucleated (lo <= hi: the clip at ν = 1)
                grow = _step(2.0 * x.nucleated - 1.0)  # 0 up to ν = 1/2, 1 at ν = 1
                dxi = (jnp.maximum(lo - x.xi, 0.0) + grow * jnp.minimum(hi - x.xi, 0.0)) / self.tau_phase
                dnu = self._dnucleated(T_p, x.xi, x.nucleated)
            else:
                dxi = (jnp.clip(x.xi, lo, hi) - x.xi) / self.tau_phase
        lost = exergy.heat(-loss, T_f, ctx.T0)  # each channel cell at its fluid temperature
        return PCMBankState(h_fluid=dh_f, h_pcm=dh_p, xi=dxi, nucleated=dnu), {"shell_loss": lost}, {}

    def signals(self, ctx, x, inlets, outlets):
        T_p, _, T_f, q_in, _ = self._channel_of_call(ctx, x, inlets, outlets)
        mat = self.material
        h_lo, h_hi = mat.h(mat.T_solidus - 10.0), mat.h(mat.T_liquidus + 10.0)
        xi = self._pcm_state(x)[1]
        liquid = self._node_mean(xi)
        return {
            "T_fluid": T_f,
            "T_pcm": T_p,
            "liquid_fraction": liquid,
            "solid_fraction": 1.0 - liquid,
            "liquid_fraction_channel": self._node_mean(xi, axis=-1),
            "Q_flow": jnp.sum(q_in),
            "state_of_charge": (self._node_mean(x.h_pcm) - h_lo) / (h_hi - h_lo),
        }
