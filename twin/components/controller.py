"""Feedback controllers: PI with anti-windup and a smoothed on/off relay with hysteresis.

A controller measures the temperature of one connection (named by its outlet,
``"economiser.cold_out"``) through a first-order sensor, ``τ_s dT_s/dt = T - T_s`` (a
thermometer in a well, as Modelica Buildings' ``Fluid.Sensors.TemperatureTwoPort`` with
its time constant), and drives an actuator, e.g. a :class:`twin.components.junctions.Splitter`
acting as a bypass damper or a three-way valve. Its output depends on its own states only, so
the plant knows every controller output before it evaluates flows and temperatures
(:class:`twin.core.component.Context` ``controls``): closing a loop through a controller never
creates an algebraic loop. The sensor lag is physical and also what makes this true.

``mode: pi``: ``u_raw = kp (e + I / Ti)`` with ``e = T_set - T_s`` for ``action: heating``
(more output when too cold) or ``T_s - T_set`` for ``cooling``; ``u`` is ``u_raw`` clipped to
``[u_min, u_max]``, smoothed over 1 % of the range, and the integrator uses back-calculation
anti-windup, ``dI/dt = e + (u - u_raw) / kp`` (Åström & Hägglund [1], sec. 3.5 with tracking
time ``Ti``): while the output saturates, the integral stops growing.

``mode: on_off``: a relay with hysteresis, e.g. for a heating action on below ``T_on`` and
off above ``T_off > T_on``. Its on-state ``s`` is a state relaxing with time constant
``τ_switch`` towards ``σ((θ(s) - T_s) / w)``, where σ is the logistic function and the
threshold ``θ(s) = T_on + s (T_off - T_on)`` moves with the state: off, it waits for
``T_on``; on, for ``T_off``. This smooth Schmitt trigger is bistable between the thresholds
(hysteresis) and has gradients everywhere; ``w`` (the smoothing width, default 0.2 K) and
``τ_switch`` are documented parameters: the smaller, the closer to an ideal relay and the
stiffer. For a cooling action the roles of the thresholds swap (on above ``T_on``, off
below ``T_off < T_on``).

References
----------
[1] Åström, K. J., Hägglund, T., Advanced PID Control, ISA, 2006.
[2] Wetter, M. et al., Modelica Buildings library, ``Controls.Continuous.LimPID`` and
    ``Controls.OBC.CDL.Reals.Hysteresis``.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from twin.core.component import AbstractComponent
from twin.core.schedule import Schedule
from twin.core.smooth import smooth_clip


class ControllerState(eqx.Module):
    """Sensor temperature [K] and the integral (PI) [K s] or relay on-state (on/off) [-]."""

    T_sensor: jnp.ndarray
    memory: jnp.ndarray


class Controller(AbstractComponent):
    """PI or on/off temperature controller (see module docstring).

    Parameters
    ----------
    T_set : Set point over time (PI). [K]
    kp : Proportional gain (output per kelvin). [1/K]
    Ti : Integral time. [s]
    u_min, u_max : Output range. [-]
    T_on, T_off : Relay thresholds (on/off). [K]
    width : Smoothing width of the relay. [K]
    tau_switch : Relay switching time constant. [s]
    tau_sensor : Sensor time constant. [s]
    T_initial : Initial sensor temperature. [K]
    u_initial : Initial output (PI: sets the integral; on/off: 0 or 1). [-]
    measure : Connection measured, by its outlet ``"component.port"`` (static).
    mode : ``"pi"`` or ``"on_off"`` (static).
    action : ``"heating"`` (output up when too cold) or ``"cooling"`` (static).
    """

    T_set: Schedule
    kp: jnp.ndarray
    Ti: jnp.ndarray
    u_min: jnp.ndarray
    u_max: jnp.ndarray
    T_on: jnp.ndarray
    T_off: jnp.ndarray
    width: jnp.ndarray
    tau_switch: jnp.ndarray
    tau_sensor: jnp.ndarray
    T_initial: jnp.ndarray
    u_initial: jnp.ndarray
    measure: str = eqx.field(static=True)
    mode: str = eqx.field(static=True, default="pi")
    action: str = eqx.field(static=True, default="heating")

    signal_info: ClassVar = {
        "output": ("1", "controller output", ()),
        "T_sensor": ("K", "measured (sensor) temperature", ()),
    }
    state_info: ClassVar = {
        "T_sensor": ("K", "sensor temperature", ()),
        "memory": ("1", "PI integral [K s] or relay on-state [-]", ()),
    }

    def __check_init__(self):
        if self.mode not in ("pi", "on_off"):
            raise ValueError(f"controller mode must be 'pi' or 'on_off', not {self.mode!r}")
        if self.action not in ("heating", "cooling"):
            raise ValueError(f"controller action must be 'heating' or 'cooling', not {self.action!r}")

    @property
    def _sign(self) -> float:
        return 1.0 if self.action == "heating" else -1.0

    def _pi(self, ctx, x):
        """(clipped output, unclipped output, error)."""
        e = self._sign * (self.T_set(ctx.t) - x.T_sensor)
        u_raw = self.kp * (e + x.memory / self.Ti)
        span = self.u_max - self.u_min
        return smooth_clip(u_raw, self.u_min, self.u_max, 0.01 * span), u_raw, e

    def _relay_target(self, x):
        theta = self.T_on + x.memory * (self.T_off - self.T_on)
        return jax.nn.sigmoid(self._sign * (theta - x.T_sensor) / self.width)

    def control_output(self, ctx, x):
        if self.mode == "pi":
            return self._pi(ctx, x)[0]
        return self.u_min + (self.u_max - self.u_min) * x.memory

    def initial_state(self):
        T = jnp.asarray(self.T_initial, dtype=float)
        if self.mode == "pi":  # bumpless start: the integral that gives u_initial at e = 0
            return ControllerState(T_sensor=T, memory=self.Ti * self.u_initial / self.kp)
        return ControllerState(T_sensor=T, memory=jnp.asarray(self.u_initial, dtype=float))

    def stored_energy(self, x):
        return jnp.zeros(())

    def stored_exergy(self, x, T0):
        return jnp.zeros(())

    def rhs(self, ctx, x, inlets, outlets):
        T = ctx.streams[self.measure].T
        dT = (T - x.T_sensor) / self.tau_sensor
        if self.mode == "pi":
            u, u_raw, e = self._pi(ctx, x)
            dm = e + (u - u_raw) / self.kp  # back-calculation anti-windup
        else:
            dm = (self._relay_target(x) - x.memory) / self.tau_switch
        return ControllerState(T_sensor=dT, memory=dm), {}, {}

    def signals(self, ctx, x, inlets, outlets):
        return {"output": self.control_output(ctx, x), "T_sensor": x.T_sensor}
