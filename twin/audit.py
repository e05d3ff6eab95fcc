"""First-law audit of a run: closure per component and for the plant.

Every component reports its boundary energy flows (positive into the component) and the
plant integrates them, together with the enthalpy each component received and sent through
its ports, as extra states of the same ODE (:class:`twin.core.plant.Plant`). After the run

    E_in  = ∫ enthalpy in through ports + Σ_k max(F_k, 0)
    E_out = ∫ enthalpy out through ports + Σ_k max(-F_k, 0)
    closure = |E_in - E_out - ΔE_stored| / E_in

where ``F_k`` is the time integral of boundary flow k and ``ΔE_stored`` the change of the
component's stored energy. For the plant the port terms cancel (what leaves one control
volume enters the next), leaving only boundary flows. Because stored energies are linear in
the state and Runge-Kutta steps preserve linear invariants, closure is at round-off level
(~1e-15) whatever the tolerance; a larger value means a component does not conserve energy.

Second-law terms (entropy generation, exergy destruction) are added by the library issue.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from twin.core.plant import Plant

PORT_TERMS = ("stream_in", "stream_out")


@dataclasses.dataclass
class Balance:
    """Energy balance of one control volume over the run. [J]"""

    E_in: float
    E_out: float
    dE_stored: float
    flows: dict[str, float]

    @property
    def residual(self) -> float:
        """``E_in - E_out - ΔE_stored``. [J]"""
        return self.E_in - self.E_out - self.dE_stored

    @property
    def closure(self) -> float:
        """``|residual| / E_in`` (0 for a component that nothing entered). [-]"""
        return abs(self.residual) / self.E_in if self.E_in > 0 else abs(self.residual)


@dataclasses.dataclass
class Audit:
    """First-law audit: one :class:`Balance` per component and one for the plant."""

    components: dict[str, Balance]
    plant: Balance
    tallies: dict[str, dict[str, float]]

    def worst(self) -> tuple[str, float]:
        """The component with the largest closure error and that error. [-]"""
        name = max(self.components, key=lambda n: self.components[n].closure)
        return name, self.components[name].closure


def audit(plant: Plant, y0, y_final) -> Audit:
    """Balance every component and the plant between the states ``y0`` and ``y_final``."""
    e0 = {k: float(v) for k, v in plant.stored_energy(y0).items()}
    e1 = {k: float(v) for k, v in plant.stored_energy(jax.tree_util.tree_map(np.asarray, y_final)).items()}
    comps, tallies = {}, {}
    plant_flows: dict[str, float] = {}
    for name, comp in plant.components.items():
        acc = {k: float(v) for k, v in y_final["audit"][name].items()}
        flows = {k: acc[k] for k in comp.flow_names}
        tallies[name] = {k: acc[k] for k in comp.tally_names}
        E_in = acc["stream_in"] + sum(max(f, 0.0) for f in flows.values())
        E_out = acc["stream_out"] + sum(max(-f, 0.0) for f in flows.values())
        comps[name] = Balance(E_in, E_out, e1[name] - e0[name], flows)
        for k, f in flows.items():
            plant_flows[f"{name}.{k}"] = f
    plant_balance = Balance(
        E_in=sum(max(f, 0.0) for f in plant_flows.values()),
        E_out=sum(max(-f, 0.0) for f in plant_flows.values()),
        dE_stored=sum(e1.values()) - sum(e0.values()),
        flows=plant_flows,
    )
    return Audit(comps, plant_balance, tallies)


def cumulative_flows(plant: Plant, ys) -> dict[str, np.ndarray]:
    """Time series of every integrated boundary flow and tally, ``{"comp.term": array}``."""
    out = {}
    for name, comp in plant.components.items():
        for k in (*comp.flow_names, *comp.tally_names):
            out[f"{name}.{k}"] = np.asarray(ys["audit"][name][k])
    return out
