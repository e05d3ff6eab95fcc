"""Every shipped scenario validates, and the symbiosis, heat-pump and steel energy-web scenarios run
with first-law closure, the second law in every component, and recovery beating their
baselines (the glass flagship and its baseline are run in test_flagship.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from twin.cli import main
from twin.run import run_scenario
from twin.scenario.build import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_scenario_file_validates(path):
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["battery_to_fab_symbiosis", "chemical_lowgrade_heatpump", "steel_reheat_energy_web"])
def test_recovery_scenario_beats_its_baseline(name):
    after = run_scenario(load_scenario(SCENARIOS / f"{name}.yaml"))
    before = run_scenario(load_scenario(SCENARIOS / f"{name}_baseline.yaml"))
    for r in (before, after):
        assert r.ok, (r.solution.message, r.second_law_violations, [c.describe() for c in r.checks])
        assert r.kpis["energy_closure"] < 1e-6
        assert all(b.destruction > -1e-4 * max(b.throughput, 1.0) for b in r.audit.exergy.values())
    k0, k1 = before.kpis, after.kpis
    assert k0["recapture_rate"] == 0.0 < k1["recapture_rate"] <= 1.0
    assert k1["co2_mass"] < k0["co2_mass"] and k1["energy_cost"] < k0["energy_cost"]
    assert k1["exergy_destroyed"] < k0["exergy_destroyed"]
