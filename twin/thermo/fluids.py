"""Fluids carried by streams: incompressible liquids and ideal-gas mixtures.

A fluid is a static (hashable) description attached to ports; its property functions are
pure ``jax.numpy`` and take the stream composition ``Y`` (ignored by liquids). Every
specific enthalpy is relative to ``T_REF = 298.15 K`` so that stored energies, stream
enthalpies and the fuel's lower heating value share one reference.

Liquids use ``cp(T) = a + b (T - T_REF)``, so that

    h(T) = a (T - T_REF) + b/2 (T - T_REF)^2,
    T(h) = T_REF + 2 h / (a + sqrt(a^2 + 2 b h)),

both in closed form (the second is the root of the quadratic written so that it stays exact
and smooth for b -> 0).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

T_REF = 298.15  # reference temperature of every specific enthalpy in twin [K]


@dataclasses.dataclass(frozen=True)
class Liquid:
    """Incompressible liquid with linear specific heat.

    Parameters
    ----------
    name : Identifier used in scenario files.
    cp_a : Specific heat at T_REF. [J/(kg K)]
    cp_b : Slope of the specific heat. [J/(kg K^2)]
    rho : Density (constant; used for volumes). [kg/m^3]
    T_min, T_max : Range of validity of the correlation. [K]
    source : Citation of the property data.
    """

    name: str
    cp_a: float
    cp_b: float
    rho: float
    T_min: float
    T_max: float
    source: str
    is_gas = False

    def cp(self, T, Y=None):
        """Specific heat capacity. [J/(kg K)]"""
        return self.cp_a + self.cp_b * (T - T_REF)

    def h(self, T, Y=None):
        """Specific enthalpy relative to 298.15 K. [J/kg]"""
        d = T - T_REF
        return d * (self.cp_a + 0.5 * self.cp_b * d)

    def T(self, h, Y=None):
        """Temperature from specific enthalpy (exact inverse of :meth:`h`). [K]"""
        a = self.cp_a
        disc = jnp.maximum(a * a + 2.0 * self.cp_b * h, 1e-12 * a * a)
        return T_REF + 2.0 * h / (a + jnp.sqrt(disc))

    def s(self, T, Y=None):
        """Specific entropy relative to 298.15 K. [J/(kg K)]"""
        a0 = self.cp_a - self.cp_b * T_REF
        return a0 * jnp.log(T / T_REF) + self.cp_b * (T - T_REF)


@dataclasses.dataclass(frozen=True)
class IdealGasMixture:
    """Ideal-gas mixture over :data:`twin.thermo.nasa.GAS_SPECIES` (air, flue gas).

    Properties come from NASA 7-coefficient polynomials (McBride, Zehe & Gordon 2002);
    the composition travels with the stream as mass fractions ``Y``.
    """

    name: str
    source: str = "NASA 7-coefficient polynomials, see twin.thermo.nasa"
    is_gas = True

    def cp(self, T, Y):
        from twin.thermo import nasa

        return nasa.cp_mix(T, Y)

    def h(self, T, Y):
        from twin.thermo import nasa

        return nasa.h_mix(T, Y)

    def T(self, h, Y):
        from twin.thermo import nasa

        return nasa.T_from_h_mix(h, Y)

    def s(self, T, Y):
        from twin.thermo import nasa

        return nasa.s_mix(T, Y)


FLUE_GAS = IdealGasMixture("flue_gas")
AIR = IdealGasMixture("air")

# Therminol 66 (Eastman, technical bulletin TF-8695 "Therminol 66 heat transfer fluid"):
# cp = 1.496 kJ/(kg K) at 0 degC rising 3.313 J/(kg K^2); usable 0-345 degC. Density taken
# at 250 degC (about 860 kg/m^3) because the loop's hold-ups are sized at operating temperature.
THERMINOL_66 = Liquid(
    name="therminol66",
    cp_a=1496.0 + 3.313 * 25.0,
    cp_b=3.313,
    rho=860.0,
    T_min=273.15,
    T_max=618.15,
    source="Eastman Therminol 66 technical bulletin TF-8695 (cp linear fit, density at 250 degC)",
)

# Water as Modelica Buildings' Buildings.Media.Water: constant cp = 4184 J/(kg K), rho = 995.586 kg/m^3.
WATER = Liquid(
    name="water",
    cp_a=4184.0,
    cp_b=0.0,
    rho=995.586,
    T_min=273.15,
    T_max=403.15,
    source="Modelica Buildings, Buildings.Media.Water (constant cp 4184 J/(kg K))",
)

# Moist air as Modelica Buildings' Buildings.Media.Air at its default water mass fraction
# X = 0.01, the air side of Buildings' heat-exchanger validation models: constant
# cp = 1006 (1 - X) + 1860 X = 1014.54 J/(kg K), h linear in T. Constant properties, so it
# takes the closed-form Liquid model (no composition vector); rho is the ideal-gas density at
# 20 degC, 101325 Pa (volumes only). Not in LIQUIDS: scenario files use the NASA "air".
BUILDINGS_AIR = Liquid(
    name="buildings_air",
    cp_a=1006.0 * 0.99 + 1860.0 * 0.01,
    cp_b=0.0,
    rho=1.2,
    T_min=200.0,
    T_max=400.0,
    source="Modelica Buildings, Buildings.Media.Air (cp of dry air 1006, of steam 1860 J/(kg K); X = 0.01)",
)

# 30 % (mass) propylene glycol in water, the usual secondary coolant of ice storage, with
# constant properties at 0 degC as Modelica Buildings' Buildings.Media.Antifreeze.
# PropyleneGlycolWater(property_T = 273.15 K, X_a = 0.30): Melinder's polynomials [Melinder
# 2010] give cp = 3802.6 J/(kg K) and rho = 1031.6 kg/m^3 there; constant, as in the reference
# model. T_min (-12.75 degC) is about the solution's freezing point, T_max its boiling point at
# atmospheric pressure, rounded down.
# [Melinder 2010] A. Melinder, "Properties of secondary working fluids for indirect systems",
# 2nd ed., International Institute of Refrigeration, Paris 2010.
PROPYLENE_GLYCOL_30 = Liquid(
    name="propylene_glycol_30",
    cp_a=3802.6,
    cp_b=0.0,
    rho=1031.6,
    T_min=260.4,
    T_max=373.15,
    source="Melinder (2010), Properties of secondary working fluids for indirect systems, IIR; "
           "polynomials as in Buildings.Media.Antifreeze.PropyleneGlycolWater, at 0 degC, 30 % mass fraction",
)

LIQUIDS: dict[str, Liquid] = {f.name: f for f in (THERMINOL_66, WATER, PROPYLENE_GLYCOL_30)}


def liquid(name: str) -> Liquid:
    """Look a liquid up by name; ``ValueError`` listing the known ones otherwise."""
    try:
        return LIQUIDS[name]
    except KeyError:
        raise ValueError(f"unknown liquid {name!r}; known: {', '.join(sorted(LIQUIDS))}") from None
