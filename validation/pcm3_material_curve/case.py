"""PCM-3: the RT44HC and RT35HC material cards against the slPCMlib/AIT DSC curves.

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

import numpy as np

from twin.thermo.pcm import load_material
from twin.validation import Case, funnel, reference_file

#: card -> slPCMlib medium whose 0.1 K/min DSC heating run is the "material truth"
CURVES = {
    "RT44HC": "Media_other_Rubitherm_RT44HC_DSC_0_1_Kmin",
    "RT35HC": "Media_other_Rubitherm_RT35HC_DSC_01_Kmin",
}


def reference_curve(medium: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """T [degC], xi [-] and h relative to the first row [J/kg] of the derived melting CSV."""
    data = np.loadtxt(reference_file(f"slPCMlib-AIT/derived_csv/{medium}_melting.csv"), delimiter=",",
                      comments="#")
    return data[:, 0], data[:, 1], data[:, 3]


def run():
    out = []
    for card, medium in CURVES.items():
        T_c, xi_ref, h_ref = reference_curve(medium)
        m = load_material(card)
        L = float(m.latent_heat)
        h = np.asarray(m.h(T_c + 273.15))
        xi = np.asarray(m.liquid_fraction(h))
        # x axis: temperature in degC (the report labels it as time)
        out.append(funnel(f"{card} h(T)/L vs T in degC", T_c, h_ref / L, T_c, (h - h[0]) / L, atol=0.01,
                          unit="L", why="VALIDATION_CASES.md PCM-3: 1 % of the latent heat at every tabulated "
                                        "T (h relative to the first row, as the CSV); the card is built to 0.2 %"))
        out.append(funnel(f"{card} xi(T) vs T in degC", T_c, xi_ref, T_c, xi, atol=0.01, unit="-",
                          why="VALIDATION_CASES.md PCM-3: liquid mass fraction within 0.01 at every tabulated T; "
                              "the card is built to 0.002"))
    return out


CASE = Case(
    id="PCM-3", title="PCM material curves RT44HC / RT35HC vs AIT DSC (0.1 K/min)",
    source="slPCMlib (Barz, Bres, Emhofer 2022, doi:10.3384/ecp19363), AIT DSC heating runs at 0.1 K/min: "
           "slPCMlib-AIT/derived_csv/Media_other_Rubitherm_RT{44HC_DSC_0_1,35HC_DSC_01}_Kmin_melting.csv",
    run=run, fast=True, components=("pcm_bank",),
)
