"""Key performance indicators, defined once, computed from the audit of a run.

Every KPI is a plain float in SI units, named as scenario ``checks:`` refer to it:

=================  ======  ===========================================================
name               units   definition
=================  ======  ===========================================================
energy_closure     1       plant first-law closure |E_in - E_out - ΔE| / E_in
energy_in          J       all energy entering the plant (fuel LHV, electricity, ...)
fuel_energy        J       Σ fuel flows (lower heating value basis)
electricity        J       Σ electricity drawn (electric furnaces, pumps)
heat_recovered     J       Σ heat passed from hot to cold side in exchangers
heat_delivered     J       Σ heat delivered to uses (consumers)
heat_losses        J       Σ heat lost to ambient (walls, shells, envelopes)
stack_loss         J       enthalpy discharged at stacks/sinks (relative to 298.15 K)
co2_mass           kg      CO2 emitted from fuel carbon
storage_change     J       change of energy stored in the plant
=================  ======  ===========================================================

Energy recapture rate, exergy efficiency, carbon intensity per euro and material
circularity follow with the plant library (see DESIGN.md, "KPIs").
"""

from __future__ import annotations

from twin.audit import Audit

UNITS = {
    "energy_closure": "1", "energy_in": "J", "fuel_energy": "J", "electricity": "J",
    "heat_recovered": "J", "heat_delivered": "J", "heat_losses": "J", "stack_loss": "J",
    "co2_mass": "kg", "storage_change": "J",
}
_LOSS_FLOWS = ("wall_loss", "shell_loss", "envelope_loss")


def kpis(report: Audit) -> dict[str, float]:
    """All KPIs of :data:`UNITS` from a run's audit."""
    flows = report.plant.flows

    def total(suffixes, sign=1.0):
        return sum(sign * v for k, v in flows.items() if k.rsplit(".", 1)[1] in suffixes)

    def tally(name):
        return sum(t.get(name, 0.0) for t in report.tallies.values())

    return {
        "energy_closure": report.plant.closure,
        "energy_in": report.plant.E_in,
        "fuel_energy": total(("fuel",)),
        "electricity": total(("electricity",)),
        "heat_recovered": tally("heat_recovered"),
        "heat_delivered": tally("heat_delivered") + total(("heat_delivered",), -1.0),
        "heat_losses": total(_LOSS_FLOWS, -1.0),
        "stack_loss": total(("discharge",), -1.0),
        "co2_mass": tally("co2"),
        "storage_change": report.plant.dE_stored,
    }
