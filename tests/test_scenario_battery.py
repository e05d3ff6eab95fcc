"""Battery-cell plant dryer exhaust to a fab's make-up-air reheat through 2 x 1.5 km of pipe: runs against its baseline (see conftest.assert_recovery_beats_baseline)."""

from conftest import assert_recovery_beats_baseline


def test_battery_to_fab_symbiosis_beats_its_baseline():
    assert_recovery_beats_baseline("battery_to_fab_symbiosis")
