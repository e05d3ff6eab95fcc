"""Controllers: a PI loop settles on its set point with the analytic valve position, its
anti-windup keeps the integral bounded while saturated, the on/off relay cycles between its
thresholds with the analytic period, and bad references are reported."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import solve_yaml

from twin.audit import audit
from twin.cli import main

# 2 kg/s at 80 degC through a controlled valve, mixed with 1 kg/s at 20 degC; the valve's
# share f gives T_mix = (160 f + 20) / (2 f + 1): 50 degC needs f = 0.5 exactly.
PLANT = textwrap.dedent("""\
    name: valve
    duration: 3 h
    output_interval: 30 s
    solver: {method: tsit5, rtol: 1.0e-8, atol: 1.0e-8}
    components:
      hot: {type: source, fluid: water, mass_flow: 2 kg/s, temperature: 80 degC}
      cold: {type: source, fluid: water, mass_flow: 1 kg/s, temperature: 20 degC}
      valve: {type: splitter, fluid: water, controller: ctrl}
      spill: {type: stack}
      merge: {type: mixer, fluid: water}
      user: {type: stack}
      ctrl: {type: controller, mode: pi, measure: merge.outlet, set_point: {kind: step, times: [0 h, 1 h, 2 h],
             values: [50 degC, 70 degC, 50 degC]}, kp: 0.02, integral_time: 2 min,
             sensor_time_constant: 20 s, initial_temperature: 40 degC, initial_output: 0.2}
      hot2: {type: source, fluid: water, mass_flow: 2 kg/s, temperature: 80 degC}
      cold2: {type: source, fluid: water, mass_flow: 1 kg/s, temperature: 20 degC}
      valve2: {type: splitter, fluid: water, controller: relay}
      spill2: {type: stack}
      merge2: {type: mixer, fluid: water}
      user2: {type: stack}
      relay: {type: controller, mode: on_off, measure: merge2.outlet, switch_on: 45 degC, switch_off: 55 degC,
              width: 0.1 K, switch_time: 2 s, sensor_time_constant: 120 s, initial_temperature: 40 degC}
    connections:
      - [hot.outlet, valve.inlet]
      - [valve.outlet_a, merge.inlet_a]
      - [valve.outlet_b, spill.inlet]
      - [cold.outlet, merge.inlet_b]
      - [merge.outlet, user.inlet]
      - [hot2.outlet, valve2.inlet]
      - [valve2.outlet_a, merge2.inlet_a]
      - [valve2.outlet_b, spill2.inlet]
      - [cold2.outlet, merge2.inlet_b]
      - [merge2.outlet, user2.inlet]
    """)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return solve_yaml(PLANT, tmp_path_factory.mktemp("ctrl"))


def test_pi_settles_on_the_set_point_with_the_analytic_valve_position(run):
    _, sol = run
    s, t = sol.signals, sol.ts
    k = np.searchsorted(t, 3300.0)  # end of the first hour
    assert s["merge.outlet.T"][k] == pytest.approx(323.15, abs=0.01)
    assert s["valve.fraction"][k] == pytest.approx(0.5, abs=1e-3)
    assert s["ctrl.output"][k] == pytest.approx(0.5, abs=1e-3)


def test_anti_windup_bounds_the_integral_while_saturated(run):
    _, sol = run
    s, t = sol.signals, sol.ts
    # 70 degC is out of reach (f = 1 gives 60 degC): the output saturates at 1 ...
    sat = (t > 4200.0) & (t < 7200.0)
    np.testing.assert_allclose(s["ctrl.output"][sat], 1.0, atol=0.02)
    assert s["merge.outlet.T"][sat].max() < 333.16
    # ... while the integral tracks the limit instead of growing by e*t (10 K x 1 h)
    integral = sol.ys["components"]["ctrl"].memory
    assert np.ptp(integral[sat]) < 0.05 * 10.0 * 3600.0
    # so after the set point returns to 50 degC the loop recovers within minutes
    back = (t > 7200.0 + 1200.0)
    assert np.all(np.abs(s["merge.outlet.T"][back] - 323.15) < 0.5)


def test_relay_cycles_between_its_thresholds_with_the_analytic_period(run):
    _, sol = run
    s, t = sol.signals, sol.ts
    Ts = s["relay.T_sensor"][t > 1800.0]
    # the sensor swings between the thresholds (overshoot only by the switching time)
    assert Ts.max() == pytest.approx(328.15, abs=0.5) and Ts.min() == pytest.approx(318.15, abs=0.5)
    # on: towards 60 degC from 45 to 55; off: towards 20 degC from 55 to 45 (tau = 120 s)
    period = 120.0 * (math.log(15.0 / 5.0) + math.log(35.0 / 25.0))
    up = np.flatnonzero(np.diff((s["relay.output"] > 0.5).astype(int)) == 1)
    measured = np.diff(t[up]).mean()
    assert measured == pytest.approx(period, rel=0.1)


def test_controllers_conserve_energy(run):
    plant, sol = run
    rep = audit(plant, plant.initial_state(), sol.y_final)
    assert rep.plant.closure < 1e-12 and not rep.second_law_violations()


def test_bad_controller_references_are_reported(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(PLANT.replace("measure: merge.outlet,", "measure: merge.outlt,")
                 .replace("controller: relay}", "controller: rely}"))
    result = CliRunner().invoke(main, ["check", str(f)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "components.ctrl.measure" in result.output and "components.valve2.controller" in result.output
