"""Column condenser heat upgraded by a high-temperature heat pump into a buffered hot-water loop: runs against its baseline (see conftest.assert_recovery_beats_baseline)."""

from conftest import assert_recovery_beats_baseline


def test_chemical_lowgrade_heatpump_beats_its_baseline():
    assert_recovery_beats_baseline("chemical_lowgrade_heatpump")
