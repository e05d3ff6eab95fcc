"""Pumps: a prescribed mass flow, or a pump curve against a system curve at a set speed.

``Pump`` (Modelica Buildings ``Movers.FlowControlled_m_flow``) sets the mass flow of its
loop; it is what makes a closed loop's flow defined. Its shaft work
``W = m_flow * dp / (rho * eta)`` is drawn as electricity and, all of it ending as heat in the
fluid (the Buildings convention for an unheated motor inside the flow), raises the specific
enthalpy by ``dp / (rho * eta)``: ``m_flow * h_out = m_flow * h_in + W`` exactly.

``SpeedControlledPump`` (Buildings ``Movers.SpeedControlled_y``) takes its flow from the
intersection of its pressure curve, scaled to the speed by the affinity laws, with the
loop's system curve. Nomenclature: ``V`` volume flow [m^3/s], ``s`` speed as a fraction of
the nominal speed [-], ``dp`` pressure rise [Pa].

* Pressure curve at nominal speed, least squares through the given points [1, ch. 3]:
  ``dp = a - c V - b V^2`` with ``a, b, c >= 0`` (non-negative least squares [4]), so the
  fitted head falls with flow everywhere, a stable characteristic [1, ch. 11]; ``a`` is the
  shut-off pressure. Through three points whose parabola falls from zero flow on the fit is
  exact; the scenario rejects points it misses by more than ``MAX_FIT_MISS`` of ``a``.
* Affinity (similarity) laws [1, ch. 3]: at speed ``s`` the point ``(V, dp)`` moves to
  ``(s V, s^2 dp)`` with the same efficiency, so
  ``dp_pump(V, s) = s^2 a - s c V - b V^2``.
* System curve through the design point ``(V_sys, dp_sys)`` with a static part ``p_st``
  [1, ch. 11; 3]: ``dp_system(V) = p_st + k V^2``, ``k = (dp_sys - p_st) / V_sys^2``.
* Operating point in closed form (no iteration, differentiable). With ``V = s q``, ``q`` the
  equivalent flow at nominal speed, the two curves meet where
  ``(b + k) q^2 + c q = m``, ``m = a - p_st / s^2`` (the shut-off pressure left over after
  the static head, both at nominal-speed scale), whose non-negative root is
  ``q = 2 m / (c + sqrt(c^2 + 4 (b + k) m))`` (the rationalised form, exact for ``c -> 0``).
  Without static head ``q`` does not depend on ``s``, so ``V ∝ s``, ``dp ∝ s^2`` and
  ``P ∝ s^3`` hold exactly [3].
* No intersection (``m <= 0``: the static head is above the shut-off pressure at this
  speed) means no flow. The margin is smoothed so that flow and gradients stay continuous:
  ``m+ = w softplus(m / w)`` with ``w = 1e-3 a`` (0.22 kPa, 2 cm of water, for a 2.2 bar
  pump). The error ``w ln(1 + exp(-m/w))`` is below round-off once ``m > 37 w`` (3.7 % of
  the shut-off pressure), so every operating point farther than that from the shut-off is
  exact; a softplus rather than the algebraic surrogates of :mod:`twin.core.smooth`, whose
  ``O(w^2/m)`` error would touch every operating point. Since ``m+ - max(m, 0) <= w ln 2``,
  the flow differs from the exact (kinked) one by at most ``s sqrt(w ln 2 / (b + k))``, the
  flow left at the threshold itself (a few % of the curve's range), and falls to zero
  within a few ``w`` below it (``m+`` is floored at ``1e-30 w`` to keep ``sqrt`` off 0).
* Efficiency: ``eta(q)`` interpolated in the given points at the equivalent nominal-speed
  flow ``q = V / s`` (similar points share their efficiency) with a monotone cubic Hermite
  spline (Fritsch-Carlson; Buildings interpolates its curves with cubic Hermite splines
  too), so the best-efficiency point stays a given point and ``eta`` is smooth; outside the
  given flows it holds its end values. Every given efficiency is > 0: at zero flow a real
  pump's is 0 and its shut-off power heats the casing, which a stateless pump with no flow
  cannot hold.
* Power and energy: ``dp = dp_pump(V, s)`` (``s^2 a`` with no flow, against a closed check
  valve), ``P_electric = V dp / (eta eta_motor)`` with a motor and drive efficiency
  ``eta_motor`` (1 unless given), drawn as electricity (all exergy); as for ``Pump``, all of
  it heats the fluid: ``h_out = h_in + dp / (rho eta eta_motor)``, ``m_flow = rho V``. The
  liquids of :mod:`twin.thermo.fluids` have a constant density, so ``rho`` is that constant
  (not a function of the inlet temperature).

References
----------
[1] J. F. Gülich, *Centrifugal Pumps*, 3rd ed., Springer, 2014: ch. 3 (similarity laws),
    ch. 11 (operation against a system curve, speed control).
[2] Modelica Buildings, ``Buildings.Fluid.Movers.SpeedControlled_y`` and
    ``Movers.Data.Generic`` (pressure curve given by points at nominal speed, efficiency
    curve, power heating the medium).
[3] Europump and Hydraulic Institute, *Variable Speed Pumping: A Guide to Successful
    Applications*, Elsevier, 2004 (system curves with and without static head).
[4] C. L. Lawson, R. J. Hanson, *Solving Least Squares Problems*, Prentice-Hall, 1974, ch. 23.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import interpax
import jax
import jax.numpy as jnp
import numpy as np

from twin.core import exergy
from twin.core.component import AbstractStatelessComponent
from twin.core.schedule import Schedule
from twin.core.stream import Stream

G_STANDARD = 9.80665  # standard gravity, converts a head to a pressure [m/s^2]
SMOOTHING = 1e-3  # width of the no-intersection smoothing, relative to the shut-off pressure [-]
MAX_FIT_MISS = 0.05  # largest accepted miss of the fitted curve, relative to the shut-off [-]
_M_FLOOR = 1e-30  # floor of the smoothed margin, relative to its width [-]
_S2_MIN = 1e-100  # floor of s^2 in p_st / s^2 (a stopped pump; its square stays finite) [-]


class Pump(AbstractStatelessComponent):
    """Flow-controlled pump.

    Ports
    -----
    inlet, outlet : The loop fluid in and out.

    Parameters
    ----------
    m_flow_nominal : Nominal mass flow. [kg/s]
    schedule : Fraction of nominal flow over time. [-]
    pressure_rise : Pressure rise across the pump. [Pa]
    efficiency : Total (hydraulic x motor) efficiency, in (0, 1]. [-]
    fluid : The pumped liquid (static).
    """

    m_flow_nominal: jnp.ndarray
    schedule: Schedule
    pressure_rise: jnp.ndarray
    efficiency: jnp.ndarray
    fluid: object = eqx.field(static=True)

    inlets: ClassVar = ("inlet",)
    outlets: ClassVar = ("outlet",)
    flow_names: ClassVar = ("electricity",)

    def thermal_inputs(self, port):
        return ("inlet",)

    def mass_flow_out(self, ctx, x, port, m_in):
        return self.m_flow_nominal * self.schedule(ctx.t)

    def _dh(self):
        return self.pressure_rise / (self.fluid.rho * self.efficiency)

    def outlet(self, ctx, x, port, inlets):
        s = inlets["inlet"]
        h = s.h + self._dh()
        return Stream(s.m_flow, self.fluid.T(h, s.Y), h, s.Y)

    def rhs(self, ctx, x, inlets, outlets):
        m = outlets["outlet"].m_flow
        return jnp.zeros(0), {"electricity": exergy.work(m * self._dh())}, {}

    def signals(self, ctx, x, inlets, outlets):
        return {"P_electric": outlets["outlet"].m_flow * self._dh()}

    signal_info: ClassVar = {"P_electric": ("W", "pump electric power", ())}


def fit_pump_curve(flow, pressure) -> tuple[float, float, float, float]:
    """Fit ``dp = a - c V - b V^2`` with ``a, b, c >= 0`` to points of a pump curve.

    Non-negative least squares [4] in scaled variables (``V / V_max``, ``dp / dp_max``).

    Parameters
    ----------
    flow : Volume flows, increasing, the largest > 0. [m^3/s]
    pressure : Pressure rise at each flow. [Pa]

    Returns
    -------
    a, c, b, miss
        Shut-off pressure [Pa], linear [Pa s/m^3] and quadratic [Pa s^2/m^6] coefficients,
        and the largest distance of a point from the fit relative to ``a``. [-]
    """
    from scipy.optimize import nnls

    V, dp = np.asarray(flow, dtype=float), np.asarray(pressure, dtype=float)
    V_max, dp_max = V.max(), dp.max()
    x = V / V_max
    A = np.stack([np.ones_like(x), -x, -x * x], axis=1)
    coef, _ = nnls(A, dp / dp_max)
    miss = float(np.max(np.abs(A @ coef - dp / dp_max)) / coef[0]) if coef[0] > 0 else np.inf
    return (float(coef[0] * dp_max), float(coef[1] * dp_max / V_max),
            float(coef[2] * dp_max / V_max**2), miss)


class SpeedControlledPump(AbstractStatelessComponent):
    """Pump on a fitted pressure curve, at a set speed, against a system curve (see the
    module docstring for the equations).

    Ports
    -----
    inlet, outlet : The loop fluid in and out.

    Parameters
    ----------
    dp_shutoff : Shut-off pressure at nominal speed, ``a``. [Pa]
    dp_linear : Linear coefficient of the pressure curve, ``c >= 0``. [Pa s/m^3]
    dp_quadratic : Quadratic coefficient of the pressure curve, ``b >= 0``. [Pa s^2/m^6]
    V_curve : Flows of the efficiency points at nominal speed, increasing. [m^3/s]
    eta_curve : Pump efficiency at each of ``V_curve``, in (0, 1]. [-]
    V_system : Design flow of the system curve. [m^3/s]
    dp_system : Pressure the system needs at ``V_system``, static part included. [Pa]
    p_static : Static part of the system curve (lift, back-pressure), below ``dp_system``. [Pa]
    eta_motor : Motor and drive efficiency, in (0, 1]. [-]
    speed : Speed over time, as a fraction of the nominal speed. [-]
    fluid : The pumped liquid (static).
    """

    dp_shutoff: jnp.ndarray
    dp_linear: jnp.ndarray
    dp_quadratic: jnp.ndarray
    V_curve: jnp.ndarray
    eta_curve: jnp.ndarray
    V_system: jnp.ndarray
    dp_system: jnp.ndarray
    p_static: jnp.ndarray
    eta_motor: jnp.ndarray
    speed: Schedule
    fluid: object = eqx.field(static=True)

    inlets: ClassVar = ("inlet",)
    outlets: ClassVar = ("outlet",)
    flow_names: ClassVar = ("electricity",)

    def operating_point(self, s):
        """Volume flow [m^3/s], pressure rise [Pa] and pump efficiency [-] at speed ``s`` [-]."""
        a, c, b = self.dp_shutoff, self.dp_linear, self.dp_quadratic
        k = (self.dp_system - self.p_static) / self.V_system**2
        margin = a - self.p_static / jnp.maximum(s * s, _S2_MIN)
        w = SMOOTHING * a
        m = jnp.maximum(w * jax.nn.softplus(margin / w), _M_FLOOR * w)
        q = 2.0 * m / (c + jnp.sqrt(c * c + 4.0 * (b + k) * m))
        dp = s * s * (a - c * q - b * q * q)
        q_eta = jnp.clip(q, self.V_curve[0], self.V_curve[-1])
        eta = interpax.interp1d(q_eta, self.V_curve, self.eta_curve, method="monotonic")
        return s * q, dp, eta

    def electric_power(self, s):
        """Electric power drawn at speed ``s`` [-]. [W]"""
        V, dp, eta = self.operating_point(s)
        return V * dp / (eta * self.eta_motor)

    def thermal_inputs(self, port):
        return ("inlet",)

    def mass_flow_out(self, ctx, x, port, m_in):
        V, _, _ = self.operating_point(self.speed(ctx.t))
        return self.fluid.rho * V

    def _dh(self, t):
        _, dp, eta = self.operating_point(self.speed(t))
        return dp / (self.fluid.rho * eta * self.eta_motor)

    def outlet(self, ctx, x, port, inlets):
        s = inlets["inlet"]
        h = s.h + self._dh(ctx.t)
        return Stream(s.m_flow, self.fluid.T(h, s.Y), h, s.Y)

    def rhs(self, ctx, x, inlets, outlets):
        m = outlets["outlet"].m_flow
        return jnp.zeros(0), {"electricity": exergy.work(m * self._dh(ctx.t))}, {}

    def signals(self, ctx, x, inlets, outlets):
        s = self.speed(ctx.t)
        V, dp, eta = self.operating_point(s)
        return {"P_electric": outlets["outlet"].m_flow * self._dh(ctx.t), "V_flow": V,
                "dp": dp, "speed": s, "efficiency": eta}

    signal_info: ClassVar = {
        "P_electric": ("W", "pump electric power", ()),
        "V_flow": ("m^3/s", "volume flow at the operating point", ()),
        "dp": ("Pa", "pressure rise at the operating point", ()),
        "speed": ("1", "speed as a fraction of the nominal speed", ()),
        "efficiency": ("1", "pump (hydraulic) efficiency at the operating point", ()),
    }
