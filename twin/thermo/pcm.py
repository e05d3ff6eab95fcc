"""Phase-change materials: effective properties and the enthalpy method's T(h).

A PCM node stores specific enthalpy h and derives its temperature from it (the enthalpy
method of Voller & Prakash 1987 [1] and Swaminathan & Voller 1992 [2]). With the liquid
mass fraction xi(T) of slPCMlib (Barz et al. 2022 [3]),

    dh/dT = (1 - xi) cp_s + xi cp_l + L dxi/dT,
    h(T) = cp_s (T - T_ref) + (cp_l - cp_s) ∫_{T_ref}^{T} xi dT' + L xi(T),   T_ref = 298.15 K,

so h(T) is strictly increasing and has an inverse T(h). h = 0 is the solid at 298.15 K: a
card that melts above it (every paraffin and salt card) has h(298.15 K) = 0, one that melts
below it (``ice``) has h(298.15 K) = L there, its liquid. Only differences of h enter the
balances. A card tabulates xi at knots T_k;
between knots xi is the monotone C1 PCHIP (Fritsch & Carlson 1980 [4]). From it
:meth:`PCMMaterial.from_melting_curve` integrates h exactly (a PCHIP integrates to a
quartic) on a grid that refines the knots, and stores (h_i, T_i, dT/dh_i). ``T(h)`` is
the cubic Hermite interpolant of that table with the exact slopes dT/dh = 1/(dh/dT),
limited to alpha, beta <= 2.9 (secant multiples), which keeps it strictly increasing [4];
``h(T)`` is its exact inverse (safeguarded Newton per segment). Outside the table both
continue linearly with cp_s below and cp_l above, which is exact because the card starts
and ends flat (xi' = 0), so energy stays consistent for any h and T(h) is C1 everywhere.
With 8 table nodes per knot interval (default; 249 nodes for the shipped cards) the
table reproduces the exact h(T) within 1e-4 L, and the effective heat capacity dh/dT
of the shipped cards stays >= min(cp_s, cp_l) between nodes (coarser tables can dip
below it next to the solidus and liquidus, where a cubic spans a kink of T''(h)).

Hysteresis. A card may also carry a ``solidification:`` curve xi_s(T) (knots, PCHIP as the
melting curve), e.g. the Rubitherm data-sheet card ``RT44HC_datasheet``; it is loaded into
a :class:`SolidificationCurve` (``PCMMaterial.solidification``, None without one). Only the
PCM bank's curve-track hysteresis model (liquid fraction as a state, see
:mod:`twin.components.pcm_bank`) uses it, and it needs xi_s(T) >= xi_m(T) at every T
(crystals form at or below the temperature at which the same fraction melts; checked by
:func:`load_material`). h(T), T(h) and s(h) above stay those of the melting curve, which
is the reversible reference of the bank's entropy.

References
----------
[1] Voller, V. R. & Prakash, C. (1987), Int. J. Heat Mass Transfer 30, 1709-1719.
[2] Swaminathan, C. R. & Voller, V. R. (1992), Metall. Trans. B 23, 651-664.
[3] Barz, T., Bres, A. & Emhofer, J. (2022), slPCMlib, Asian Modelica Conf.,
    doi:10.3384/ecp19363.
[4] Fritsch, F. N. & Carlson, R. E. (1980), SIAM J. Numer. Anal. 17, 238-246.
"""

from __future__ import annotations

import functools
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from twin.thermo.fluids import T_REF

MATERIALS_DIR = Path(__file__).resolve().parents[1] / "data" / "materials"
_SCALARS = ("cp_solid", "cp_liquid", "latent_heat", "rho_solid", "rho_liquid", "k_solid",
            "k_liquid")
_SLOPE_LIMIT = 2.9  # alpha, beta <= 2.9 < 3: strictly increasing Hermite cubics [4]
_NEWTON_ITERATIONS = 40


def _pchip_slopes(x: Array, y: Array) -> Array:
    """Knot slopes of the monotone PCHIP, as ``scipy.interpolate.PchipInterpolator``. [y/x]"""
    dx = jnp.diff(x)
    delta = jnp.diff(y) / dx
    d0, d1 = delta[:-1], delta[1:]
    w1, w2 = 2 * dx[1:] + dx[:-1], dx[1:] + 2 * dx[:-1]
    same = d0 * d1 > 0  # weighted harmonic mean where the secants agree in sign, else 0
    safe0, safe1 = jnp.where(same, d0, 1.0), jnp.where(same, d1, 1.0)
    mid = jnp.where(same, (w1 + w2) / (w1 / safe0 + w2 / safe1), 0.0)

    def end(h0, h1, e0, e1):
        m = ((2 * h0 + h1) * e0 - h0 * e1) / (h0 + h1)
        m = jnp.where(jnp.sign(m) != jnp.sign(e0), 0.0, m)
        return jnp.where((jnp.sign(e0) != jnp.sign(e1)) & (jnp.abs(m) > 3 * jnp.abs(e0)),
                         3 * e0, m)

    first = end(dx[0], dx[1], delta[0], delta[1])
    last = end(dx[-1], dx[-2], delta[-1], delta[-2])
    return jnp.concatenate([first[None], mid, last[None]])


def _hermite(y0, y1, m0, m1, d, t):
    """Cubic Hermite on one segment of width d at t in [0, 1]."""
    t2 = t * t
    t3 = t2 * t
    return ((2 * t3 - 3 * t2 + 1) * y0 + (t3 - 2 * t2 + t) * d * m0
            + (3 * t2 - 2 * t3) * y1 + (t3 - t2) * d * m1)


def _hermite_slope(y0, y1, m0, m1, d, t):
    """Derivative of :func:`_hermite` with respect to x = x0 + t d."""
    return (6 * (t * t - t) * (y0 - y1) / d + (3 * t * t - 4 * t + 1) * m0
            + (3 * t * t - 2 * t) * m1)


def _hermite_integral(y0, y1, m0, m1, d, t):
    """Integral of :func:`_hermite` from the segment start to t (basis as slPCMlib [3])."""
    t2, t3, t4 = t * t, t * t * t, t * t * t * t
    return d * ((t4 / 2 - t3 + t) * y0 + (t4 / 4 - 2 * t3 / 3 + t2 / 2) * d * m0
                + (t3 - t4 / 2) * y1 + (t4 / 4 - t3 / 3) * d * m1)


def _unit(x, d):
    """x / d where it lies in [0, 1], else 0.5 (such points take the linear branch).

    A ``jnp.clip`` would halve the derivative at the table nodes (ties split the gradient);
    NaN passes through.
    """
    t = x / d
    return jnp.where((t < 0.0) | (t > 1.0), 0.5, t)


def _limit(m: Array, secant: Array) -> Array:
    """Cap knot slopes at 2.9 x the adjacent secants (0 next to a flat segment)."""
    cap = _SLOPE_LIMIT * jnp.minimum(jnp.concatenate([secant[:1], secant]),
                                     jnp.concatenate([secant, secant[-1:]]))
    return jnp.minimum(m, cap)


@functools.partial(jax.jit, static_argnames="refine")
def _tables(Tk, xk, cp_s, cp_l, L, refine):
    """Enthalpy table of a PCHIP melting curve, integrated exactly (see module docstring)."""
    mk = _pchip_slopes(Tk, xk)
    n = Tk.shape[0]
    seg = jnp.append(jnp.repeat(jnp.arange(n - 1), refine), n - 2)
    t = jnp.append(jnp.tile(jnp.arange(refine) / refine, n - 1), 1.0)
    dT = jnp.diff(Tk)
    args = (xk[seg], xk[seg + 1], mk[seg], mk[seg + 1], dT[seg])
    T = Tk[seg] + t * dT[seg]
    xi = _hermite(*args, t)
    dxi = _hermite_slope(*args, t)
    full = _hermite_integral(xk[:-1], xk[1:], mk[:-1], mk[1:], dT, 1.0)
    start = jnp.concatenate([jnp.zeros(1), jnp.cumsum(full)])  # int_{T_0}^{T_k} xi
    integral = start[seg] + _hermite_integral(*args, t)
    # int_{T_0}^{T_REF} xi, wherever T_REF lies (xi = 0 below, 1 above the knots)
    j = jnp.clip(jnp.searchsorted(Tk, T_REF, side="right") - 1, 0, n - 2)
    tr = jnp.clip((T_REF - Tk[j]) / dT[j], 0.0, 1.0)
    at_ref = (start[j] + _hermite_integral(xk[j], xk[j + 1], mk[j], mk[j + 1], dT[j], tr)
              + jnp.maximum(T_REF - Tk[-1], 0.0))
    h = cp_s * (T - T_REF) + (cp_l - cp_s) * (integral - at_ref) + L * xi
    dhdT = cp_s + (cp_l - cp_s) * xi + L * dxi
    return {"T_grid": T, "h_grid": h, "xi_grid": xi,
            "dTdh_grid": _limit(1.0 / dhdT, jnp.diff(T) / jnp.diff(h)),
            "dxidh_grid": _limit(jnp.maximum(dxi, 0.0) / dhdT, jnp.diff(xi) / jnp.diff(h))}


@functools.partial(jax.jit, static_argnames="refine")
def _curve_table(Tk, xk, refine):
    """A PCHIP curve tabulated at ``refine`` nodes per knot interval (and the last knot)."""
    mk = _pchip_slopes(Tk, xk)
    n = Tk.shape[0]
    seg = jnp.append(jnp.repeat(jnp.arange(n - 1), refine), n - 2)
    t = jnp.append(jnp.tile(jnp.arange(refine) / refine, n - 1), 1.0)
    dT = jnp.diff(Tk)
    return Tk[seg] + t * dT[seg], _hermite(xk[seg], xk[seg + 1], mk[seg], mk[seg + 1], dT[seg], t)


class SolidificationCurve(eqx.Module):
    """Liquid mass fraction on cooling, xi_s(T), of a PCM with thermal hysteresis.

    Final class. Built from a card's ``solidification:`` knots by :meth:`from_knots` (the
    monotone PCHIP, as the melting curve) and tabulated at ``refine`` nodes per knot
    interval; :meth:`liquid_fraction` interpolates the table linearly, as the PCM bank
    does with the melting curve's table. It says only where crystals form in the bank's
    curve-track model; the enthalpy and the entropy of the material remain those of the
    melting curve (module docstring).

    Parameters
    ----------
    T_grid : Temperatures of the table, increasing. [K]
    xi_grid : Liquid mass fraction on cooling at T_grid, non-decreasing. [-]
    T_solidus : Where xi_s reaches 0 (solidification complete). [K]
    T_liquidus : Where xi_s leaves 1 (the solidification onset). [K]
    """

    T_grid: Float[Array, " m"]
    xi_grid: Float[Array, " m"]
    T_solidus: Float[Array, ""]
    T_liquidus: Float[Array, ""]

    @classmethod
    def from_knots(cls, T_knots: ArrayLike, xi_knots: ArrayLike,
                   refine: int = 8) -> SolidificationCurve:
        """Tabulate the PCHIP through the knots.

        Parameters
        ----------
        T_knots : Knot temperatures, strictly increasing; the first two knots must have
            xi = 0 and the last two xi = 1 (flat ends). [K]
        xi_knots : Liquid mass fraction at the knots, non-decreasing. [-]
        refine : Table nodes per knot interval (static). [-]
        """
        Tk, xk = jnp.asarray(T_knots, float), jnp.asarray(xi_knots, float)
        T, xi = _curve_table(Tk, xk, refine)
        return cls(T_grid=T, xi_grid=xi, T_solidus=jnp.max(jnp.where(xk <= 0.0, Tk, -jnp.inf)),
                   T_liquidus=jnp.min(jnp.where(xk >= 1.0, Tk, jnp.inf)))

    def liquid_fraction(self, T: ArrayLike) -> Array:
        """xi_s(T), linear between the table nodes: 0 below the table, 1 above it.

        Parameters
        ----------
        T : Temperature. [K]

        Returns
        -------
        Liquid mass fraction on cooling. [-]
        """
        return jnp.interp(jnp.asarray(T, float), self.T_grid, self.xi_grid)


class PCMMaterial(eqx.Module):
    """Solid/liquid PCM with a smooth, strictly monotone enthalpy-temperature relation.

    Final class. Build it with :func:`load_material` or :meth:`from_melting_curve`;
    the arrays are pytree leaves, so a material can be vmapped, differentiated or edited
    with ``eqx.tree_at`` (edit the scalars via :meth:`from_melting_curve` to keep the
    tables consistent).

    Parameters
    ----------
    name : Card name (static).
    source : Citation of the property data (static).
    T_grid : Temperatures of the enthalpy table, increasing. [K]
    h_grid : Specific enthalpy at T_grid, relative to 298.15 K. [J/kg]
    xi_grid : Liquid mass fraction at T_grid. [-]
    dTdh_grid : Limited Hermite slopes dT/dh of T(h) at the nodes. [K kg/J]
    dxidh_grid : Limited Hermite slopes dxi/dh of xi(h) at the nodes. [kg/J]
    cp_solid, cp_liquid : Specific heat capacity of the solid and the liquid. [J/(kg K)]
    latent_heat : Latent heat of fusion. [J/kg]
    rho_solid, rho_liquid : Density of the solid and the liquid. [kg/m^3]
    k_solid, k_liquid : Thermal conductivity of the solid and the liquid. [W/(m K)]
    T_solidus, T_liquidus : Where xi leaves 0 and where it reaches 1. [K]
    solidification : The card's own solidification curve xi_s(T) (hysteresis), or None
        (then the PCM bank's hysteresis model shifts the melting curve).
    """

    name: str = eqx.field(static=True)
    source: str = eqx.field(static=True)
    T_grid: Float[Array, " n"]
    h_grid: Float[Array, " n"]
    xi_grid: Float[Array, " n"]
    dTdh_grid: Float[Array, " n"]
    dxidh_grid: Float[Array, " n"]
    cp_solid: Float[Array, ""]
    cp_liquid: Float[Array, ""]
    latent_heat: Float[Array, ""]
    rho_solid: Float[Array, ""]
    rho_liquid: Float[Array, ""]
    k_solid: Float[Array, ""]
    k_liquid: Float[Array, ""]
    T_solidus: Float[Array, ""]
    T_liquidus: Float[Array, ""]
    solidification: SolidificationCurve | None = None

    @classmethod
    def from_melting_curve(cls, name: str, source: str, T_knots: ArrayLike,
                           xi_knots: ArrayLike, *, cp_solid, cp_liquid, latent_heat,
                           rho_solid, rho_liquid, k_solid, k_liquid,
                           refine: int = 8,
                           solidification: SolidificationCurve | None = None) -> PCMMaterial:
        """Build the enthalpy table from a tabulated melting curve.

        Pure jnp (jitted): differentiable with respect to the knots and the scalars, and
        usable under ``jax.vmap`` to build a batch of materials.

        Parameters
        ----------
        name : Material name.
        source : Citation of the data.
        T_knots : Knot temperatures, strictly increasing; the first two knots must have
            xi = 0 and the last two xi = 1 (flat ends). [K]
        xi_knots : Liquid mass fraction at the knots, non-decreasing. [-]
        cp_solid, cp_liquid : Specific heat capacities. [J/(kg K)]
        latent_heat : Latent heat of fusion. [J/kg]
        rho_solid, rho_liquid : Densities. [kg/m^3]
        k_solid, k_liquid : Thermal conductivities. [W/(m K)]
        refine : Table nodes per knot interval (static). [-]
        solidification : The material's own solidification curve (hysteresis), if any.
        """
        Tk, xk = jnp.asarray(T_knots, float), jnp.asarray(xi_knots, float)
        cp_s, cp_l, L = (jnp.asarray(v, float) for v in (cp_solid, cp_liquid, latent_heat))
        return cls(
            name=name, source=source, **_tables(Tk, xk, cp_s, cp_l, L, refine),
            cp_solid=cp_s, cp_liquid=cp_l, latent_heat=L,
            rho_solid=jnp.asarray(rho_solid, float), rho_liquid=jnp.asarray(rho_liquid, float),
            k_solid=jnp.asarray(k_solid, float), k_liquid=jnp.asarray(k_liquid, float),
            T_solidus=jnp.max(jnp.where(xk <= 0.0, Tk, -jnp.inf)),
            T_liquidus=jnp.min(jnp.where(xk >= 1.0, Tk, jnp.inf)),
            solidification=solidification,
        )

    @property
    def rho(self) -> Array:
        """Density for mass and geometry: the solid density (a store is filled with solid
        PCM; melting expansion is left to the container's free volume). [kg/m^3]"""
        return self.rho_solid

    def T(self, h: ArrayLike) -> Array:
        """Temperature from specific enthalpy; C1, strictly increasing, any shape.

        Parameters
        ----------
        h : Specific enthalpy relative to 298.15 K. [J/kg]

        Returns
        -------
        Temperature. [K]
        """
        return _temperature(self, jnp.asarray(h, float))

    def h(self, T: ArrayLike) -> Array:
        """Specific enthalpy from temperature: the exact inverse of :meth:`T`.

        Parameters
        ----------
        T : Temperature. [K]

        Returns
        -------
        Specific enthalpy relative to 298.15 K. [J/kg]
        """
        return _enthalpy(self, jnp.asarray(T, float))

    def s(self, h: ArrayLike) -> Array:
        """Specific entropy ``s(h) = ∫_0^h dh' / T(h')`` relative to 298.15 K, consistent with
        :meth:`T` (the second-law audit of stores and charges needs exactly this relation).

        Per table segment the integral of 1/T over the Hermite cubic is taken with 8-point
        Gauss-Legendre quadrature (error far below 1e-12 relative: 1/T is smooth and varies
        by less than 1 % across a segment); outside the table ``cp`` is constant, so
        ``s = s_end + cp ln(T / T_end)`` exactly.

        Parameters
        ----------
        h : Specific enthalpy relative to 298.15 K. [J/kg]

        Returns
        -------
        Specific entropy relative to 298.15 K. [J/(kg K)]
        """
        h = jnp.asarray(h, float)
        return _entropy(self, h) - _entropy(self, jnp.zeros(()))

    def liquid_fraction(self, h: ArrayLike) -> Array:
        """Liquid mass fraction xi(h), monotone C1 Hermite on the table, in [0, 1].

        Parameters
        ----------
        h : Specific enthalpy relative to 298.15 K. [J/kg]

        Returns
        -------
        Liquid mass fraction. [-]
        """
        return _liquid_fraction(self, jnp.asarray(h, float))

    def T_and_liquid_fraction(self, h: ArrayLike) -> tuple[Array, Array]:
        """:meth:`T` and :meth:`liquid_fraction` from one table look-up (the hot path of the
        PCM bank, where the look-up dominates the cost). [K], [-]"""
        return _temperature_and_fraction(self, jnp.asarray(h, float))

    def conductivity(self, h: ArrayLike) -> Array:
        """Thermal conductivity (1 - xi) k_s + xi k_l.

        Parameters
        ----------
        h : Specific enthalpy relative to 298.15 K. [J/kg]

        Returns
        -------
        Thermal conductivity. [W/(m K)]
        """
        xi = self.liquid_fraction(h)
        return (1.0 - xi) * self.k_solid + xi * self.k_liquid


# Kernels are jitted functions of (material, array) so that eager calls compile once per
# card and shape (methods under eqx.filter_jit would treat Python floats as static).


def _segment(grid, x):
    """Segment index i, local coordinate t in [0, 1] and width of x in an increasing grid."""
    i = jnp.clip(jnp.searchsorted(grid, x, side="right") - 1, 0, grid.shape[0] - 2)
    d = grid[i + 1] - grid[i]
    return i, _unit(x - grid[i], d), d


@jax.jit
def _temperature(m: PCMMaterial, h: Array) -> Array:
    i, t, dh = _segment(m.h_grid, h)
    g, s = m.T_grid, m.dTdh_grid
    inside = _hermite(g[i], g[i + 1], s[i], s[i + 1], dh, t)
    below = g[0] + (h - m.h_grid[0]) / m.cp_solid
    above = g[-1] + (h - m.h_grid[-1]) / m.cp_liquid
    return jnp.where(h < m.h_grid[0], below, jnp.where(h > m.h_grid[-1], above, inside))


def _cubic(a, b, t):
    """Normalised Hermite cubic with end slopes a, b (p(0) = 0, p(1) = 1) and p'."""
    return ((((a + b - 2) * t + 3 - 2 * a - b) * t + a) * t,
            (3 * (a + b - 2) * t + 6 - 4 * a - 2 * b) * t + a)


def _invert_cubic(a, b, s):
    """Root t in [0, 1] of p(t) = s: Newton, falling back to bisection of the bracket."""

    def step(_, state):
        t, lo, hi = state
        f, df = _cubic(a, b, t)
        lo, hi = jnp.where(f < s, t, lo), jnp.where(f < s, hi, t)
        tn = t - (f - s) / df
        return jnp.where((tn > lo) & (tn < hi), tn, 0.5 * (lo + hi)), lo, hi

    state = (s, jnp.zeros_like(s), jnp.ones_like(s))
    return jax.lax.fori_loop(0, _NEWTON_ITERATIONS, step, state)[0]


@jax.jit
def _enthalpy(m: PCMMaterial, T: Array) -> Array:
    """Inverse of the segment cubic by safeguarded Newton; derivative by one final
    differentiable Newton step (implicit-function theorem)."""
    g, hg = m.T_grid, m.h_grid
    i, s, dT = _segment(g, T)
    dh = hg[i + 1] - hg[i]
    a, b = m.dTdh_grid[i] * dh / dT, m.dTdh_grid[i + 1] * dh / dT  # in (0, 2.9]
    t = _invert_cubic(*jax.lax.stop_gradient((a, b, s)))
    f, df = _cubic(a, b, t)
    t = t - (f - s) / df
    inside = hg[i] + t * dh
    below = hg[0] + (T - g[0]) * m.cp_solid
    above = hg[-1] + (T - g[-1]) * m.cp_liquid
    return jnp.where(T < g[0], below, jnp.where(T > g[-1], above, inside))


@jax.jit
def _temperature_and_fraction(m: PCMMaterial, h: Array) -> tuple[Array, Array]:
    i, t, dh = _segment(m.h_grid, h)
    g, s = m.T_grid, m.dTdh_grid
    inside = _hermite(g[i], g[i + 1], s[i], s[i + 1], dh, t)
    below = g[0] + (h - m.h_grid[0]) / m.cp_solid
    above = g[-1] + (h - m.h_grid[-1]) / m.cp_liquid
    T = jnp.where(h < m.h_grid[0], below, jnp.where(h > m.h_grid[-1], above, inside))
    x, sx = m.xi_grid, m.dxidh_grid
    xi = jnp.clip(_hermite(x[i], x[i + 1], sx[i], sx[i + 1], dh, t), 0.0, 1.0)
    return T, xi


_GAUSS_X, _GAUSS_W = (jnp.asarray(a) for a in np.polynomial.legendre.leggauss(8))


def _integral_inverse_T(m: PCMMaterial, a: Array, b: Array) -> Array:
    """``∫_a^b dh / T(h)`` by 8-point Gauss-Legendre (a and b in one table segment). [J/(kg K)]"""
    half = 0.5 * (b - a)
    h = (0.5 * (a + b))[..., None] + half[..., None] * _GAUSS_X
    return half * jnp.sum(_GAUSS_W / _temperature(m, h), axis=-1)


@jax.jit
def _entropy(m: PCMMaterial, h: Array) -> Array:
    """Entropy relative to the first table node: cumulative segment integrals plus the part
    of the current segment (or the constant-cp branch outside the table). [J/(kg K)]"""
    hg, g = m.h_grid, m.T_grid
    nodes = jnp.concatenate([jnp.zeros(1), jnp.cumsum(_integral_inverse_T(m, hg[:-1], hg[1:]))])
    i = jnp.clip(jnp.searchsorted(hg, h, side="right") - 1, 0, hg.shape[0] - 2)
    inside = nodes[i] + _integral_inverse_T(m, hg[i], jnp.clip(h, hg[0], hg[-1]))
    T = _temperature(m, h)
    below = m.cp_solid * jnp.log(T / g[0])
    above = nodes[-1] + m.cp_liquid * jnp.log(T / g[-1])
    return jnp.where(h < hg[0], below, jnp.where(h > hg[-1], above, inside))


@jax.jit
def _liquid_fraction(m: PCMMaterial, h: Array) -> Array:
    i, t, dh = _segment(m.h_grid, h)
    x, s = m.xi_grid, m.dxidh_grid
    return jnp.clip(_hermite(x[i], x[i + 1], s[i], s[i + 1], dh, t), 0.0, 1.0)


def available_materials() -> list[str]:
    """Names of the material cards in ``twin/data/materials``."""
    return sorted(p.stem for p in MATERIALS_DIR.glob("*.yaml"))


def load_material(name_or_path: str | Path, refine: int = 8,
                  knot_multiple: int = 16) -> PCMMaterial:
    """Load a PCM card by name (case-insensitive) or by path to a YAML file.

    The knot table is padded with flat liquid knots (xi = 1, 1 K apart) to a multiple of
    ``knot_multiple`` knots. This changes nothing physically (the liquid branch is linear
    and exact) but gives cards of similar size identical array shapes, so compiled code
    (and the persistent compilation cache) is shared between materials.

    A card with a ``solidification:`` section (same layout as ``melting:``) gets a
    :class:`SolidificationCurve` (padded alike). Its tabulated xi_s must not lie below the
    melting curve's table anywhere (both are linear between their nodes, so checking at
    the union of the nodes is exact): the bank's hysteresis model and its second-law
    reasoning need solidification at or below the melting temperature of every fraction.

    Parameters
    ----------
    name_or_path : Card name such as ``"RT44HC"`` or a path to a ``.yaml`` card.
    refine : Enthalpy-table nodes per knot interval. [-]
    knot_multiple : Pad the knot count to a multiple of this. [-]

    Raises
    ------
    ValueError : Unknown card (the message lists the available ones) or invalid content.
    """
    path = Path(name_or_path)
    if not path.is_file():
        cards = {n.lower(): n for n in available_materials()}
        key = str(name_or_path).lower().removesuffix(".yaml")
        if key not in cards:
            raise ValueError(f"unknown PCM material {str(name_or_path)!r}: no such file and no "
                             f"card in {MATERIALS_DIR}; available: {', '.join(cards.values())}")
        path = MATERIALS_DIR / f"{cards[key]}.yaml"
    try:
        card = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or exc
        raise ValueError(f"{path}{where}: cannot read the material card: {reason}") from None
    if not isinstance(card, dict):
        raise ValueError(f"{path}: a material card is a mapping of name, source, {', '.join(_SCALARS)} "
                         "and melting")
    missing = [k for k in ("name", "source", *_SCALARS, "melting") if k not in card]
    if missing:
        raise ValueError(f"{path}: missing field(s) {', '.join(missing)}")
    scalars = {k: float(card[k]) for k in _SCALARS}
    if min(scalars.values()) <= 0.0:
        raise ValueError(f"{path}: {', '.join(_SCALARS)} must be positive, got {scalars}")
    T, xi = _card_curve(card, "melting", path, knot_multiple)
    solidification = None
    if card.get("solidification") is not None:
        solidification = SolidificationCurve.from_knots(
            *_card_curve(card, "solidification", path, knot_multiple), refine=refine)
    material = PCMMaterial.from_melting_curve(str(card["name"]), str(card["source"]), T, xi,
                                              refine=refine, solidification=solidification,
                                              **scalars)
    if solidification is not None:
        nodes = np.union1d(np.asarray(material.T_grid), np.asarray(solidification.T_grid))
        below = (np.interp(nodes, material.T_grid, material.xi_grid)
                 - np.interp(nodes, solidification.T_grid, solidification.xi_grid))
        if below.max() > 0.0:
            k = int(np.argmax(below))
            raise ValueError(f"{path}: the solidification curve lies below the melting curve at "
                             f"{nodes[k]:.3f} K (xi lower by {below[k]:.2g}): a fraction would "
                             f"solidify above the temperature at which it melts")
    return material


def _card_curve(card: dict, key: str, path: Path, knot_multiple: int):
    """Knots (T [K], xi [-]) of a card's ``melting`` or ``solidification`` section,
    checked, and padded with flat liquid knots to a multiple of ``knot_multiple``."""
    T = np.asarray(card[key]["T"], float)
    xi = np.asarray(card[key]["xi"], float)
    if T.shape != xi.shape or T.size < 4 or np.any(np.diff(T) <= 0) or np.any(np.diff(xi) < 0):
        raise ValueError(f"{path}: {key}.T must increase strictly and {key}.xi must not "
                         f"decrease, with the same length >= 4")
    if not (xi[0] == xi[1] == 0.0 and xi[-2] == xi[-1] == 1.0):
        raise ValueError(f"{path}: {key}.xi must start with two 0 and end with two 1 "
                         f"(flat ends make the linear extrapolation exact)")
    pad = -T.size % knot_multiple
    return (np.concatenate([T, T[-1] + np.arange(1.0, pad + 1.0)]),
            np.concatenate([xi, np.ones(pad)]))
