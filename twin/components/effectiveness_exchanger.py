"""Heat exchanger as an algebraic effectiveness relation (no hold-up, no wall).

The heat passed from the hot to the cold stream is

    Q = ε C_min (T_hot,in - T_cold,in),   C_min = min(C_hot, C_cold),  C_r = C_min / C_max,

with the effectiveness ε either given (:class:`ConstantEffectivenessExchanger`, as
Modelica Buildings' ``HeatExchangers.ConstantEffectiveness``) or from the ε-NTU relation of
the flow arrangement, ``NTU = UA / C_min`` (:class:`EffectivenessNTUExchanger`, as
``HeatExchangers.DryCoilEffectivenessNTU`` and ``PlateHeatExchangerEffectivenessNTU``) [1,
table 11.3; 2, ch. 3]:

=====================  =========================================================
counterflow            ε = (1 - e^{-NTU(1-C_r)}) / (1 - C_r e^{-NTU(1-C_r)})
parallel flow          ε = (1 - e^{-NTU(1+C_r)}) / (1 + C_r)
cross flow, unmixed    ε = 1 - exp[(1/C_r) NTU^0.22 (e^{-C_r NTU^0.78} - 1)]
cross, C_max mixed     ε = (1/C_r) (1 - exp[-C_r (1 - e^{-NTU})])
cross, C_min mixed     ε = 1 - exp[-(1/C_r) (1 - e^{-C_r NTU})]
=====================  =========================================================

Each is evaluated through ``φ(x) = (1 - e^{-x}) / x`` (φ(0) = 1), which makes it exact and
smooth at the limits where the textbook form is 0/0: counterflow at C_r = 1 (ε = NTU / (1 +
NTU)) and every relation at C_r = 0 (ε = 1 - e^{-NTU}, a condensing or evaporating side).
For a cross-flow exchanger with one stream mixed, which of the two relations applies
depends on whether the mixed stream is the C_min side at that moment; at C_hot = C_cold
they coincide, so the switch is continuous.

Conductance. ``UA`` follows the flows as in Buildings' ``HADryCoil`` [3]: each side's film
conductance scales as ``hA = hA_nominal (m / m_nominal)^n`` and ``1/UA = 1/hA_hot +
1/hA_cold``, with ``hA_hot / hA_cold = hA_ratio`` at the nominal flows. Below 10 % of the
nominal flow the power law is replaced by Buildings' ``regNonZeroPower`` polynomial (same
value, slope and curvature at 10 %, finite at zero flow), so gradients stay bounded. With
``n = 0`` (the default) UA is constant. :func:`ua_for_effectiveness` sizes UA from a nominal
effectiveness (the inverse relations of [1, table 11.4], solved by bisection).

Capacity rates are secant values over the inlet span, ``C = m (h(T_hot,in) - h(T_cold,in))
/ (T_hot,in - T_cold,in)``: the exact maximum heat of each stream for a temperature-dependent
cp, equal to ``m cp`` for constant cp. Energy: the hot stream leaves with ``h_in - Q / m``
and the cold stream with ``h_in + Q / m``, so what one gives the other receives to
round-off; with no flow on either side C_min = 0 and nothing is exchanged. The exergy
destroyed is what the two streams carry in minus out (no state, no boundary flow).

References
----------
[1] Incropera, DeWitt, Bergman, Lavine, Fundamentals of Heat and Mass Transfer, 6th ed.,
    sec. 11.4, tables 11.3 (ε-NTU) and 11.4 (NTU-ε) (Wiley, 2007).
[2] Shah & Sekulić, Fundamentals of Heat Exchanger Design, ch. 3 (Wiley, 2003).
[3] Modelica Buildings Library, ``Buildings.Fluid.HeatExchangers.BaseClasses.HADryCoil``,
    ``...BaseClasses.epsilon_ntuZ`` and ``Buildings.Utilities.Math.Functions.regNonZeroPower``
    (Wetter, LBNL-42355, 1999).
"""

from __future__ import annotations

import abc
import math
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from twin.core.component import AbstractComponent
from twin.core.stream import Stream

RELATIONS = ("counterflow", "parallel_flow", "crossflow_unmixed", "crossflow_cmax_mixed",
             "crossflow_cmin_mixed")
"""ε-NTU relations in terms of the C_min and C_max streams."""
ARRANGEMENTS = ("counterflow", "parallel_flow", "crossflow_unmixed", "crossflow_hot_mixed",
                "crossflow_cold_mixed")
"""Flow arrangements of :class:`EffectivenessNTUExchanger`, in terms of its hot and cold sides."""

_C_EPS = 1e-12  # capacity rate below which a side counts as not flowing [W/K]


def _phi(x):
    """``(1 - exp(-x)) / x``, 1 at x = 0 (a series there; both branches finite for grad)."""
    small = jnp.abs(x) < 1e-6
    xs = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 - 0.5 * x + x * x / 6.0, -jnp.expm1(-xs) / xs)


def effectiveness_ntu(ntu, c_r, relation: str):
    """ε of ``relation`` (one of :data:`RELATIONS`) at ``ntu`` >= 0 and 0 <= ``c_r`` <= 1. [-]"""
    if relation == "counterflow":
        x = ntu * (1.0 - c_r)
        p = ntu * _phi(x)  # (1 - e^-x) / (1 - c_r): the numerator over (1 - c_r)
        return p / (p + jnp.exp(-x))
    if relation == "parallel_flow":
        return ntu * _phi(ntu * (1.0 + c_r))
    if relation == "crossflow_unmixed":
        ntu_s = jnp.where(ntu > 0.0, ntu, 1.0)
        return jnp.where(ntu > 0.0, -jnp.expm1(-ntu * _phi(c_r * ntu_s ** 0.78)), 0.0)
    if relation == "crossflow_cmax_mixed":
        y = -jnp.expm1(-ntu)
        return y * _phi(c_r * y)
    if relation == "crossflow_cmin_mixed":
        return -jnp.expm1(-ntu * _phi(c_r * ntu))
    raise ValueError(f"unknown ε-NTU relation {relation!r}; known: {', '.join(RELATIONS)}")


def _relation(arrangement: str, hot_is_cmin):
    """The :data:`RELATIONS` entry of an arrangement; for one mixed stream it depends on
    whether that stream is the C_min side (``hot_is_cmin``, a bool for sizing)."""
    if arrangement in ("crossflow_hot_mixed", "crossflow_cold_mixed"):
        mixed_is_cmin = hot_is_cmin if arrangement == "crossflow_hot_mixed" else not hot_is_cmin
        return "crossflow_cmin_mixed" if mixed_is_cmin else "crossflow_cmax_mixed"
    if arrangement not in ARRANGEMENTS:
        raise ValueError(f"unknown arrangement {arrangement!r}; known: {', '.join(ARRANGEMENTS)}")
    return arrangement


def ntu_for_effectiveness(eps: float, c_r: float, relation: str) -> float:
    """NTU at which ``relation`` reaches ``eps`` for ``c_r`` (bisection on log NTU to
    round-off; every relation increases with NTU). ``ValueError`` if ``eps`` is beyond the
    relation's limit (e.g. ``1 / (1 + C_r)`` for parallel flow). [-]"""
    lo, hi = 1e-12, 1e4
    eps_max = float(effectiveness_ntu(jnp.asarray(hi), jnp.asarray(c_r), relation))
    if not 0.0 < eps < eps_max:
        raise ValueError(f"effectiveness {eps} is not reachable in {relation} at C_r = {c_r:.4g} "
                         f"(0 < ε < {eps_max:.6g})")
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if float(effectiveness_ntu(jnp.asarray(mid), jnp.asarray(c_r), relation)) < eps:
            lo = mid
        else:
            hi = mid
        if hi / lo < 1.0 + 1e-15:
            break
    return math.sqrt(lo * hi)


def ua_for_effectiveness(eps: float, C_hot: float, C_cold: float, arrangement: str) -> float:
    """UA [W/K] at which an exchanger of ``arrangement`` (:data:`ARRANGEMENTS`) reaches ``eps``
    with capacity rates ``C_hot``, ``C_cold`` [W/K] (sizing at a nominal point)."""
    c_min, c_max = min(C_hot, C_cold), max(C_hot, C_cold)
    relation = _relation(arrangement, C_hot <= C_cold)
    return ntu_for_effectiveness(eps, c_min / c_max, relation) * c_min


def flow_factor(x, n, delta: float = 0.1):
    """``|x|^n`` for ``|x| > delta``; below, Buildings' ``regNonZeroPower`` quartic with the
    same value, slope and curvature at ``delta`` (non-zero at 0). ``0 <= n < 2``. [-]"""
    ax = jnp.abs(x)
    big = ax > delta
    y_big = jnp.where(big, ax, delta) ** n
    d2 = delta * delta
    y_d, yp_d, ypp_d = delta ** n, n * delta ** (n - 1.0), n * (n - 1.0) * delta ** (n - 2.0)
    a1 = -(yp_d / delta - ypp_d) / d2 / 8.0
    a3 = (ypp_d - 12.0 * a1 * d2) / 2.0
    a5 = y_d - d2 * (a3 + d2 * a1)
    x2 = x * x
    return jnp.where(big, y_big, a5 + x2 * (a3 + x2 * a1))


class AbstractEffectivenessExchanger(AbstractComponent):
    """Two streams exchanging ``Q = ε C_min (T_hot,in - T_cold,in)`` (module docstring).

    Ports
    -----
    hot_in, hot_out : The stream that gives heat (at the design point; Q is negative if
        it enters colder than the other).
    cold_in, cold_out : The stream that receives it.

    Subclasses implement :meth:`effectiveness`.
    """

    hot_fluid: eqx.AbstractVar[object]
    cold_fluid: eqx.AbstractVar[object]

    inlets: ClassVar = ("hot_in", "cold_in")
    outlets: ClassVar = ("hot_out", "cold_out")
    flow_paths: ClassVar = {"hot_out": "hot_in", "cold_out": "cold_in"}
    flow_names: ClassVar = ()
    tally_names: ClassVar = ("heat_recovered",)
    tally_units: ClassVar = {"heat_recovered": "W"}
    signal_info: ClassVar = {
        "Q_flow": ("W", "heat flow from the hot to the cold stream", ()),
        "effectiveness": ("1", "heat flow over the maximum possible heat flow", ()),
        "C_ratio": ("1", "smaller over larger capacity rate", ()),
    }

    @abc.abstractmethod
    def effectiveness(self, C_hot, C_cold, m_hot, m_cold):
        """``(ε, extra)`` at capacity rates ``C_hot``, ``C_cold`` [W/K] and mass flows
        ``m_hot``, ``m_cold`` [kg/s]; ``extra`` are further signals (``{name: value}``)."""

    # ------------------------------------------------------------------ protocol
    def port_fluid(self, port):
        return self.hot_fluid if port.startswith("hot") else self.cold_fluid

    def thermal_inputs(self, port):
        return ("hot_in", "cold_in")

    def initial_state(self):
        return jnp.zeros(0)

    def stored_energy(self, x):
        return jnp.zeros(())

    def stored_exergy(self, x, T0):
        return jnp.zeros(())

    # ------------------------------------------------------------------ physics
    @staticmethod
    def _capacity_rate(fluid, st: Stream, T_other):
        """``m (h(T_in) - h(T_other)) / (T_in - T_other)``, ``m cp(T_in)`` within 1e-6 K. [W/K]"""
        Y = st.Y if fluid.is_gas else None
        dT = st.T - T_other
        close = jnp.abs(dT) < 1e-6
        cp = jnp.where(close, fluid.cp(st.T, Y),
                       (fluid.h(st.T, Y) - fluid.h(T_other, Y)) / jnp.where(close, 1.0, dT))
        return st.m_flow * cp

    def _transfer(self, hot: Stream, cold: Stream):
        """``(Q, signals)``: heat from hot to cold [W] and the signals that produced it."""
        C_hot = self._capacity_rate(self.hot_fluid, hot, cold.T)
        C_cold = self._capacity_rate(self.cold_fluid, cold, hot.T)
        eps, extra = self.effectiveness(C_hot, C_cold, hot.m_flow, cold.m_flow)
        C_min = jnp.minimum(C_hot, C_cold)
        C_r = C_min / jnp.maximum(jnp.maximum(C_hot, C_cold), _C_EPS)
        Q = eps * C_min * (hot.T - cold.T)
        return Q, {"Q_flow": Q, "effectiveness": eps, "C_ratio": C_r, **extra}

    @staticmethod
    def _leaving(fluid, st: Stream, Q):
        """``st`` after giving up ``Q`` [W] (unchanged with no flow, where Q is 0)."""
        flowing = st.m_flow > 0.0
        h = st.h - jnp.where(flowing, Q / jnp.where(flowing, st.m_flow, 1.0), 0.0)
        return Stream(st.m_flow, fluid.T(h, st.Y if fluid.is_gas else None), h, st.Y)

    def outlet(self, ctx, x, port, inlets):
        hot, cold = inlets["hot_in"], inlets["cold_in"]
        out = self._transfer(hot, cold)
        if port == "hot_out":
            s = self._leaving(self.hot_fluid, hot, out[0])
            return Stream(s.m_flow, s.T, s.h, s.Y, aux=out)
        return self._leaving(self.cold_fluid, cold, -out[0])

    def rhs(self, ctx, x, inlets, outlets):
        return jnp.zeros(0), {}, {"heat_recovered": outlets["hot_out"].aux[0]}

    def signals(self, ctx, x, inlets, outlets):
        return outlets["hot_out"].aux[1]


class ConstantEffectivenessExchanger(AbstractEffectivenessExchanger):
    """Exchanger with a fixed effectiveness, whatever the flows (Buildings'
    ``HeatExchangers.ConstantEffectiveness``).

    Parameters
    ----------
    effectiveness_value : ε, in [0, 1]. [-]
    hot_fluid, cold_fluid : Fluids of the two sides (static).
    """

    effectiveness_value: jnp.ndarray
    hot_fluid: object = eqx.field(static=True)
    cold_fluid: object = eqx.field(static=True)

    def effectiveness(self, C_hot, C_cold, m_hot, m_cold):
        return self.effectiveness_value, {}


class EffectivenessNTUExchanger(AbstractEffectivenessExchanger):
    """Exchanger following the ε-NTU relation of its flow arrangement, UA scaling with the
    flows (module docstring).

    Parameters
    ----------
    UA_nominal : Overall conductance at the nominal flows. [W/K]
    hA_ratio : Hot-side over cold-side film conductance at the nominal flows. [-]
    m_hot_nominal, m_cold_nominal : Nominal mass flows (reference of the scaling). [kg/s]
    n_hot, n_cold : Exponents of ``hA ∝ m^n`` per side, in [0, 1] (0: constant). [-]
    hot_fluid, cold_fluid : Fluids of the two sides (static).
    arrangement : One of :data:`ARRANGEMENTS` (static).
    """

    UA_nominal: jnp.ndarray
    hA_ratio: jnp.ndarray
    m_hot_nominal: jnp.ndarray
    m_cold_nominal: jnp.ndarray
    n_hot: jnp.ndarray
    n_cold: jnp.ndarray
    hot_fluid: object = eqx.field(static=True)
    cold_fluid: object = eqx.field(static=True)
    arrangement: str = eqx.field(static=True, default="counterflow")

    signal_info: ClassVar = {
        **AbstractEffectivenessExchanger.signal_info,
        "NTU": ("1", "number of transfer units, UA over the smaller capacity rate", ()),
        "UA": ("W/K", "overall conductance at the current flows", ()),
    }

    def __check_init__(self):
        if self.arrangement not in ARRANGEMENTS:
            raise ValueError(f"unknown arrangement {self.arrangement!r}; known: {', '.join(ARRANGEMENTS)}")

    def conductance(self, m_hot, m_cold):
        """UA at the mass flows ``m_hot``, ``m_cold`` [kg/s]. [W/K]"""
        hA_hot = self.UA_nominal * (1.0 + self.hA_ratio) * flow_factor(m_hot / self.m_hot_nominal, self.n_hot)
        hA_cold = (self.UA_nominal * (1.0 + self.hA_ratio) / self.hA_ratio
                   * flow_factor(m_cold / self.m_cold_nominal, self.n_cold))
        return hA_hot * hA_cold / (hA_hot + hA_cold)

    def effectiveness(self, C_hot, C_cold, m_hot, m_cold):
        UA = self.conductance(m_hot, m_cold)
        C_min = jnp.maximum(jnp.minimum(C_hot, C_cold), _C_EPS)
        c_r = jnp.minimum(C_hot, C_cold) / jnp.maximum(jnp.maximum(C_hot, C_cold), _C_EPS)
        ntu = UA / C_min
        if self.arrangement in ("crossflow_hot_mixed", "crossflow_cold_mixed"):
            mixed_is_cmin = (C_hot <= C_cold) if self.arrangement == "crossflow_hot_mixed" else (C_cold < C_hot)
            eps = jnp.where(mixed_is_cmin, effectiveness_ntu(ntu, c_r, "crossflow_cmin_mixed"),
                            effectiveness_ntu(ntu, c_r, "crossflow_cmax_mixed"))
        else:
            eps = effectiveness_ntu(ntu, c_r, self.arrangement)
        return eps, {"NTU": ntu, "UA": UA}
