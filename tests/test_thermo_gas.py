"""Ideal-gas NASA polynomials and complete combustion (twin.thermo.nasa / .combustion)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from twin.thermo import combustion as comb
from twin.thermo import nasa

R = nasa.R_UNIVERSAL
Y_FLUE = jnp.array([0.72, 0.05, 0.15, 0.07, 0.01])

# NIST-JANAF Thermochemical Tables, 4th ed. (Chase 1998): cp [J/(mol K)].
JANAF_CP = {
    ("N2", 300.0): 29.125, ("N2", 1000.0): 32.697, ("N2", 1500.0): 34.852,
    ("CO2", 300.0): 37.221, ("CO2", 1000.0): 54.308, ("CO2", 1500.0): 58.379,
    ("H2O", 300.0): 33.596, ("H2O", 1000.0): 41.268,
    ("O2", 300.0): 29.385, ("O2", 1000.0): 34.870,
    ("H2", 300.0): 28.849, ("H2", 1000.0): 30.205,
    ("Ar", 300.0): 20.786, ("Ar", 3000.0): 20.786,
}


@pytest.mark.parametrize("key", list(JANAF_CP))
def test_cp_vs_janaf(key):
    sp, T = key
    cp = float(nasa.cp_species(T, sp)[0])
    assert cp == pytest.approx(JANAF_CP[key], rel=5e-3)


def test_cp_h2o_1500_fit_error():
    # The 7-term 1000-6000 K fit is 0.55 % above JANAF (47.073) at 1500 K: stated, bounded.
    assert float(nasa.cp_species(1500.0, "H2O")[0]) == pytest.approx(47.073, rel=1e-2)


@pytest.mark.parametrize(
    "sp, hf",
    [("CO2", -393.51), ("H2O", -241.83), ("CO", -110.53), ("C2H6", -83.85), ("C3H8", -104.68),
     # CH4: -74.60 kJ/mol (Gurvich 1991, adopted by McBride et al. and Burcat); JANAF has -74.87.
     ("CH4", -74.60), ("N2", 0.0), ("O2", 0.0), ("H2", 0.0), ("Ar", 0.0)],
)
def test_formation_enthalpy(sp, hf):
    assert float(nasa.h_species_absolute(298.15, sp)[0]) / 1e3 == pytest.approx(hf, abs=0.1)


@pytest.mark.parametrize(
    "sp, s0", [("N2", 191.609), ("O2", 205.147), ("CO2", 213.795), ("H2O", 188.834), ("Ar", 154.845)]
)
def test_standard_entropy_vs_janaf(sp, s0):
    assert float(nasa.s_species(298.15, sp)[0]) == pytest.approx(s0, abs=0.05)


def test_continuity_at_1000K():
    """Both fits at 1000 K: the table's own mismatch is < 1e-8 (cp) and < 1e-3 J/mol (H)."""
    low, high = nasa._tables(nasa.SPECIES)
    T = np.array([nasa.T_MID])[:, None]
    dcp = np.abs(nasa._cp_R(high, T) - nasa._cp_R(low, T)) / nasa._cp_R(low, T)
    dh = R * np.abs(nasa._h_R(high, T) - nasa._h_R(low, T))
    ds = R * np.abs(nasa._s_R(high, T) - nasa._s_R(low, T))
    print("max rel cp mismatch", dcp.max(), "max H mismatch [J/mol]", dh.max(), "S", ds.max())
    assert dcp.max() < 1e-8 and dh.max() < 2e-3 and ds.max() < 1e-6
    # the jnp.where switch reproduces exactly that: mixture h and cp across 1000 K
    eps = 1e-9
    for f, bound in ((nasa.h_mix, 2e-3 / 0.018), (nasa.cp_mix, 1e-8 * 3000.0)):
        jump = abs(float(f(nasa.T_MID + eps, Y_FLUE) - f(nasa.T_MID - eps, Y_FLUE)))
        assert jump < bound


def test_h_mix_reference_and_derivative():
    T = jnp.linspace(200.0, 3000.0, 57)
    assert float(nasa.h_mix(298.15, Y_FLUE)) == 0.0
    assert np.all(np.asarray(nasa.h_mix(298.15, jnp.eye(5))) == 0.0)
    dh = jax.vmap(jax.grad(nasa.h_mix), in_axes=(0, None))(T, Y_FLUE)
    np.testing.assert_allclose(dh, nasa.cp_mix(T, Y_FLUE), rtol=1e-12)
    # sensible = absolute - absolute(298.15)
    sens = nasa.h_species_sensible(T)
    ref = nasa.h_species_absolute(T) - nasa.h_species_absolute(298.15)
    np.testing.assert_allclose(sens, ref, rtol=0, atol=1e-9)
    # air at 1000 K vs ideal-gas air tables (Cengel, Table A-17: h(1000) - h(298) = 1046.04 -
    # 298.18 kJ/kg); pure N2 equals its species enthalpy over M
    assert float(nasa.h_mix(1000.0, comb.AIR_Y)) == pytest.approx(747.86e3, rel=3e-3)
    h_n2 = float(nasa.h_species_sensible(1000.0, "N2")[0]) / 0.0280134
    assert float(nasa.h_mix(1000.0, jnp.array([1.0, 0, 0, 0, 0]))) == pytest.approx(h_n2, rel=1e-14)


@pytest.mark.parametrize("Y", [Y_FLUE, jnp.array(comb.AIR_Y), jnp.array([0, 0, 0, 1.0, 0]),
                               jnp.array([0, 0, 1.0, 0, 0])])
def test_T_from_h_roundtrip(Y):
    T = jnp.linspace(250.0, 3000.0, 20001)
    T_back = jax.jit(nasa.T_from_h_mix)(nasa.h_mix(T, Y), Y)
    assert float(jnp.max(jnp.abs(T_back - T))) < 1e-9


def test_T_from_h_gradients():
    T0 = 1234.5
    h0 = nasa.h_mix(T0, Y_FLUE)
    dTdh, dTdY = jax.jit(jax.grad(nasa.T_from_h_mix, argnums=(0, 1)))(h0, Y_FLUE)
    cp0 = float(nasa.cp_mix(T0, Y_FLUE))
    assert float(dTdh) == pytest.approx(1.0 / cp0, rel=1e-12)
    expect = -nasa.h_species_sensible(T0) / nasa._MW / cp0
    np.testing.assert_allclose(dTdY, expect, rtol=1e-10)
    # central finite differences of the solver itself (one vectorised call)
    eps = 1e-6
    dY = eps * jnp.concatenate([jnp.eye(5), -jnp.eye(5)])
    T_pm = nasa.T_from_h_mix(jnp.full(10, h0), Y_FLUE + dY)
    fd = (T_pm[:5] - T_pm[5:]) / (2 * eps)
    np.testing.assert_allclose(fd, dTdY, rtol=1e-5, atol=1e-3)
    # vectorised + jit + grad together
    Ts = jnp.array([300.0, 900.0, 1800.0])
    g = jax.jit(jax.vmap(jax.grad(nasa.T_from_h_mix), in_axes=(0, None)))(nasa.h_mix(Ts, Y_FLUE), Y_FLUE)
    np.testing.assert_allclose(g, 1.0 / nasa.cp_mix(Ts, Y_FLUE), rtol=1e-10)


def test_s_mix():
    Y = jnp.array(comb.AIR_Y)  # contains Y_H2O = 0
    M = float(nasa.molar_mass_mix(Y))
    # Gibbs: ds/dT = cp/T, ds/dp = -R/(M p); gradients finite with a zero mass fraction
    T, p = 800.0, 2.0e5
    dsdT, dsdY, dsdp = jax.grad(nasa.s_mix, argnums=(0, 1, 2))(T, Y, p)
    assert float(dsdT) == pytest.approx(float(nasa.cp_mix(T, Y)) / T, rel=1e-12)
    assert float(dsdp) == pytest.approx(-R / (M * p), rel=1e-12)
    assert np.all(np.isfinite(dsdY))
    # pure N2 at 298.15 K and 1 bar equals the tabulated S0 / M
    Yn = jnp.array([1.0, 0, 0, 0, 0])
    assert float(nasa.s_mix(298.15, Yn, 1e5)) == pytest.approx(191.609 / 0.0280134, rel=1e-5)
    # entropy of mixing: s_mix - sum Y_i s_i(T, p) = -R sum (Y_i/M_i) ln x_i > 0
    pure = nasa.s_mix(jnp.full(5, T), jnp.eye(5), p)
    assert float(nasa.s_mix(T, Y, p) - jnp.dot(Y, pure)) > 0.0


# --- combustion ------------------------------------------------------------------------------
def test_fuel_is_static():
    f = comb.FUELS["natural_gas"]
    assert hash(f) == hash(comb.Fuel(f.name, dict(f.composition), f.source))
    assert sum(f.x) == pytest.approx(1.0, abs=1e-15)
    jitted = jax.jit(comb.adiabatic_flame_temperature, static_argnums=0)
    assert float(jitted(f, 0.1, 300.0)) == pytest.approx(
        float(comb.adiabatic_flame_temperature(f, 0.1, 300.0)), rel=1e-14)


def test_heating_values_and_afr():
    ch4, h2 = comb.FUELS["methane"], comb.FUELS["hydrogen"]
    assert comb.lower_heating_value(ch4) == pytest.approx(50.0e6, rel=5e-3)
    assert comb.lower_heating_value(h2) == pytest.approx(120.0e6, rel=5e-3)
    assert comb.stoichiometric_air_fuel_ratio(ch4) == pytest.approx(17.2, rel=5e-3)
    assert comb.stoichiometric_air_fuel_ratio(h2) == pytest.approx(34.3, rel=5e-3)
    ng = comb.FUELS["natural_gas"]
    assert 46e6 < comb.lower_heating_value(ng) < 50e6
    assert comb.AIR_Y.sum() == pytest.approx(1.0, abs=1e-15)
    assert comb.M_AIR == pytest.approx(0.028965, rel=1e-4)


@pytest.mark.parametrize("name", list(comb.FUELS))
def test_flue_gas_mass_and_elements(name):
    f = comb.FUELS[name]
    fg = comb.flue_gas(f, 0.2)
    assert float(jnp.sum(fg.Y_flue)) == pytest.approx(1.0, abs=1e-15)
    m_flue = 1.0 + fg.afr
    # carbon: fuel CO2 yield + air CO2 = flue CO2 (per kg fuel)
    co2_flue = float(m_flue * fg.Y_flue[2])
    assert co2_flue == pytest.approx(float(fg.co2_per_kg_fuel + fg.afr * comb.AIR_Y[2]), rel=1e-12)
    assert float(m_flue * fg.Y_flue[3]) == pytest.approx(float(fg.water_per_kg_fuel), rel=1e-12)
    # argon passes through; excess O2 = 0.2 * stoichiometric O2
    assert float(m_flue * fg.Y_flue[4]) == pytest.approx(float(fg.afr) * comb.AIR_Y[4], rel=1e-12)
    o2_st = comb.stoichiometric_air_fuel_ratio(f) * comb.AIR_Y[1]
    assert float(m_flue * fg.Y_flue[1]) == pytest.approx(float(0.2 * o2_st), rel=1e-10)
    # mass: sum of species masses (atomic-weight molar masses) = fuel + air
    mw = nasa.molar_mass(f.species)
    d = comb._fuel_data(f)
    n = (1.0 + 0.2) * d.o2_stoich / comb.AIR_X[1] * comb.AIR_X
    n = n + np.array([d.atoms["N"] / 2, -d.o2_stoich, d.atoms["C"], d.atoms["H"] / 2, d.atoms["Ar"]])
    assert float(n @ nasa._MW) == pytest.approx(float(f.x @ mw + fg.afr * f.molar_mass), rel=1e-14)


def test_flue_gas_differentiable_in_excess_air():
    f = comb.FUELS["natural_gas"]

    def both(e, T_air):
        return comb.flue_gas(f, e).Y_flue, comb.adiabatic_flame_temperature(f, e, T_air)

    (dY, _), (dT_de, dT_dTair) = jax.jacfwd(both, argnums=(0, 1))(0.15, 500.0)
    assert float(dY[1]) > 0 and float(dY[2]) < 0 and abs(float(jnp.sum(dY))) < 1e-14
    eps = 1e-5
    T_pm = comb.adiabatic_flame_temperature(f, jnp.array([0.15 + eps, 0.15 - eps]), 500.0)
    fd = (T_pm[0] - T_pm[1]) / (2 * eps)
    assert float(dT_de) == pytest.approx(float(fd), rel=1e-6) and float(dT_de) < 0
    assert 0.5 < float(dT_dTair) < 1.0


def _T_ad_absolute(fuel, excess_air, T_air, T_fuel):
    """Independent T_ad: sum of absolute enthalpies of reactants at inlet T = products at T_ad."""
    d = comb._fuel_data(fuel)
    n_air = (1.0 + excess_air) * d.o2_stoich / comb.AIR_X[1] * comb.AIR_X
    H_in = (nasa.h_species_absolute_np(T_fuel, fuel.species) @ fuel.x
            + nasa.h_species_absolute_np(T_air) @ n_air)
    n_out = n_air + np.array([d.atoms["N"] / 2, -d.o2_stoich, d.atoms["C"], d.atoms["H"] / 2,
                              d.atoms["Ar"]])
    return brentq(lambda T: nasa.h_species_absolute_np(T) @ n_out - H_in, 300.0, 5000.0,
                  xtol=1e-12, rtol=1e-15)


@pytest.mark.parametrize(
    "name, ea, T_air, T_fuel",
    [("methane", 0.0, 298.15, 298.15), ("natural_gas", 0.15, 600.0, 320.0),
     ("hydrogen", 0.3, 298.15, 298.15), ("natural_gas", 1.0, 1100.0, 298.15)],
)
def test_energy_balance_exact(name, ea, T_air, T_fuel):
    """P + m_air h_air + m_fuel h_fuel = m_flue h_flue(T_ad) with T_ad from absolute enthalpies."""
    f = comb.FUELS[name]
    T_ad = _T_ad_absolute(f, ea, T_air, T_fuel)
    fg = comb.flue_gas(f, ea)
    m_fuel = 1.0
    m_air = m_fuel * float(fg.afr)
    P = m_fuel * comb.lower_heating_value(f)
    lhs = P + m_air * float(nasa.h_mix(T_air, comb.AIR_Y)) + m_fuel * float(
        comb.h_fuel_sensible(f, T_fuel))
    rhs = (m_fuel + m_air) * float(nasa.h_mix(T_ad, fg.Y_flue))
    assert abs(lhs - rhs) / P < 1e-12
    assert float(comb.adiabatic_flame_temperature(f, ea, T_air, T_fuel)) == pytest.approx(T_ad,
                                                                                          abs=1e-8)


def test_adiabatic_flame_temperature_methane():
    # Complete combustion, no dissociation: ~2327 K (the equilibrium value is ~2226 K, Turns).
    T_ad = float(comb.adiabatic_flame_temperature(comb.FUELS["methane"], 0.0, 298.15))
    assert 2300.0 < T_ad < 2350.0
    T_h2 = float(comb.adiabatic_flame_temperature(comb.FUELS["hydrogen"], 0.0, 298.15))
    assert 2480.0 < T_h2 < 2560.0
    assert float(comb.h_fuel_sensible(comb.FUELS["natural_gas"], 298.15)) == 0.0
