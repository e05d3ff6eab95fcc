"""Complete combustion of gaseous fuels in dry air.

Energy convention of twin
-------------------------
The chemical energy of a fuel enters every balance only as the fuel power
``P = m_fuel * LHV`` with the lower heating value at ``T_REF = 298.15 K`` (water as vapour);
all stream enthalpies are sensible enthalpies relative to 298.15 K
(:func:`twin.thermo.nasa.h_mix`, :func:`h_fuel_sensible`). For a furnace with complete
combustion this is *exact*::

    P + m_air h_mix(T_air, AIR_Y) + m_fuel h_fuel_sensible(T_fuel)
        = m_flue h_mix(T_flue, Y_flue) + Q,        m_flue = m_fuel + m_air,

because the LHV is computed here from the same NASA polynomials
(``LHV = -sum_j nu_j H_j(298.15) / M_fuel``, see :func:`lower_heating_value`) that give the
sensible enthalpies. It is not typed in.

Combustion is complete (C -> CO2, H -> H2O, N -> N2): no dissociation and no CO, so the
adiabatic flame temperature is that of the complete-combustion products. For methane in air
at lambda = 1 and 298.15 K this gives about 2327 K, roughly 100 K above the
chemical-equilibrium value of about 2226 K (Turns, ch. 2), where dissociation to CO,
OH, H, O and NO absorbs energy. Gas-fired industrial furnaces run with a modest excess air,
of order 10 % (Trinks et al.), at which dissociation matters less.

References
----------
.. [1] S. R. Turns, *An Introduction to Combustion*, 3rd ed., McGraw-Hill, 2012, ch. 2.
.. [2] W. Trinks, M. H. Mawhinney, R. A. Shannon, R. J. Reed, J. R. Garvey,
   *Industrial Furnaces*, 6th ed., Wiley, 2004 (excess-air practice).
.. [3] B. J. McBride, M. J. Zehe, S. Gordon, NASA/TP-2002-211556, 2002, and
   GRI-Mech 3.0 (thermodynamic data, see :mod:`twin.thermo.nasa`).
.. [4] A. Picard, R. S. Davis, M. Gläser, K. Fujii, "Revised formula for the density of
   moist air (CIPM-2007)", Metrologia 45 (2008) 149 (dry-air composition).
.. [5] EN 437:2021, *Test gases - Test pressures - Appliance categories* (G20 = methane,
   reference gas of the 2nd family, group H).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from twin.thermo import nasa
from twin.thermo.nasa import ATOMS, GAS_SPECIES, T_REF, T_from_h_mix, h_mix

# --- air -----------------------------------------------------------------------------------
#: Dry air, molar fractions N2 0.7808, O2 0.2095, Ar 0.0093, CO2 0.0004 (CIPM-2007 rounded,
#: Picard et al. 2008), renormalised; over GAS_SPECIES = (N2, O2, CO2, H2O, Ar).
AIR_X = np.array([0.7808, 0.2095, 0.0004, 0.0, 0.0093])
AIR_X = AIR_X / AIR_X.sum()
_MW = nasa.molar_mass(GAS_SPECIES)
M_AIR = float(AIR_X @ _MW)  # ~0.028965 [kg/mol]
#: Dry air, mass fractions over GAS_SPECIES.
AIR_Y = AIR_X * _MW / M_AIR
for _a in (AIR_X, AIR_Y):
    _a.setflags(write=False)
_I = {s: i for i, s in enumerate(GAS_SPECIES)}


# --- fuels ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Fuel:
    """Gaseous fuel of fixed composition (hashable, usable as a static field).

    Parameters
    ----------
    name : str
        Identifier used in scenario files. [-]
    composition : tuple of (str, float) or dict
        Molar fractions over species of :data:`twin.thermo.nasa.SPECIES`; renormalised to
        sum 1 and stored as a tuple of pairs. [mol/mol]
    source : str
        Citation of the composition. [-]
    """

    name: str
    composition: tuple[tuple[str, float], ...]
    source: str = ""

    def __post_init__(self):
        comp = self.composition
        items = tuple(comp.items()) if isinstance(comp, dict) else tuple(tuple(p) for p in comp)
        for sp, x in items:
            if sp not in ATOMS:
                raise KeyError(f"fuel {self.name!r}: unknown species {sp!r}; known: {nasa.SPECIES}")
            if not x >= 0.0:
                raise ValueError(f"fuel {self.name!r}: negative fraction for {sp!r}")
        total = sum(x for _, x in items)
        if total <= 0.0:
            raise ValueError(f"fuel {self.name!r}: empty composition")
        object.__setattr__(self, "composition", tuple((sp, float(x) / total) for sp, x in items))

    @property
    def species(self) -> tuple[str, ...]:
        """Names of the fuel components. [-]"""
        return tuple(sp for sp, _ in self.composition)

    @property
    def x(self) -> np.ndarray:
        """Molar fractions of the components, in the order of :attr:`species`. [mol/mol]"""
        return np.array([x for _, x in self.composition])

    @property
    def molar_mass(self) -> float:
        """Mean molar mass. [kg/mol]"""
        return float(self.x @ nasa.molar_mass(self.species))


FUELS: dict[str, Fuel] = {
    "methane": Fuel(
        "methane", (("CH4", 1.0),),
        "Pure methane; EN 437:2021 test gas G20, the reference gas of group H natural gas.",
    ),
    "natural_gas": Fuel(
        "natural_gas",
        (("CH4", 0.939), ("C2H6", 0.042), ("C3H8", 0.0039), ("N2", 0.010), ("CO2", 0.005)),
        "Typical H-gas: Union Gas (Enbridge), 'Chemical composition of natural gas', typical "
        "analysis in mol%: CH4 93.9, C2H6 4.2, C3H8 0.3, butanes+pentanes+C6+ 0.09 (lumped "
        "here into C3H8), N2 1.0, CO2 0.5 (O2 0.01 dropped); comparable to North-Sea H-gas "
        "(about 93 % CH4, 4.9 % higher hydrocarbons, 2.1 % inerts).",
    ),
    "hydrogen": Fuel("hydrogen", (("H2", 1.0),), "Pure hydrogen."),
}


class _FuelData(NamedTuple):
    M: float  # molar mass [kg/mol]
    atoms: dict  # element -> mol per mol fuel
    o2_stoich: float  # O2 for complete combustion [mol/mol fuel]
    lhv_molar: float  # [J/mol fuel]


@functools.lru_cache(maxsize=None)
def _fuel_data(fuel: Fuel) -> _FuelData:
    atoms = {e: 0.0 for e in ("C", "H", "O", "N", "Ar")}
    for sp, x in fuel.composition:
        for e, k in ATOMS[sp].items():
            atoms[e] += x * k
    o2 = atoms["C"] + atoms["H"] / 4.0 - atoms["O"] / 2.0
    h0_fuel = nasa.h_species_absolute_np(T_REF, fuel.species) @ fuel.x
    prod = np.array([atoms["N"] / 2.0, 0.0, atoms["C"], atoms["H"] / 2.0, atoms["Ar"]])
    h0 = nasa.h_species_absolute_np(T_REF, GAS_SPECIES)
    lhv = float(h0_fuel + o2 * h0[_I["O2"]] - prod @ h0)
    return _FuelData(fuel.molar_mass, atoms, o2, lhv)


def lower_heating_value(fuel: Fuel) -> float:
    """Lower heating value at 298.15 K (water as vapour), from NASA formation enthalpies.

    Parameters
    ----------
    fuel : Fuel
        The fuel. [-]

    Returns
    -------
    float
        ``LHV = (H_fuel + nu_O2 H_O2 - sum_products nu_j H_j) / M_fuel`` with absolute
        enthalpies at 298.15 K. [J/kg]
    """
    d = _fuel_data(fuel)
    return d.lhv_molar / d.M


#: Standard chemical exergy at 298.15 K and 1 atm [J/mol] (Szargut, Morris & Steward 1988,
#: reference environment of Morris & Szargut 1986, as tabulated in Bejan, Tsatsaronis & Moran,
#: *Thermal Design and Optimization*, 1996, Table C.2 "Model II"; water as vapour).
CHEMICAL_EXERGY = {
    "N2": 720.0, "O2": 3970.0, "CO2": 19870.0, "H2O": 9490.0, "Ar": 11690.0,
    "CH4": 831650.0, "C2H6": 1495840.0, "C3H8": 2154000.0, "H2": 236090.0, "CO": 275100.0,
}


def exergy_factor(fuel: Fuel) -> float:
    """Chemical exergy of the fuel over its lower heating value, ``phi = ex_ch / LHV``.

    ``ex_ch = sum_i x_i ex_i + R T_REF sum_i x_i ln x_i`` (ideal mixture of the standard
    chemical exergies :data:`CHEMICAL_EXERGY`; Bejan, Tsatsaronis & Moran 1996, eq. 3.20).
    About 1.04 for methane and natural gas, 0.98 for hydrogen (Szargut 1988).

    Parameters
    ----------
    fuel : Fuel
        The fuel. [-]

    Returns
    -------
    float
        ``phi``. [-]
    """
    x = fuel.x
    ex = sum(xi * CHEMICAL_EXERGY[sp] for sp, xi in fuel.composition)
    mixing = nasa.R_UNIVERSAL * T_REF * float(np.sum(np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)))
    return (ex + mixing) / _fuel_data(fuel).lhv_molar


def stoichiometric_air_fuel_ratio(fuel: Fuel) -> float:
    """Mass of dry air per mass of fuel for complete combustion at lambda = 1.

    Parameters
    ----------
    fuel : Fuel
        The fuel. [-]

    Returns
    -------
    float
        ``AFR_st = (nu_O2 / x_O2,air) M_air / M_fuel``. [kg/kg]
    """
    d = _fuel_data(fuel)
    return d.o2_stoich / AIR_X[_I["O2"]] * M_AIR / d.M


class FlueGas(NamedTuple):
    """Products of complete combustion per kg of fuel.

    Attributes
    ----------
    afr : Air-fuel ratio ``lambda * AFR_st``. [kg/kg]
    Y_flue : Mass fractions over GAS_SPECIES, shape (5,), summing to 1. [-]
    co2_per_kg_fuel : CO2 from the fuel's carbon (combustion and CO2 in the fuel; the air's
        CO2 passes through and is not counted). [kg/kg]
    water_per_kg_fuel : Water formed from the fuel's hydrogen. [kg/kg]
    """

    afr: jnp.ndarray
    Y_flue: jnp.ndarray
    co2_per_kg_fuel: jnp.ndarray  # 0-d (constant for a fuel)
    water_per_kg_fuel: jnp.ndarray  # 0-d (constant for a fuel)


@functools.partial(jax.jit, static_argnames="fuel")
def flue_gas(fuel: Fuel, excess_air) -> FlueGas:
    """Air demand and flue-gas composition of complete combustion.

    Parameters
    ----------
    fuel : Fuel
        The fuel (static). [-]
    excess_air : array_like
        Excess air ``lambda - 1`` (may be traced; valid for >= 0: below, the O2 fraction of
        the flue gas turns negative). [-]

    Returns
    -------
    FlueGas
        Air-fuel ratio, flue-gas mass fractions and specific CO2 and water yields; the flue-gas
        mass per kg of fuel is ``1 + afr``. [-]
    """
    d = _fuel_data(fuel)
    lam = 1.0 + jnp.asarray(excess_air, dtype=float)
    n_air = lam * (d.o2_stoich / AIR_X[_I["O2"]])  # mol air / mol fuel
    a = d.atoms
    fuel_part = np.array([a["N"] / 2.0, -d.o2_stoich, a["C"], a["H"] / 2.0, a["Ar"]])
    n = n_air[..., None] * AIR_X + fuel_part  # mol / mol fuel over GAS_SPECIES
    m = n * _MW
    Y = m / jnp.sum(m, axis=-1, keepdims=True)
    afr = n_air * M_AIR / d.M
    co2 = a["C"] * _MW[_I["CO2"]] / d.M
    water = a["H"] / 2.0 * _MW[_I["H2O"]] / d.M
    return FlueGas(afr, Y, float(co2), float(water))


@functools.partial(jax.jit, static_argnames="fuel")
def h_fuel_sensible(fuel: Fuel, T):
    """Sensible specific enthalpy of the fuel gas relative to 298.15 K.

    Parameters
    ----------
    fuel : Fuel
        The fuel (static). [-]
    T : array_like
        Fuel temperature, any shape. [K]

    Returns
    -------
    jax.Array
        ``sum_i x_i (H_i(T) - H_i(298.15)) / M_fuel``, exactly 0 at 298.15 K. [J/kg]
    """
    return nasa.h_species_sensible(T, fuel.species) @ fuel.x / fuel.molar_mass


@functools.partial(jax.jit, static_argnames="fuel")
def adiabatic_flame_temperature(fuel: Fuel, excess_air, T_air, T_fuel=T_REF):
    """Adiabatic temperature of the complete-combustion products (no dissociation).

    Parameters
    ----------
    fuel : Fuel
        The fuel (static). [-]
    excess_air : array_like
        Excess air ``lambda - 1``. [-]
    T_air : array_like
        Combustion-air temperature. [K]
    T_fuel : array_like
        Fuel temperature. [K]

    Returns
    -------
    jax.Array
        Flame temperature from ``(1 + afr) h_mix(T_ad, Y_flue) = LHV + afr h_air + h_fuel``
        (per kg fuel), solved with :func:`twin.thermo.nasa.T_from_h_mix`; differentiable in
        ``excess_air``, ``T_air`` and ``T_fuel``. For methane at lambda = 1 and 298.15 K it
        is about 2327 K (equilibrium with dissociation: about 2226 K). [K]
    """
    fg = flue_gas(fuel, excess_air)
    h_in = lower_heating_value(fuel) + fg.afr * h_mix(T_air, AIR_Y) + h_fuel_sensible(fuel, T_fuel)
    return T_from_h_mix(h_in / (1.0 + fg.afr), fg.Y_flue)
