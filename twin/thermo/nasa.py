"""Ideal-gas thermodynamics from NASA 7-coefficient polynomials.

Every species has two fits, ``a_low`` on 200-1000 K and ``a_high`` on 1000-6000 K, of the
form (standard state p0 = 1 bar)::

    cp/R   = a1 + a2 T + a3 T^2 + a4 T^3 + a5 T^4
    H/(RT) = a1 + a2 T/2 + a3 T^2/3 + a4 T^3/4 + a5 T^4/5 + a6/T
    S/R    = a1 ln T + a2 T + a3 T^2/2 + a4 T^3/3 + a5 T^4/4 + a7

``H`` is the absolute enthalpy on the usual chemical scale (elements in their reference
state have ``H(298.15 K) = 0``), so ``H(298.15 K)`` of a compound is its standard enthalpy
of formation. The range is selected with ``jnp.where`` (T < 1000 K -> low fit); all
functions are jit/vmap/grad safe. At 1000 K the printed fits join to within 1e-8 (relative)
in cp and 1e-3 J/mol in H (checked in ``tests/test_thermo_gas.py``).

Gas streams in twin carry mass fractions ``Y`` over :data:`GAS_SPECIES`. Mixture enthalpies
are sensible, relative to ``T_REF = 298.15 K`` (``h_mix(298.15, Y) == 0`` exactly); chemical
energy enters only through the fuel's LHV (:mod:`twin.thermo.combustion`).

Coefficient sources (typed in by hand from the published tables):

* O2, H2O, CO2, CH4, C2H6, H2, CO: McBride, Gordon & Reno (1993), NASA TM-4513, as
  distributed with the GRI-Mech 3.0 thermodynamic data extended to 6000 K (Smith et al.,
  GRI-Mech 3.0; high-temperature polynomials compiled by J. Shepherd from TM-4513). The
  200-1000 K fits are identical to GRI-Mech 3.0 ``thermo30.dat``.
* N2 (entry "G 8/02"), Ar and C3H8: Burcat & Ruscic (2005), Third Millennium Ideal Gas
  and Condensed Phase Thermochemical Database, ANL-05/20 and TAE 960.

These tables take the CH4 formation enthalpy -74.60 kJ/mol of Gurvich et al. (JANAF:
-74.87 kJ/mol, i.e. 0.03 % of the LHV). Molar masses are computed from atomic weights, so
element balances close mass balances.

References
----------
.. [1] B. J. McBride, S. Gordon, M. A. Reno, "Coefficients for calculating thermodynamic
   and transport properties of individual species", NASA TM-4513, 1993.
.. [2] B. J. McBride, M. J. Zehe, S. Gordon, "NASA Glenn coefficients for calculating
   thermodynamic properties of individual species", NASA/TP-2002-211556, 2002.
.. [3] G. P. Smith et al., GRI-Mech 3.0, http://combustion.berkeley.edu/gri-mech/
.. [4] A. Burcat, B. Ruscic, "Third millennium ideal gas and condensed phase
   thermochemical database for combustion", ANL-05/20, TAE 960, 2005.
.. [5] M. W. Chase, "NIST-JANAF Thermochemical Tables", 4th ed., J. Phys. Chem. Ref.
   Data Monograph 9, 1998 (reference values used in the tests).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

R_UNIVERSAL = 8.314462618  # molar gas constant (CODATA 2018, exact) [J/(mol K)]
T_REF = 298.15  # reference temperature of sensible enthalpies and of the LHV [K]
T_MID = 1000.0  # common temperature of the two polynomial ranges [K]
P_STD = 1.0e5  # standard-state pressure of the tables [Pa]

#: Composition vector carried by every gas stream in twin (mass fractions, shape (5,)).
GAS_SPECIES = ("N2", "O2", "CO2", "H2O", "Ar")

ATOMIC_WEIGHTS = {"C": 12.0107, "H": 1.00794, "O": 15.9994, "N": 14.0067, "Ar": 39.948}  # [g/mol]

#: Elemental composition of the tabulated species.
ATOMS = {
    "N2": {"N": 2},
    "O2": {"O": 2},
    "CO2": {"C": 1, "O": 2},
    "H2O": {"H": 2, "O": 1},
    "Ar": {"Ar": 1},
    "CH4": {"C": 1, "H": 4},
    "C2H6": {"C": 2, "H": 6},
    "C3H8": {"C": 3, "H": 8},
    "H2": {"H": 2},
    "CO": {"C": 1, "O": 1},
}

# (a_low on 200-1000 K, a_high on 1000-6000 K); a1..a7 as in the module docstring.
_COEFFS = {
    "N2": ((3.53100528e+00, -1.23660988e-04, -5.02999433e-07, 2.43530612e-09, -1.40881235e-12,
            -1.04697628e+03, 2.96747038e+00),
           (2.95257637e+00, 1.39690040e-03, -4.92631603e-07, 7.86010195e-11, -4.60755204e-15,
            -9.23948688e+02, 5.87188762e+00)),
    "O2": ((3.78245636e+00, -2.99673415e-03, 9.84730200e-06, -9.68129508e-09, 3.24372836e-12,
            -1.06394356e+03, 3.65767573e+00),
           (3.66096083e+00, 6.56365523e-04, -1.41149485e-07, 2.05797658e-11, -1.29913248e-15,
            -1.21597725e+03, 3.41536184e+00)),
    "CO2": ((2.35677352e+00, 8.98459677e-03, -7.12356269e-06, 2.45919022e-09, -1.43699548e-13,
             -4.83719697e+04, 9.90105222e+00),
            (4.63659493e+00, 2.74131991e-03, -9.95828531e-07, 1.60373011e-10, -9.16103468e-15,
             -4.90249341e+04, -1.93534855e+00)),
    "H2O": ((4.19864056e+00, -2.03643410e-03, 6.52040211e-06, -5.48797062e-09, 1.77197817e-12,
             -3.02937267e+04, -8.49032208e-01),
            (2.67703787e+00, 2.97318329e-03, -7.73769690e-07, 9.44336689e-11, -4.26900959e-15,
             -2.98858938e+04, 6.88255571e+00)),
    "Ar": ((2.5, 0.0, 0.0, 0.0, 0.0, -7.45375000e+02, 4.37967491e+00),
           (2.5, 0.0, 0.0, 0.0, 0.0, -7.45375000e+02, 4.37967491e+00)),
    "CH4": ((5.14987613e+00, -1.36709788e-02, 4.91800599e-05, -4.84743026e-08, 1.66693956e-11,
             -1.02466476e+04, -4.64130376e+00),
            (1.63552643e+00, 1.00842795e-02, -3.36916254e-06, 5.34958667e-10, -3.15518833e-14,
             -1.00056455e+04, 9.99313326e+00)),
    "C2H6": ((4.29142492e+00, -5.50154270e-03, 5.99438288e-05, -7.08466285e-08, 2.68685771e-11,
              -1.15222055e+04, 2.66682316e+00),
             (4.04666674e+00, 1.53538766e-02, -5.47039321e-06, 8.77826228e-10, -5.23167305e-14,
              -1.24473512e+04, -9.68683607e-01)),
    "C3H8": ((4.21093013e+00, 1.70886504e-03, 7.06530164e-05, -9.20060565e-08, 3.64618453e-11,
              -1.43810883e+04, 5.61004451e+00),
             (6.66919760e+00, 2.06108751e-02, -7.36512349e-06, 1.18434262e-09, -7.06914630e-14,
              -1.62754066e+04, -1.31943379e+01)),
    "H2": ((2.34433112e+00, 7.98052075e-03, -1.94781510e-05, 2.01572094e-08, -7.37611761e-12,
            -9.17935173e+02, 6.83010238e-01),
           (2.93286579e+00, 8.26607967e-04, -1.46402335e-07, 1.54100359e-11, -6.88804432e-16,
            -8.13065597e+02, -1.02432887e+00)),
    "CO": ((3.57953347e+00, -6.10353680e-04, 1.01681433e-06, 9.07005884e-10, -9.04424499e-13,
            -1.43440860e+04, 3.50840928e+00),
           (3.04848583e+00, 1.35172818e-03, -4.85794075e-07, 7.88536486e-11, -4.69807489e-15,
            -1.42661171e+04, 6.01709790e+00)),
}

SPECIES = tuple(_COEFFS)  # every species with data


def _names(names) -> tuple[str, ...]:
    names = (names,) if isinstance(names, str) else tuple(names)
    for n in names:
        if n not in _COEFFS:
            raise KeyError(f"no NASA polynomial for species {n!r}; known: {SPECIES}")
    return names


def _tables(names):
    names = _names(names)  # -> (a_low, a_high), each of shape (n, 7)
    return tuple(np.array([_COEFFS[n][i] for n in names], dtype=np.float64) for i in (0, 1))


def molar_mass(species=GAS_SPECIES):
    """Molar masses from the standard atomic weights.

    Parameters
    ----------
    species : str or sequence of str
        Species name(s), default :data:`GAS_SPECIES`. [-]

    Returns
    -------
    numpy.ndarray
        Molar mass, shape ``(len(species),)`` (a scalar for a single name). [kg/mol]
    """
    m = [1e-3 * sum(c * ATOMIC_WEIGHTS[e] for e, c in ATOMS[n].items()) for n in _names(species)]
    return np.float64(m[0]) if isinstance(species, str) else np.array(m)


# --- raw polynomials: a has shape (n, 7), T shape (..., 1); results (..., n) ---------------
def _cp_R(a, T):
    return a[:, 0] + T * (a[:, 1] + T * (a[:, 2] + T * (a[:, 3] + T * a[:, 4])))


def _h_R(a, T):  # H/R [K], absolute
    return T * (a[:, 0] + T * (a[:, 1] / 2 + T * (a[:, 2] / 3 + T * (a[:, 3] / 4 + T * a[:, 4] / 5)))) + a[:, 5]


def _h_R_diff(a, T, T0):  # [H(T) - H(T0)]/R on one fit, factored so it is exactly 0 at T == T0
    s2 = T + T0
    s3 = T * s2 + T0**2
    s4 = T * s3 + T0**3
    s5 = T * s4 + T0**4
    return (T - T0) * (a[:, 0] + a[:, 1] / 2 * s2 + a[:, 2] / 3 * s3 + a[:, 3] / 4 * s4 + a[:, 4] / 5 * s5)


def _s_R(a, T):
    return (a[:, 0] * jnp.log(T) + T * (a[:, 1] + T * (a[:, 2] / 2 + T * (a[:, 3] / 3 + T * a[:, 4] / 4)))
            + a[:, 6])


_POLY = {"cp": _cp_R, "h": _h_R, "s": _s_R}


@functools.partial(jax.jit, static_argnums=(0, 2))
def _species(kind, T, names):
    """R * property of kind "cp" | "h" | "s" | "h_sens" for `names` (a tuple), shape (..., n)."""
    low, high = _tables(names)
    T = jnp.asarray(T, dtype=float)[..., None]
    if kind == "h_sens":
        h_ref = _h_R(low, np.float64(T_REF))  # numpy constant
        out = jnp.where(T < T_MID, _h_R_diff(low, T, T_REF), _h_R(high, T) - h_ref)
    else:
        f = _POLY[kind]
        out = jnp.where(T < T_MID, f(low, T), f(high, T))
    return R_UNIVERSAL * out


def cp_species(T, names=GAS_SPECIES):
    """Molar isobaric heat capacity of pure species.

    Parameters
    ----------
    T : array_like
        Temperature, any shape ``S``. [K]
    names : str or sequence of str
        Species names, default :data:`GAS_SPECIES`. [-]

    Returns
    -------
    jax.Array
        cp, shape ``S + (n,)``. [J/(mol K)]
    """
    return _species("cp", T, _names(names))


def h_species_absolute(T, names=GAS_SPECIES):
    """Absolute molar enthalpy (including the enthalpy of formation) of pure species.

    Parameters
    ----------
    T : array_like
        Temperature, any shape ``S``. [K]
    names : str or sequence of str
        Species names, default :data:`GAS_SPECIES`. [-]

    Returns
    -------
    jax.Array
        H, shape ``S + (n,)``; ``H(298.15 K)`` is the standard enthalpy of formation. [J/mol]
    """
    return _species("h", T, _names(names))


def h_species_sensible(T, names=GAS_SPECIES):
    """Sensible molar enthalpy ``H(T) - H(T_REF)`` of pure species, exactly 0 at T_REF.

    Parameters
    ----------
    T : array_like
        Temperature, any shape ``S``. [K]
    names : str or sequence of str
        Species names, default :data:`GAS_SPECIES`. [-]

    Returns
    -------
    jax.Array
        Sensible enthalpy, shape ``S + (n,)``. [J/mol]
    """
    return _species("h_sens", T, _names(names))


def s_species(T, names=GAS_SPECIES):
    """Standard molar entropy (p0 = 1 bar) of pure species.

    Parameters
    ----------
    T : array_like
        Temperature, any shape ``S``. [K]
    names : str or sequence of str
        Species names, default :data:`GAS_SPECIES`. [-]

    Returns
    -------
    jax.Array
        S0, shape ``S + (n,)``. [J/(mol K)]
    """
    return _species("s", T, _names(names))


def h_species_absolute_np(T, names=GAS_SPECIES) -> np.ndarray:
    """NumPy twin of :func:`h_species_absolute` (same arguments, [K] -> [J/mol]) for constants
    evaluated in float64 at import or trace time, e.g. heating values."""
    low, high = _tables(names)
    T = np.asarray(T, dtype=np.float64)[..., None]
    return R_UNIVERSAL * np.where(T < T_MID, _h_R(low, T), _h_R(high, T))


# --- mixtures over GAS_SPECIES ---------------------------------------------------------------
_MW = molar_mass(GAS_SPECIES)  # [kg/mol]


@jax.jit
def h_mix(T, Y):
    """Sensible specific enthalpy of a gas mixture relative to 298.15 K.

    Parameters
    ----------
    T : array_like
        Temperature, shape ``S``. [K]
    Y : array_like
        Mass fractions over :data:`GAS_SPECIES`, shape ``(5,)`` or ``S + (5,)``. [-]

    Returns
    -------
    jax.Array
        ``h = sum_i Y_i (H_i(T) - H_i(298.15)) / M_i``, shape ``S``; exactly 0 at 298.15 K. [J/kg]
    """
    return jnp.sum(jnp.asarray(Y) * h_species_sensible(T) / _MW, axis=-1)


@jax.jit
def cp_mix(T, Y):
    """Isobaric specific heat capacity of a gas mixture.

    Parameters
    ----------
    T : array_like
        Temperature, shape ``S``. [K]
    Y : array_like
        Mass fractions over :data:`GAS_SPECIES`, shape ``(5,)`` or ``S + (5,)``. [-]

    Returns
    -------
    jax.Array
        cp, shape ``S``. [J/(kg K)]
    """
    return jnp.sum(jnp.asarray(Y) * cp_species(T) / _MW, axis=-1)


@jax.jit
def molar_mass_mix(Y):
    """Mean molar mass of a gas mixture.

    Parameters
    ----------
    Y : array_like
        Mass fractions over :data:`GAS_SPECIES`, shape ``(..., 5)``. [-]

    Returns
    -------
    jax.Array
        ``M = 1 / sum_i (Y_i / M_i)``, shape ``(...)``. [kg/mol]
    """
    return 1.0 / jnp.sum(jnp.asarray(Y) / _MW, axis=-1)


@jax.jit
def s_mix(T, Y, p=101325.0):
    """Specific entropy of an ideal-gas mixture (ideal mixing, partial pressures).

    Parameters
    ----------
    T : array_like
        Temperature, shape ``S``. [K]
    Y : array_like
        Mass fractions over :data:`GAS_SPECIES`, shape ``(5,)`` or ``S + (5,)``. [-]
    p : array_like
        Total pressure. [Pa]

    Returns
    -------
    jax.Array
        ``s = sum_i Y_i/M_i (S0_i(T) - R ln(x_i p / p0))`` with p0 = 1 bar; species with
        ``Y_i = 0`` contribute nothing (``x ln x -> 0``, gradient safe). [J/(kg K)]
    """
    Y = jnp.asarray(Y)
    n = Y / _MW  # mol per kg of mixture
    pos = Y > 0
    ln_x = jnp.log(jnp.where(pos, n / jnp.sum(n, axis=-1, keepdims=True), 1.0))  # 0 where Y = 0
    p = jnp.asarray(p, dtype=float)[..., None]
    s_i = s_species(T) - R_UNIVERSAL * (ln_x + jnp.log(p / P_STD))
    return jnp.sum(jnp.where(pos, n * s_i, 0.0), axis=-1)


N_NEWTON = 5  # fixed Newton iterations (3 reach 1e-12 K on 200-5000 K for every pure species)


@jax.jit
def _newton_T(h, Y):
    T1 = T_REF + h / cp_mix(T_REF, Y)  # cp(T_REF) is too small at high T: use cp at midpoint
    T = jnp.clip(T_REF + h / cp_mix(jnp.clip(0.5 * (T_REF + T1), 200.0, 3500.0), Y), 150.0, 6000.0)

    def step(_, T):
        return jnp.clip(T - (h_mix(T, Y) - h) / cp_mix(T, Y), 100.0, 6500.0)

    return jax.lax.fori_loop(0, N_NEWTON, step, T)  # static trip count


@jax.jit
def T_from_h_mix(h, Y):
    """Temperature of a gas mixture from its sensible specific enthalpy (inverse of h_mix).

    Newton's method with a fixed number of iterations (:data:`N_NEWTON`) on
    ``stop_gradient``-ed inputs, followed by one Newton step that carries the gradients
    (implicit function theorem), so that ``dT/dh = 1/cp`` and
    ``dT/dY_i = -(H_i(T) - H_i(298.15)) / (M_i cp)`` are exact to first order. Second
    derivatives are not those of the exact inverse.

    Parameters
    ----------
    h : array_like
        Sensible specific enthalpy relative to 298.15 K, shape ``S``. [J/kg]
    Y : array_like
        Mass fractions over :data:`GAS_SPECIES`, shape ``(5,)`` or ``S + (5,)``. [-]

    Returns
    -------
    jax.Array
        Temperature, shape ``S``, converged to < 1e-9 K on 250-3000 K (within ~1e-7 K of
        1000 K, the fits' own mismatch, it may land on either fit). [K]
    """
    h = jnp.asarray(h, dtype=float)
    Y = jnp.asarray(Y, dtype=float)
    T_star = jax.lax.stop_gradient(_newton_T(jax.lax.stop_gradient(h), jax.lax.stop_gradient(Y)))
    return T_star - (h_mix(T_star, Y) - h) / cp_mix(T_star, Y)


# --- one polynomial per mixture (the hot path of quasi-steady gas zones) ---------------------
class MixturePolynomial(NamedTuple):
    """NASA coefficients of a mixture of fixed composition, per kg: ``c = sum_i Y_i/M_i a_i``.

    Because every species' fit is a polynomial in T over the same two ranges, the mixture's
    is one too. Evaluating it costs one Horner chain instead of one per species, which
    matters where a furnace zone solves its energy balance by Newton in every right-hand
    side call. ``h0`` is the low-range enthalpy at 298.15 K, so ``h`` is sensible.
    """

    low: jnp.ndarray  # (7,) [mol/kg]
    high: jnp.ndarray  # (7,) [mol/kg]
    h0: jnp.ndarray  # [K mol/kg]


def mixture_polynomial(Y) -> MixturePolynomial:
    """Combine the species fits of :data:`GAS_SPECIES` with mass fractions ``Y``. [-]"""
    low, high = _tables(GAS_SPECIES)
    w = jnp.asarray(Y, dtype=float) / _MW
    c_low, c_high = w @ low, w @ high
    return MixturePolynomial(c_low, c_high, _h_R(c_low[None, :], np.float64(T_REF))[0])


def h_cp_poly(T, c: MixturePolynomial):
    """Sensible specific enthalpy [J/kg] and cp [J/(kg K)] of a mixture polynomial at T [K]."""
    T = jnp.asarray(T, dtype=float)
    a = jnp.where(T < T_MID, c.low, c.high)
    h = T * (a[0] + T * (a[1] / 2 + T * (a[2] / 3 + T * (a[3] / 4 + T * a[4] / 5)))) + a[5]
    cp = a[0] + T * (a[1] + T * (a[2] + T * (a[3] + T * a[4])))
    return R_UNIVERSAL * (h - c.h0), R_UNIVERSAL * cp
