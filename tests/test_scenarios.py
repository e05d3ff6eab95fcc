"""Every shipped scenario validates. The symbiosis, heat-pump and steel energy-web scenarios
run against their baselines in test_scenario_{battery,chemical,steel}.py (one file each, so that pytest-xdist
spreads their compiles over the workers); the glass flagship in test_flagship.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from twin.cli import main

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_scenario_file_validates(path):
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0, result.output
