"""Schedules: piecewise functions of time (production plans, set points, demand).

A schedule has breakpoints ``times`` within one ``period`` (or over the whole horizon when
``period`` is None) and ``values``. ``kind="step"`` holds each value until the next
breakpoint (a production plan); ``kind="linear"`` interpolates (a ramp). Step breakpoints
are discontinuities of the right-hand side: :meth:`Schedule.jump_times` lists them over the
horizon so the step-size controller lands on them exactly (diffrax
``ClipStepSizeController(jump_ts=...)``), which costs no accuracy; without that, a prototype
lost 0.5-1.3 K at each jump (DESIGN lesson 3).

``values`` are JAX arrays (differentiable, sweepable). ``times`` are arrays too, but a
derivative with respect to a step time is a Dirac pulse, so gradients w.r.t. times are not
meaningful for ``kind="step"``.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


class Schedule(eqx.Module):
    """Piecewise-constant or piecewise-linear function of time.

    Parameters
    ----------
    times : Breakpoints, strictly increasing, first one 0 (within the period). [s]
    values : Value from each breakpoint on (same length as ``times``). [unit of the quantity]
    period : Repeat period, or None for a one-off profile held after the last breakpoint. [s]
    kind : "step" or "linear" (static).
    """

    times: Float[Array, " n"]
    values: Float[Array, " n"]
    period: float | None = eqx.field(static=True, default=None)
    kind: str = eqx.field(static=True, default="step")

    def __check_init__(self):
        t = np.asarray(self.times)
        if t.ndim != 1 or t.size == 0 or np.asarray(self.values).shape != t.shape:
            raise ValueError("schedule times and values must be 1-D and of equal length")
        if t[0] != 0.0:
            raise ValueError("a schedule's first time must be 0")
        if np.any(np.diff(t) <= 0):
            raise ValueError("schedule times must be strictly increasing")
        if self.period is not None and t[-1] >= self.period:
            raise ValueError("schedule times must lie within one period")
        if self.kind not in ("step", "linear"):
            raise ValueError(f"unknown schedule kind {self.kind!r}")

    @classmethod
    def constant(cls, value) -> "Schedule":
        """A schedule that is ``value`` at every time."""
        return cls(jnp.zeros(1), jnp.asarray([value], dtype=float))

    def __call__(self, t) -> Float[Array, ""]:
        tau = jnp.mod(t, self.period) if self.period is not None else t
        if self.kind == "step" or self.times.shape[0] == 1:
            # A jump at t_k is taken as belonging to the later piece (right-continuous); the
            # solver never evaluates exactly at a jump time (it steps to the float just
            # before and resumes just after).
            # "compare_all": a handful of breakpoints; avoids a while loop per evaluation
            i = jnp.searchsorted(self.times, tau, side="right", method="compare_all") - 1
            return self.values[jnp.clip(i, 0, self.values.shape[0] - 1)]
        if self.period is None:
            return jnp.interp(tau, self.times, self.values)
        # periodic linear: wrap the last segment back to the first value
        t_ext = jnp.concatenate([self.times, jnp.asarray([self.period])])
        v_ext = jnp.concatenate([self.values, self.values[:1]])
        return jnp.interp(tau, t_ext, v_ext)

    def jump_times(self, t0: float, t1: float) -> np.ndarray:
        """Times in (t0, t1) at which the value jumps (step kind) or kinks (linear). [s]"""
        base = np.asarray(self.times, dtype=float)
        if base.size <= 1 and self.period is None:
            return np.zeros(0)
        if self.period is None:
            jt = base[1:]
        else:
            n0 = int(np.floor(t0 / self.period)) - 1
            n1 = int(np.ceil(t1 / self.period)) + 1
            jt = (base[None, :] + self.period * np.arange(n0, n1 + 1)[:, None]).ravel()
            if base.size == 1 and self.kind == "step":
                return np.zeros(0)
        return np.unique(jt[(jt > t0) & (jt < t1)])
