"""PCM-4: melt front of a semi-infinite RT44HC slab against Neumann's solution (analytic).

See README.md beside this file for the set-up, the reference and the tolerances.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from scipy.optimize import brentq
from scipy.special import erf

from twin.components.boundaries import Source, Stack
from twin.components.pcm_bank import PCMBank
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.thermo.fluids import WATER
from twin.thermo.pcm import PCMMaterial, load_material
from twin.validation import Case, funnel

HOUR = 3600.0
T_M = 273.15 + 42.1  # RT44HC half-melted at 0.1 K/min (slPCMlib-AIT PROVENANCE) [K]
HALF_RANGE, SUPERHEAT = 0.25, 20.0  # melting range T_M +- 0.25 K; wall T_M + 20 K [K]
THICKNESS, N_NODES, AREA = 0.07, 70, 1.0  # 1 mm nodes; the front reaches ~4 cm at 10 h [m], [-], [m2]
FLOW, H_CONV = 100.0, 1e5  # a channel that stays at the inlet temperature [kg/s], [W/(m2 K)]


def neumann_lambda(St: float) -> float:
    """Root of lambda exp(lambda^2) erf(lambda) = St / sqrt(pi). [-]"""
    return brentq(lambda lam: lam * np.exp(lam * lam) * erf(lam) - St / np.sqrt(np.pi), 1e-9, 5.0)


def material() -> PCMMaterial:
    """RT44HC's card data (cp, L, rho, k) with its melting narrowed to T_M +- 0.25 K (a C1
    smoothstep), so that it melts at one temperature as the Stefan problem assumes."""
    card = load_material("RT44HC")
    rho = float(card.rho_solid)  # one density, as the analytic solution assumes
    return PCMMaterial.from_melting_curve(
        "RT44HC-narrow", "RT44HC card, melting narrowed to 42.1 degC +- 0.25 K",
        [T_M - 1.0, T_M - HALF_RANGE, T_M + HALF_RANGE, T_M + 1.0], [0.0, 0.0, 1.0, 1.0],
        cp_solid=card.cp_solid, cp_liquid=card.cp_liquid, latent_heat=card.latent_heat,
        rho_solid=rho, rho_liquid=rho, k_solid=card.k_solid, k_liquid=card.k_liquid)


def run():
    a = lambda v: jnp.asarray(v, dtype=float)
    mat = material()
    bank = PCMBank(material=mat, mass=a(float(mat.rho_solid) * THICKNESS * AREA), thickness=a(THICKNESS),
                   h_conv=a(H_CONV), M_fluid=a(0.0), UA_loss=a(0.0), T_initial=a(T_M - HALF_RANGE),
                   fluid=WATER, n_channel=1, n_nodes=N_NODES, fluid_dynamics="quasi_steady")
    src = Source(m_flow=Schedule.constant(FLOW), T=Schedule.constant(T_M + SUPERHEAT), Y=jnp.zeros(0),
                 fluid=WATER)
    plant = build_plant({"pcm": bank, "src": src, "drain": Stack(fluid=WATER)},
                        [("src.outlet", "pcm.inlet"), ("pcm.outlet", "drain.inlet")], Schedule.constant(293.15))
    sol = simulate(plant, 10 * HOUR, HOUR / 4, SolverConfig(rtol=1e-8, atol=1e-6))
    if not sol.success:
        raise RuntimeError(sol.message)
    t = sol.ts
    cp, k, L, rho = (float(getattr(mat, f)) for f in ("cp_liquid", "k_liquid", "latent_heat", "rho_solid"))
    lam = neumann_lambda(cp * SUPERHEAT / L)
    s_exact = 2.0 * lam * np.sqrt(k / (rho * cp) * t)
    s_twin = THICKNESS * sol.signals["pcm.liquid_fraction"]
    judged = t >= HOUR - 1e-6
    ratio = np.divide(s_twin, s_exact, out=np.ones_like(s_twin), where=s_exact > 0)
    far = sol.signals["pcm.T_pcm"][:, 0, -1]
    return [
        funnel("melt front s / s_Neumann", t, np.ones_like(t), t, ratio, atol=0.02, mask=judged, unit="-",
               why=f"VALIDATION_CASES.md PCM-4: front within 2 % at 1-10 h (St = {cp * SUPERHEAT / L:.4f}, "
                   f"lambda = {lam:.5f}); the front is the melted depth, thickness x mean liquid fraction"),
        funnel("far-face node temperature", t, np.full_like(t, T_M - HALF_RANGE), t, far, atol=0.05, unit="K",
               why="semi-infinite in effect: the solid ahead of the front stays at its initial temperature "
                   "(Neumann's one-phase solution has no conduction in the solid); 0.05 K = a tenth of the "
                   "melting range"),
    ]


CASE = Case(
    id="PCM-4", title="Stefan problem: RT44HC melt front vs Neumann's solution",
    source="analytic: one-phase Neumann solution s = 2 lambda sqrt(alpha t), lambda exp(lambda^2) erf(lambda) = "
           "St / sqrt(pi) (Carslaw & Jaeger 1959, sec. 11.2; Alexiades & Solomon 1993, sec. 2.1)",
    run=run, fast=False, components=("pcm_bank", "source", "stack"),
)
