"""Properties of random valid plants (issue 7), checked with hypothesis.

One plant structure, every value drawn: a hot and a cold water source (the hot one's flow on
a drawn three-step schedule, the cold one's on a two-step one) meet in a counterflow
exchanger with dynamic hold-ups on both sides; the cooled hot stream runs through a pipe that
loses heat to the ambient; the warmed cold stream charges a stratified tank, which a third
source discharges. Temperatures are drawn hot above cold, and every other temperature (the
third source, the ambient, every initial temperature) between them. Nothing adds heat (no
fuel, no electricity), so for every plant drawn:

* the first law closes: ``|E_in - E_out - ΔE_stored| / E_in`` within the 1e-6 that every run
  is checked against (:data:`twin.run.DEFAULT_CLOSURE_TOLERANCE`), for the plant and for
  each component;
* the second law holds: no component destroys a negative amount of exergy (entropy
  generation ``S_gen = X_D / T0 >= 0``) beyond the audit's tolerance
  (:data:`twin.audit.DESTRUCTION_RTOL` of the exergy throughput);
* the exchanger's temperatures never cross: hot outlet >= cold inlet, cold outlet <= hot inlet;
* every temperature in the plant stays between the coldest and the hottest source (a
  maximum principle: mixing, conduction and exchange only average temperatures).

Values are drawn inside ranges that keep the plant non-stiff (fastest time constant about
3 s) so every example is a Tsit5 run of the same structure: one compile for the file. The
temperature bound allows 1e-4 K for the overshoot of an explicit Runge-Kutta step, which is
not monotone, at rtol = 1e-8 (states are enthalpies of about 3e5 J/kg: 3e-3 J/kg, 1e-6 K).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.audit import DESTRUCTION_RTOL
from twin.core import solve
from twin.run import DEFAULT_CLOSURE_TOLERANCE, run_scenario
from twin.scenario.build import load_scenario

EXAMPLES = 25
OVERSHOOT_K = 1e-4

PLANT = """\
name: properties
duration: 1 h
output_interval: 5 min
ambient: {{temperature: {T_amb!r} K}}
solver: {{method: tsit5, rtol: 1.0e-8, atol: 1.0e-8, max_steps: 20000}}
schedules:
  hot_flow: {{kind: step, times: [0 min, 20 min, 40 min], values: [{f1!r}, {f2!r}, {f3!r}]}}
  cold_flow: {{kind: step, times: [0 min, 30 min], values: [{g1!r}, {g2!r}]}}
components:
  hot: {{type: source, fluid: water, mass_flow: {{nominal: {m_h!r} kg/s, schedule: hot_flow}}, temperature: {T_h!r} K}}
  cold: {{type: source, fluid: water, mass_flow: {{nominal: {m_c!r} kg/s, schedule: cold_flow}}, temperature: {T_c!r} K}}
  back: {{type: source, fluid: water, mass_flow: {m_r!r} kg/s, temperature: {T_r!r} K}}
  hx: {{type: counterflow_exchanger, cells: 4, UA: {UA!r} W/K, hA_ratio: {ratio!r}, wall_heat_capacity: {C_wall!r} J/K,
       hot_fluid: water, cold_fluid: water, hot_dynamics: dynamic, hot_holdup: {M_h!r} kg, cold_holdup: {M_c!r} kg,
       initial_temperature: {T_hx!r} K}}
  line: {{type: pipe, fluid: water, length: {L!r} m, diameter: 50 mm, U_loss: {U_pipe!r} W/m/K, cells: 4,
         initial_temperature: {T_pipe!r} K}}
  tank: {{type: stratified_tank, fluid: water, volume: {V!r} m^3, height: 2 m, layers: 4, U_loss: {U_tank!r} W/m^2/K,
         initial_temperature: [{T_tank}]}}
  out_hot: {{type: stack}}
  out_tank: {{type: stack}}
  out_back: {{type: stack}}
connections:
  - [hot.outlet, hx.hot_in]
  - [hx.hot_out, line.inlet]
  - [line.outlet, out_hot.inlet]
  - [cold.outlet, hx.cold_in]
  - [hx.cold_out, tank.hot_in]
  - [tank.cold_out, out_tank.inlet]
  - [back.outlet, tank.cold_in]
  - [tank.hot_out, out_back.inlet]
"""


def _between(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def plants(draw):
    """The values of one plant: a dict for :data:`PLANT`, with the temperature bounds."""
    T_c = draw(_between(283.15, 333.15))
    T_h = draw(_between(T_c + 5.0, 368.15))
    inside = _between(T_c, T_h)
    fraction = _between(0.0, 1.0)
    v = {"T_c": T_c, "T_h": T_h, "T_r": draw(inside), "T_amb": draw(inside), "T_hx": draw(inside),
         "T_pipe": draw(inside), "T_tank": ", ".join(f"{draw(inside)!r} K" for _ in range(4)),
         "f1": draw(fraction), "f2": draw(fraction), "f3": draw(fraction), "g1": draw(fraction),
         "g2": draw(fraction), "m_h": draw(_between(0.2, 2.0)), "m_c": draw(_between(0.2, 2.0)),
         "m_r": draw(_between(0.0, 1.0)), "UA": draw(_between(500.0, 10e3)), "ratio": draw(_between(0.5, 2.0)),
         "C_wall": draw(_between(1e5, 1e6)), "M_h": draw(_between(40.0, 200.0)), "M_c": draw(_between(40.0, 200.0)),
         "L": draw(_between(20.0, 100.0)), "U_pipe": draw(_between(0.0, 2.0)), "V": draw(_between(0.5, 2.0)),
         "U_tank": draw(_between(0.0, 2.0))}
    return v


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("properties")


@pytest.fixture(scope="module")
def compiles():
    """Solver compiles over the whole file (one structure: one compile)."""
    start = solve.COMPILE_COUNT
    yield lambda: solve.COMPILE_COUNT - start


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(values=plants())
def test_random_plants_keep_the_laws_of_thermodynamics(values, folder, compiles):
    path = folder / "plant.yaml"
    path.write_text(PLANT.format(**values))
    r = run_scenario(load_scenario(path))
    assert r.solution.success and not r.solution.retry, r.solution.message
    assert compiles() <= 1  # every example reuses the one compiled solver
    a, ds = r.audit, r.dataset

    # first law, plant and every component
    assert a.plant.closure <= DEFAULT_CLOSURE_TOLERANCE
    assert all(b.closure <= DEFAULT_CLOSURE_TOLERANCE for b in a.components.values()), a.worst()
    # second law: S_gen = X_D / T0 >= 0 in every component, to the audit's tolerance
    for name, b in a.exergy.items():
        assert b.destruction >= -DESTRUCTION_RTOL * max(b.throughput, 1.0), (name, b.destruction)
    assert not r.second_law_violations

    # no temperature cross in the exchanger, at any output time
    hot_in, hot_out = ds["hot.outlet.T"].values, ds["hx.hot_out.T"].values
    cold_in, cold_out = ds["cold.outlet.T"].values, ds["hx.cold_out.T"].values
    assert np.all(hot_out >= cold_in - OVERSHOOT_K) and np.all(cold_out <= hot_in + OVERSHOOT_K)

    # every temperature between the coldest and the hottest source
    temperatures = [v for v in ds.data_vars if ds[v].attrs.get("units") == "K" and v != "tank.stratification"]
    assert len(temperatures) >= 10, temperatures
    for v in temperatures:
        T = ds[v].values
        assert np.all(T >= values["T_c"] - OVERSHOOT_K) and np.all(T <= values["T_h"] + OVERSHOOT_K), (
            v, float(T.min()), float(T.max()), values["T_c"], values["T_h"])
