"""Smooth surrogates for non-smooth functions, so gradients exist everywhere.

Every surrogate is algebraic (a square root, no exp/log) because transcendental functions
dominate the right-hand side's cost (DESIGN lesson 8), and each has a documented width
``eps`` in the units of its argument. Far from the kink (|x| >> eps) they equal the exact
function to O(eps^2 / x).
"""

from __future__ import annotations

import jax.numpy as jnp


def smooth_max(x, y, eps):
    """max(x, y) smoothed over a width ``eps``: ``(x + y + sqrt((x - y)^2 + eps^2)) / 2``."""
    d = x - y
    return 0.5 * (x + y + jnp.sqrt(d * d + eps * eps))


def smooth_min(x, y, eps):
    """min(x, y) smoothed over a width ``eps``: ``(x + y - sqrt((x - y)^2 + eps^2)) / 2``."""
    d = x - y
    return 0.5 * (x + y - jnp.sqrt(d * d + eps * eps))


def smooth_clip(x, lo, hi, eps):
    """x clipped to [lo, hi], each corner smoothed over ``eps``."""
    return smooth_min(smooth_max(x, lo, eps), hi, eps)


def smooth_step(x, eps):
    """The unit step (0 below 0, 1 above) smoothed over a width ``eps``:
    ``(1 + x / sqrt(x^2 + eps^2)) / 2``; it lies in (0, 1) and is exactly 1/2 at 0."""
    return 0.5 * (1.0 + x / jnp.sqrt(x * x + eps * eps))
