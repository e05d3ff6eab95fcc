"""Heater at a prescribed firing ratio (``FiredHeater``, ``type: heater`` with ``firing``):
the steady state and the first-order response of its water-and-metal volume against their
closed forms, exact energy bookkeeping, the enthalpy-temperature inverse for a liquid with
varying cp, gradients, and the scenario's mode checks.

One plant (a dynamic and a steady-state boiler on their own feeds) is compiled for the
module, from a scenario file, so that the schema and the builder are exercised too.
"""

from __future__ import annotations

import math
import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import solve_yaml

from twin.audit import audit
from twin.components.heater import FiredHeater
from twin.core.component import Context
from twin.core.schedule import Schedule
from twin.core.stream import Stream
from twin.scenario.build import load_scenario
from twin.scenario.errors import ScenarioError
from twin.thermo.fluids import THERMINOL_66, WATER

CP, RHO = WATER.cp_a, WATER.rho
M, T_IN, T_AMB, P, G, ETA = 0.05, 303.15, 288.15, 5000.0, 8.0, 0.9
V, C_DRY, T0 = 4.5e-3, 2250.0, 293.15
STEP = 1800.0  # firing 0.4 until here, then 1 [s]

PLANT = textwrap.dedent(f"""\
    name: fired
    duration: 1 h
    output_interval: 1 min
    ambient: {{temperature: {T_AMB} K}}
    solver: {{method: tsit5, rtol: 1.0e-10, atol: 1.0e-10}}
    schedules:
      firing: {{kind: step, times: [0 s, {STEP} s], values: [0.4, 1.0]}}
    components:
      feed1: {{type: source, fluid: water, mass_flow: {M} kg/s, temperature: {T_IN} K}}
      dyn: {{type: heater, fluid: water, energy: natural_gas, nominal_power: {P} W, efficiency: {ETA},
             firing: firing, dynamics: dynamic, envelope_UA: {G} W/K, water_volume: {V} m^3,
             dry_heat_capacity: {C_DRY} J/K, initial_temperature: {T0} K}}
      sink1: {{type: stack}}
      feed2: {{type: source, fluid: water, mass_flow: {M} kg/s, temperature: {T_IN} K}}
      steady: {{type: heater, fluid: water, energy: electric, nominal_power: {P} W, efficiency: 1.0,
                firing: firing, envelope_UA: {G} W/K}}
      sink2: {{type: stack}}
    connections:
      - [feed1.outlet, dyn.inlet]
      - [dyn.outlet, sink1.inlet]
      - [feed2.outlet, steady.inlet]
      - [steady.outlet, sink2.inlet]
    """)


def steady_T(y):
    """(m cp T_in + y P + G T_amb) / (m cp + G): the balance of a volume without storage. [K]"""
    return (M * CP * T_IN + y * P + G * T_AMB) / (M * CP + G)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return solve_yaml(PLANT, tmp_path_factory.mktemp("fired"))


def test_scenario_builds_both_modes(run):
    plant, _ = run
    dyn, steady = plant.components["dyn"], plant.components["steady"]
    assert isinstance(dyn, FiredHeater) and dyn.dynamics == "dynamic" and dyn.fuel is not None
    assert isinstance(steady, FiredHeater) and steady.dynamics == "steady_state" and steady.fuel is None
    assert float(dyn.M_water) == pytest.approx(V * RHO, rel=1e-15)
    assert float(steady.UA_loss) == G and float(steady.C_dry) == 0.0


def test_steady_state_mode_is_the_algebraic_balance(run):
    _, sol = run
    t, s = sol.ts, sol.signals
    y = np.where(t < STEP, 0.4, 1.0)
    # the quadratic balance is solved in closed form: the outlet is exact to round-off
    np.testing.assert_allclose(s["steady.T"], steady_T(y), rtol=0, atol=1e-10)
    np.testing.assert_allclose(s["steady.outlet.T"], steady_T(y), rtol=0, atol=1e-10)
    np.testing.assert_allclose(s["steady.Q_flow_loss"], G * (steady_T(y) - T_AMB), rtol=1e-12)


def test_dynamic_mode_is_a_first_order_lag(run):
    _, sol = run
    t, s = sol.ts, sol.signals
    C = V * RHO * CP + C_DRY
    tau = C / (M * CP + G)
    T1 = steady_T(0.4) + (T0 - steady_T(0.4)) * np.exp(-t / tau)
    T_step = steady_T(0.4) + (T0 - steady_T(0.4)) * math.exp(-STEP / tau)
    T2 = steady_T(1.0) + (T_step - steady_T(1.0)) * np.exp(-(t - STEP) / tau)
    exact = np.where(t <= STEP, T1, T2)
    # rtol 1e-10 on ~300 K: the global error is ~1e-7 K; the step is a solver breakpoint
    np.testing.assert_allclose(s["dyn.T"], exact, rtol=0, atol=1e-6)
    np.testing.assert_allclose(s["dyn.outlet.T"], s["dyn.T"], rtol=0, atol=0)


def test_energy_fuel_and_losses(run):
    plant, sol = run
    rep = audit(plant, plant.initial_state(), sol.y_final)
    assert rep.plant.closure < 1e-12
    for name in ("dyn", "steady"):
        assert rep.components[name].closure < 1e-12
    Q = 0.4 * P * STEP + P * (3600.0 - STEP)  # heat into the water [J]
    d = rep.components["dyn"].flows
    assert rep.tallies["dyn"]["heat_supplied"] == pytest.approx(Q, rel=1e-12)
    assert d["fuel"] == pytest.approx(Q / ETA, rel=1e-12) and d["electricity"] == 0.0
    assert d["conversion_loss"] == pytest.approx(Q - Q / ETA, rel=1e-9)
    assert rep.tallies["dyn"]["co2"] > 0.0
    e = rep.components["steady"].flows
    assert e["electricity"] == pytest.approx(Q, rel=1e-12) and e["fuel"] == 0.0
    assert e["conversion_loss"] == pytest.approx(0.0, abs=1e-9 * Q)
    # the envelope loss integrates G (T - T_amb) (trapezoid on 1-min samples of a smooth lag)
    loss = np.trapezoid(sol.signals["dyn.Q_flow_loss"], sol.ts)
    assert -d["envelope_loss"] == pytest.approx(loss, rel=1e-3)
    assert not rep.second_law_violations()
    assert rep.exergy["dyn"].destruction > 0 and rep.exergy["steady"].destruction > 0


def _heater(fluid, dynamics, M_water=4.5, C_dry=2250.0):
    a = lambda v: jnp.asarray(v, dtype=float)
    return FiredHeater(P_nominal=a(P), efficiency=a(1.0), firing=Schedule.constant(0.7), UA_loss=a(G),
                       M_water=a(M_water), C_dry=a(C_dry), T_initial=a(T0), fluid=fluid, dynamics=dynamics)


def test_enthalpy_temperature_inverse_with_varying_cp():
    h = _heater(THERMINOL_66, "dynamic")
    T = jnp.linspace(280.0, 600.0, 9)
    H = jax.vmap(h._H_of_T)(T)
    np.testing.assert_allclose(jax.vmap(h._T_of_H)(H), T, rtol=0, atol=1e-10)


def _outlet_T(h, m, T_in):
    ctx = Context(t=jnp.zeros(()), T_ambient=jnp.asarray(T_AMB), T0=jnp.asarray(T_AMB))
    s = Stream(jnp.asarray(m), jnp.asarray(T_in), h.fluid.h(jnp.asarray(T_in)), jnp.zeros(0))
    return h.outlet(ctx, jnp.zeros(0), "outlet", {"inlet": s}).T


def test_steady_state_closed_form_with_varying_cp_and_no_flow():
    h = _heater(THERMINOL_66, "steady_state")
    T = float(_outlet_T(h, 0.05, 400.0))
    f = THERMINOL_66
    # the residual of the balance m (h(T) - h_in) + G (T - T_amb) - y P, relative to y P
    r = 0.05 * (float(f.h(T)) - float(f.h(400.0))) + G * (T - T_AMB) - 0.7 * P
    assert abs(r) < 1e-12 * 0.7 * P
    # with no flow the volume settles where the envelope carries the firing away
    assert float(_outlet_T(h, 0.0, 400.0)) == pytest.approx(T_AMB + 0.7 * P / G, rel=1e-12)


def test_gradient_of_the_steady_outlet():
    h = _heater(WATER, "steady_state")
    g = jax.grad(lambda p: _outlet_T(eqx.tree_at(lambda c: c.P_nominal, h, p), M, T_IN))(jnp.asarray(P))
    assert float(g) == pytest.approx(0.7 / (M * CP + G), rel=1e-12)


def _check(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return str(info.value)


def test_mode_fields_are_checked(tmp_path):
    dyn_line = next(ln for ln in PLANT.splitlines() if ln.strip().startswith("firing: firing, dynamics"))
    both = PLANT.replace(dyn_line, dyn_line.replace("firing: firing,", "firing: firing, set_point: 60 degC,"))
    assert "components.dyn.set_point" in _check(tmp_path, both) and "not both" in _check(tmp_path, both)
    neither = PLANT.replace(dyn_line, dyn_line.replace("firing: firing, dynamics: dynamic,", ""))
    msg = _check(tmp_path, neither)
    assert "components.dyn.set_point: required field missing" in msg
    assert "components.dyn.envelope_UA" in msg and "belongs to a heater with firing" in msg
    no_start = PLANT.replace(f", initial_temperature: {T0} K", "")
    assert "components.dyn.initial_temperature: required field missing" in _check(tmp_path, no_start)
    empty = PLANT.replace(f"water_volume: {V} m^3,", "water_volume: 0 m^3,").replace(
        f"dry_heat_capacity: {C_DRY} J/K", "dry_heat_capacity: 0 J/K")
    assert "needs a water_volume or a dry_heat_capacity" in _check(tmp_path, empty)
    over = PLANT.replace("values: [0.4, 1.0]", "values: [0.4, 1.2]")
    assert "must be between 0 and 1" in _check(tmp_path, over)
