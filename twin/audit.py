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

The second law is audited alongside (:mod:`twin.core.exergy` has the definitions): per
component

    X_D = ∫ exergy in through ports - ∫ exergy out through ports + Σ_k X_k - ΔX_stored,

the exergy destroyed inside it (``T0 S_gen``), and for the plant ``X_D = Σ_k X_k - ΔX_stored``
over its boundary flows, which equals the sum over components because port exergies cancel.
Stored exergy is not linear in the state, so ``X_D`` is exact only to the solver tolerance;
a destruction below ``-DESTRUCTION_RTOL`` times the component's exergy throughput is a
second-law violation (a modelling bug or an impossible input) and is reported with the
component's name.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from twin.core.plant import Plant

PORT_TERMS = ("stream_in", "stream_out")
#: tolerance of the non-negative-destruction check, relative to the exergy throughput; the
#: audit integrals carry the solver's relative tolerance (1e-6 by default) in each term
DESTRUCTION_RTOL = 1e-4


# The audit and the KPIs (twin.kpi) are plain arithmetic on the run's integrals. They run on
# the host with floats after a run, and inside jax.grad / jax.jvp for sensitivities
# (twin.sensitivity), where the same code sees traced scalars. These three helpers are the
# only places where the two differ; everything else is written once.
def traced(x) -> bool:
    """Whether ``x`` is a JAX tracer (inside a transformation) rather than a value."""
    return isinstance(x, jax.core.Tracer)


def positive_part(x):
    """``max(x, 0)`` for floats and traced scalars (derivative 1 above 0, 0 below)."""
    return jnp.maximum(x, 0.0) if traced(x) else max(x, 0.0)


def select(condition, a, b):
    """``a if condition else b``; a traced condition selects element-wise (both are computed)."""
    return jnp.where(condition, a, b) if traced(condition) else (a if condition else b)


def _value(x):
    """A host float, or the tracer itself inside a transformation."""
    return x if traced(x) else float(x)


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
        positive = self.E_in > 0
        return abs(self.residual) / select(positive, self.E_in, 1.0)


@dataclasses.dataclass
class ExergyBalance:
    """Exergy balance of one control volume over the run. [J]

    ``X_in`` / ``X_out``: exergy through ports; ``flows``: exergy of each boundary flow
    (positive into the volume); ``dX_stored``: change of stored exergy.
    """

    X_in: float
    X_out: float
    dX_stored: float
    flows: dict[str, float]

    @property
    def destruction(self) -> float:
        """Exergy destroyed inside, ``X_in - X_out + Σ flows - ΔX_stored``. [J]"""
        return self.X_in - self.X_out + sum(self.flows.values()) - self.dX_stored

    @property
    def throughput(self) -> float:
        """Exergy supplied to the volume: port inflow, incoming flows, stored exergy released. [J]"""
        return (self.X_in + sum(positive_part(f) for f in self.flows.values())
                + positive_part(-self.dX_stored))

    @property
    def violates_second_law(self) -> bool:
        """Destruction negative beyond :data:`DESTRUCTION_RTOL` of the throughput."""
        return self.destruction < -DESTRUCTION_RTOL * max(self.throughput, 1.0)


@dataclasses.dataclass
class Audit:
    """First- and second-law audit: a :class:`Balance` and an :class:`ExergyBalance` per
    component and for the plant, the tallies, and the dead-state temperature ``T0`` [K]."""

    components: dict[str, Balance]
    plant: Balance
    tallies: dict[str, dict[str, float]]
    exergy: dict[str, ExergyBalance]
    plant_exergy: ExergyBalance
    T0: float
    #: per connection ``"component.outlet"``: ``heat`` (enthalpy above the dead state) and
    #: ``exergy`` carried over the run [J]
    connections: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    #: ``grid_co2`` [kg] and ``electricity_cost`` [currency] when the plant has economics
    economics: dict[str, float] = dataclasses.field(default_factory=dict)

    def worst(self) -> tuple[str, float]:
        """The component with the largest closure error and that error. [-]"""
        name = max(self.components, key=lambda n: self.components[n].closure)
        return name, self.components[name].closure

    def second_law_violations(self) -> list[str]:
        """One message per component whose exergy destruction is negative beyond tolerance."""
        return [
            f"{name}: exergy destruction {b.destruction:.4g} J is negative (beyond "
            f"{DESTRUCTION_RTOL:g} of its exergy throughput {b.throughput:.4g} J): the component "
            "creates exergy, which is a modelling error or an impossible input"
            for name, b in self.exergy.items() if b.violates_second_law
        ]


def audit(plant: Plant, y0, y_final, stored=None) -> Audit:
    """Balance every component and the plant between the states ``y0`` and ``y_final``.

    ``stored``: the stored energies and exergies ``(E(y0), E(y_final), X(y0), X(y_final))``
    (each ``{component: value}``) when already computed, e.g. on the device for a batch of
    runs (:mod:`twin.sweep.batch`); by default computed here.

    Inside a JAX transformation (``y_final`` traced, :mod:`twin.sensitivity`) every figure is a
    traced scalar and the audit is differentiable; otherwise they are host floats.
    """
    if not any(traced(x) for x in jax.tree_util.tree_leaves(y_final)):
        y_final = jax.tree_util.tree_map(np.asarray, y_final)
    if stored is None:
        stored = (plant.stored_energy(y0), plant.stored_energy(y_final),
                  plant.stored_exergy(y0), plant.stored_exergy(y_final))
    e0, e1, x0, x1 = ({k: _value(v) for k, v in d.items()} for d in stored)
    comps, tallies, exergy = {}, {}, {}
    plant_flows: dict[str, float] = {}
    plant_xflows: dict[str, float] = {}
    for name, comp in plant.components.items():
        acc = {k: _value(v) for k, v in y_final["audit"][name].items()}
        flows = {k: acc[k] for k in comp.flow_names}
        xflows = {k: acc[f"{k}_exergy"] for k in comp.flow_names}
        tallies[name] = {k: acc[k] for k in comp.tally_names}
        E_in = acc["stream_in"] + sum(positive_part(f) for f in flows.values())
        E_out = acc["stream_out"] + sum(positive_part(-f) for f in flows.values())
        comps[name] = Balance(E_in, E_out, e1[name] - e0[name], flows)
        exergy[name] = ExergyBalance(acc["exergy_in"], acc["exergy_out"], x1[name] - x0[name], xflows)
        for k in comp.flow_names:
            plant_flows[f"{name}.{k}"] = flows[k]
            plant_xflows[f"{name}.{k}"] = xflows[k]
    plant_balance = Balance(
        E_in=sum(positive_part(f) for f in plant_flows.values()),
        E_out=sum(positive_part(-f) for f in plant_flows.values()),
        dE_stored=sum(e1.values()) - sum(e0.values()),
        flows=plant_flows,
    )
    plant_exergy = ExergyBalance(0.0, 0.0, sum(x1.values()) - sum(x0.values()), plant_xflows)
    conns = {k: {q: _value(v) for q, v in d.items()} for k, d in y_final["connections"].items()}
    econ = {k: _value(v) for k, v in y_final.get("economics", {}).items()}
    return Audit(comps, plant_balance, tallies, exergy, plant_exergy, _value(plant.T_dead), conns, econ)


def cumulative_flows(plant: Plant, ys) -> dict[str, np.ndarray]:
    """Time series of every integrated boundary flow and tally, ``{"comp.term": array}``."""
    out = {}
    for name, comp in plant.components.items():
        for k in (*comp.flow_names, *(f"{f}_exergy" for f in comp.flow_names), *comp.tally_names):
            out[f"{name}.{k}"] = np.asarray(ys["audit"][name][k])
    return out
