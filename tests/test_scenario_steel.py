"""Steel reheating flue gas through a PI-controlled economiser into a PCM store feeding greenhouses: runs against its baseline (see conftest.assert_recovery_beats_baseline)."""

from conftest import assert_recovery_beats_baseline


def test_steel_reheat_energy_web_beats_its_baseline():
    assert_recovery_beats_baseline("steel_reheat_energy_web")
