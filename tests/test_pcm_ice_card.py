"""The ``ice`` material card (twin/data/materials/ice.yaml, written by make_cards.py).

The generic card checks of ``test_pcm_material`` (T(h) round trip and monotonicity,
effective heat capacity and latent span, liquid fraction and table size, NaN propagation,
the exact enthalpy table) run on it unchanged, except that ice melts below 298.15 K: h = 0 is
the solid there, so the liquid at 298.15 K has h = L. Then what is particular to water:
melting centred on 0 degC as the smoothstep over 0.2 K, and the numbers of make_cards.ICE.
"""

import importlib.util

import jax
import numpy as np
import pytest
import test_pcm_material as base

from twin.thermo.fluids import T_REF
from twin.thermo.pcm import MATERIALS_DIR, load_material


@pytest.fixture(scope="module")
def card():
    return base.evaluate("ice")


@pytest.mark.parametrize("check", ["test_effective_heat_capacity", "test_liquid_fraction", "test_nan_propagates"])
def test_generic_card_checks(card, check):
    getattr(base, check)(card)


def test_round_trip_monotone_and_c1(card):
    """As the generic check; the slopes either side of the nodes are taken 1e-9 J/kg away
    instead of 1e-6: the table segments next to the solidus span only ~0.1 J/kg (the fine
    end knots), where T(h) bends from slope 1/cp_s to nearly flat."""
    m, *_, p = card
    assert np.max(np.abs(p["T_round_trip"] - p["T"])) <= 1e-9
    assert np.all(np.diff(p["T_of_h"]) > 0)
    assert np.all(np.isfinite(p["dTdh"]) & (p["dTdh"] > 0))
    grad = jax.jit(jax.vmap(jax.grad(m.T)))
    nodes = m.h_grid
    left, at, right = (np.asarray(grad(nodes + d)) for d in (-1e-9, 0.0, 1e-9))
    assert np.all(np.isfinite(at) & (at > 0))
    np.testing.assert_allclose(left, right, rtol=1e-6)
    np.testing.assert_allclose(at, right, rtol=1e-6)


def test_table_equals_exact_integral(card):
    """As the generic check, with h(298.15 K) = L (the liquid; the solid's h is 0 there)."""
    m, xi, Tk, _, p = card
    L = float(m.latent_heat)
    nodes = np.asarray(m.T_grid)
    np.testing.assert_allclose(np.asarray(m.h_grid), base.exact_h(m, xi, Tk, nodes), rtol=0, atol=1e-9 * L)
    np.testing.assert_allclose(np.asarray(m.xi_grid), xi(nodes), atol=1e-12)
    assert np.max(np.abs(p["h_T"] - base.exact_h(m, xi, Tk, p["T"]))) < 1e-4 * L
    assert float(p["h_ref"]) == pytest.approx(L, abs=1e-9 * L)
    # the liquid branch: h = L + cp_l (T - 298.15 K)
    assert float(m.h(273.25)) == pytest.approx(L - float(m.cp_liquid) * (T_REF - 273.25), rel=1e-12)


def test_card_is_make_cards_ice():
    spec = importlib.util.spec_from_file_location("make_cards", MATERIALS_DIR / "make_cards.py")
    mc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mc)
    m = load_material("ice")
    for k in ("latent_heat", "cp_solid", "cp_liquid", "rho_solid", "rho_liquid", "k_solid", "k_liquid"):
        assert float(getattr(m, k)) == mc.ICE[k], k
    assert float(m.T_solidus) == pytest.approx(mc.ICE["T_melt"] - 0.1, abs=1e-9)
    assert float(m.T_liquidus) == pytest.approx(mc.ICE["T_melt"] + 0.1, abs=1e-9)


def test_melts_at_zero_celsius_as_a_smoothstep():
    """xi(T) = 3 s^2 - 2 s^3, s = (T - 273.05 K) / 0.2 K, within 1e-3 (PCHIP through the
    knots; measured 6e-4); half melted at 0 degC; the latent heat sits in those 0.2 K."""
    m = load_material("ice")
    T = np.linspace(273.0, 273.3, 601)
    s = np.clip((T - 273.05) / 0.2, 0.0, 1.0)
    xi = np.asarray(m.liquid_fraction(m.h(T)))
    np.testing.assert_allclose(xi, 3 * s**2 - 2 * s**3, atol=1e-3)
    assert float(m.liquid_fraction(m.h(273.15))) == pytest.approx(0.5, abs=1e-6)
    span = float(m.h(273.25) - m.h(273.05))
    assert span == pytest.approx(333.55e3 + 0.1 * (2096.8 + 4219.9), rel=1e-9)
