"""Fab make-up-air reheat and district substation: the ε-NTU limit of the coil, the backup
or unmet remainder, exact energy balance and the second law."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import solve_yaml

from twin.audit import audit
from twin.components.heat_users import CP_AIR

PLANT = textwrap.dedent("""\
    name: users
    duration: 2 h
    output_interval: 10 min
    ambient: {temperature: 25 degC}
    solver: {method: tsit5, rtol: 1.0e-8, atol: 1.0e-8}
    components:
      w1: {type: source, fluid: water, mass_flow: 3 kg/s, temperature: 70 degC}
      w2: {type: source, fluid: water, mass_flow: 3 kg/s, temperature: 70 degC}
      w3: {type: source, fluid: water, mass_flow: 3 kg/s, temperature: 70 degC}
      fab: {type: fab_hvac, fluid: water, air_flow: 20 kg/s, supply_set_point: 20 degC,
            dehumidified_temperature: 12 degC, UA: 30 kW/K}
      small_fab: {type: fab_hvac, fluid: water, air_flow: 20 kg/s, supply_set_point: 20 degC,
                  dehumidified_temperature: 12 degC, UA: 3 kW/K, backup: natural_gas, backup_efficiency: 0.9}
      building: {type: district_substation, fluid: water, UA: 20 kW/K, secondary_supply: 60 degC,
                 secondary_return: 40 degC,
                 demand: {kind: step, times: [0 h, 1 h], values: [200 kW, 600 kW]}}
      d1: {type: stack}
      d2: {type: stack}
      d3: {type: stack}
    connections:
      - [w1.outlet, fab.supply]
      - [fab.return, d1.inlet]
      - [w2.outlet, small_fab.supply]
      - [small_fab.return, d2.inlet]
      - [w3.outlet, building.supply]
      - [building.return, d3.inlet]
    """)
CP = 4184.0
C_W = 3.0 * CP  # primary capacity rate [W/K]
C_A = 20.0 * CP_AIR


def eps(ntu, cr):
    e = np.exp(-ntu * (1 - cr))
    return (1 - e) / (1 - cr * e)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    plant, sol = solve_yaml(PLANT, tmp_path_factory.mktemp("users"))
    return plant, sol, audit(plant, plant.initial_state(), sol.y_final)


def test_fab_reheat_within_and_beyond_the_coil(run):
    _, sol, rep = run
    s = sol.signals
    # 12 -> 20 degC (outside air at 25 degC is cooled to 12 degC first); the smooth min of
    # 25 and 12 degC over 0.2 K is 0.2^2 / (4 x 13 K) = 7.7e-4 K below 12 degC
    Q_req = C_A * (8.0 + 0.04 / 52.0)
    np.testing.assert_allclose(s["fab.Q_flow_required"], Q_req, rtol=1e-6)
    np.testing.assert_allclose(s["fab.Q_flow"], Q_req, rtol=1e-5)  # the big coil covers it
    np.testing.assert_allclose(s["fab.return.T"], 343.15 - Q_req / C_W, atol=1e-3)
    # the small coil is limited by ε-NTU; the fab's boiler covers the rest
    Q_max = eps(3000.0 / C_W, C_W / C_A) * C_W * (58.0 + 0.04 / 52.0)
    assert Q_max < Q_req
    np.testing.assert_allclose(s["small_fab.Q_flow"], Q_max, rtol=1e-4)
    backup = rep.tallies["small_fab"]["backup_heat"]
    assert backup == pytest.approx((Q_req - Q_max) * 7200.0, rel=1e-3)
    assert rep.components["small_fab"].flows["fuel"] == pytest.approx(backup / 0.9, rel=1e-9)
    # without the backup the supply air would miss its 19.5-20.5 degC window all the time
    assert rep.tallies["small_fab"]["window_violation_time"] == pytest.approx(7200.0, rel=1e-3)
    assert rep.tallies["fab"]["window_violation_time"] == pytest.approx(0.0, abs=1.0)


def test_substation_meets_demand_then_reports_the_unmet_part(run):
    _, sol, rep = run
    s, t = sol.signals, sol.ts
    np.testing.assert_allclose(s["building.Q_flow"][t < 3600], 200e3, rtol=1e-5)
    C_sec = 600e3 / 20.0
    Q_max = eps(20e3 / C_W, C_W / C_sec) * C_W * 30.0  # primary is C_min; return design 40 degC
    np.testing.assert_allclose(s["building.Q_flow"][t > 3600], Q_max, rtol=1e-4)
    np.testing.assert_allclose(s["building.unmet_demand"][t > 3600], 600e3 - Q_max, rtol=1e-4)


def test_users_close_energy_and_destroy_exergy(run):
    _, _, rep = run
    for name in ("fab", "small_fab", "building"):
        assert rep.components[name].closure < 1e-12
        assert rep.exergy[name].destruction > 0
    assert not rep.second_law_violations()
