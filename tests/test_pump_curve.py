"""Pump on a curve at a set speed against a system curve (``SpeedControlledPump``).

Checked against independent references: the operating point against scipy's ``brentq`` on
pump curve = system curve; the affinity laws (flow ∝ s, power ∝ s^3 on a system curve without
static head, and dP/ds = 3 P/s by autodiff); the efficiency at the best-efficiency point; no
flow where the static head is above the shut-off pressure; first-law closure of a small loop;
and bad curves reported by ``twin check`` with the field named. The pump functions compile
once (one pytree structure for every pump here), the loop once.
"""

from __future__ import annotations

import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import solve_yaml
from scipy.optimize import brentq

from twin.audit import audit
from twin.cli import main
from twin.components.pump import (
    G_STANDARD,
    SMOOTHING,
    SpeedControlledPump,
    fit_pump_curve,
)
from twin.core.schedule import Schedule
from twin.thermo.fluids import WATER

M3H = 1.0 / 3600.0  # m^3/h in m^3/s
BAR = 1e5
FLOW = [0.0, 100 * M3H, 160 * M3H]
PRESSURE = [2.2 * BAR, 1.8 * BAR, 1.2 * BAR]
ETA = [0.3, 0.72, 0.6]  # best-efficiency point at 100 m^3/h
A, C, B, MISS = fit_pump_curve(FLOW, PRESSURE)


def pump(p_static=0.0, V_system=120 * M3H, dp_system=1.5 * BAR, eta_motor=0.9):
    f = lambda v: jnp.asarray(v, dtype=float)
    return SpeedControlledPump(
        dp_shutoff=f(A), dp_linear=f(C), dp_quadratic=f(B), V_curve=f(FLOW), eta_curve=f(ETA),
        V_system=f(V_system), dp_system=f(dp_system), p_static=f(p_static),
        eta_motor=f(eta_motor), speed=Schedule.constant(1.0), fluid=WATER)


operating_point = eqx.filter_jit(lambda p, s: p.operating_point(s))
power = eqx.filter_jit(lambda p, s: p.electric_power(s))
power_grad = eqx.filter_jit(lambda p, s: jax.grad(lambda x: p.electric_power(x))(s))
flow_grad = eqx.filter_jit(lambda p, s: jax.grad(lambda x: p.operating_point(x)[0])(s))


def op(p, s):
    return [float(x) for x in operating_point(p, jnp.asarray(s, dtype=float))]


def test_fit_is_exact_through_three_points_of_a_falling_parabola():
    # through three points the least squares parabola interpolates; these fall from 0 on
    V = np.asarray(FLOW)
    np.testing.assert_allclose(A - C * V - B * V * V, PRESSURE, rtol=1e-14)
    assert MISS < 1e-14 and A == pytest.approx(2.2 * BAR, rel=1e-14) and C > 0 and B > 0


@pytest.mark.parametrize("p_static, s", [(0.0, 1.0), (0.0, 0.55), (0.5 * BAR, 0.8),
                                         (1.0 * BAR, 1.0), (1.0 * BAR, 0.75), (0.2 * BAR, 1.2)])
def test_operating_point_is_the_intersection_of_the_curves(p_static, s):
    p = pump(p_static)
    k = (1.5 * BAR - p_static) / (120 * M3H) ** 2
    gap = lambda V: (s * s * A - s * C * V - B * V * V) - (p_static + k * V * V)
    V_ref = brentq(gap, 0.0, 2 * s * FLOW[-1], xtol=1e-18, rtol=4 * np.finfo(float).eps)
    V, dp, _ = op(p, s)
    # margin a - p_st/s^2 >= 190 smoothing widths here: the softplus error e^-190 is nil, so
    # what is left is round-off in the closed-form root and in brentq's bracket
    assert (A - p_static / s**2) / (SMOOTHING * A) > 150
    assert abs(V - V_ref) <= 1e-10 * V_ref, (V, V_ref)
    assert abs(dp - (p_static + k * V * V)) <= 1e-10 * dp  # on the system curve
    assert abs(dp - (s * s * A - s * C * V - B * V * V)) <= 1e-10 * dp  # and on the pump's


def test_affinity_laws_without_static_head():
    # on a pure quadratic system curve similar points share q = V/s: V ∝ s, dp ∝ s^2, P ∝ s^3
    p = pump()
    V1, dp1, eta1 = op(p, 1.0)
    P1 = float(power(p, 1.0))
    for s in (0.3, 0.6, 0.85, 1.15):
        V, dp, eta = op(p, s)
        assert V == pytest.approx(s * V1, rel=1e-14, abs=0)
        assert dp == pytest.approx(s**2 * dp1, rel=1e-14, abs=0)
        assert eta == eta1
        assert float(power(p, s)) == pytest.approx(s**3 * P1, rel=1e-14, abs=0)
    assert op(p, 0.0)[:2] == [0.0, 0.0] and float(power(p, 0.0)) == 0.0


def test_vmap_over_speed_matches_single_calls():
    p, speeds = pump(0.5 * BAR), jnp.linspace(0.0, 1.2, 7)
    P = eqx.filter_jit(jax.vmap(p.electric_power))(speeds)
    np.testing.assert_allclose(P, [float(power(p, x)) for x in speeds], rtol=1e-14, atol=0)


@pytest.mark.parametrize("s", [0.4, 0.9, 1.1])
def test_power_gradient_is_three_P_over_s(s):
    p = pump()
    dP = float(power_grad(p, jnp.asarray(s)))
    assert dP == pytest.approx(3 * float(power(p, s)) / s, rel=1e-13, abs=0)


def test_efficiency_at_the_best_efficiency_point():
    # a system curve through the curve's point at 100 m^3/h puts the pump at its BEP, and at
    # any speed on that curve (similar points); the monotone cubic keeps eta below the BEP's
    p = pump(V_system=100 * M3H, dp_system=1.8 * BAR)
    for s in (1.0, 0.7):
        V, dp, eta = op(p, s)
        assert V == pytest.approx(s * 100 * M3H, rel=1e-12)
        assert eta == pytest.approx(0.72, rel=1e-12)
        assert float(power(p, s)) == pytest.approx(V * dp / (0.72 * 0.9), rel=1e-12)
    etas = [op(pump(dp_system=dp * BAR), 1.0)[2] for dp in np.linspace(0.2, 2.1, 12)]
    assert max(etas) <= 0.72 and min(etas) >= 0.3


def test_no_flow_when_the_static_head_is_above_the_shutoff():
    p = pump(p_static=1.2 * BAR)
    s_off = np.sqrt(1.2 * BAR / A)  # 0.739: s^2 a = p_st
    V, dp, _ = op(p, 0.6)
    assert V < 1e-12 * FLOW[-1]  # 0.6^2 x 2.2 bar = 0.79 bar < 1.2 bar
    assert dp == pytest.approx(0.36 * A, rel=1e-12)  # against a closed check valve: shut-off
    assert float(power(p, 0.6)) < 1e-6 and op(p, 0.0)[0] < 1e-20
    # through s_off the flow rises continuously, within the smoothing's bound of the exact
    # (kinked) root: m+ - max(m, 0) <= w ln 2 moves q by at most sqrt(w ln 2 / (b + k))
    k = (1.5 - 1.2) * BAR / (120 * M3H) ** 2
    s = np.linspace(s_off - 0.02, s_off + 0.05, 71)
    Vs = np.array([op(p, x)[0] for x in s])
    m = np.maximum(A - 1.2 * BAR / s**2, 0.0)
    exact = s * 2 * m / (C + np.sqrt(C * C + 4 * (B + k) * m))
    bound = s * np.sqrt(SMOOTHING * A * np.log(2) / (B + k))
    assert np.all(np.diff(Vs) > 0) and np.all(np.abs(Vs - exact) <= bound)
    assert s_off * np.sqrt(SMOOTHING * A * np.log(2) / (B + k)) < 0.025 * FLOW[-1]  # 3.8 m^3/h
    grads = [float(flow_grad(p, jnp.asarray(x))) for x in (*s, s_off, 0.0, 0.3)]
    assert np.all(np.isfinite(grads)) and min(grads) >= 0
    assert all(np.isfinite(float(power_grad(p, jnp.asarray(x)))) for x in (s_off, 0.0, 0.3))


LOOP = textwrap.dedent("""\
    name: pump_loop
    duration: 2 h
    output_interval: 10 min
    solver: {method: tsit5, rtol: 1.0e-8, atol: 1.0e-8}
    components:
      pump:
        type: pump
        fluid: water
        curve:
          flow: [0 m^3/h, 100 m^3/h, 160 m^3/h]
          pressure: [2.2 bar, 1.8 bar, 1.2 bar]
          efficiency: [0.3, 0.72, 0.6]
        system: {flow: 120 m^3/h, pressure_drop: 1.5 bar, static_pressure: 0.3 bar}
        speed: {kind: step, times: [0 h, 1 h], values: [1.0, 0.7]}
        motor_efficiency: 0.9
      user: {type: heat_demand, fluid: water, demand: 5 kW, fluid_holdup: 2 t,
             min_temperature: 30 degC, initial_temperature: 60 degC}
    connections:
      - [pump.outlet, user.supply]
      - [user.return, pump.inlet]
    """)


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    return solve_yaml(LOOP, tmp_path_factory.mktemp("pump_curve"), "loop.yaml")


def test_loop_energy_closes_and_follows_the_speed(loop):
    plant, sol = loop
    rep = audit(plant, plant.initial_state(), sol.y_final)
    assert rep.plant.closure <= 1e-12, rep.plant.closure
    bal = rep.components["pump"]  # stateless: its electricity all leaves with the water
    W = bal.flows["electricity"]
    assert abs(bal.E_in - bal.E_out) <= 1e-12 * bal.E_in and W > 0
    # the pump's work and the 5 kW demand are the loop's only boundary flows
    user = rep.components["user"]
    assert user.dE_stored == pytest.approx(W + sum(user.flows.values()), rel=1e-12, abs=0)
    assert rep.exergy["pump"].destruction > 0  # electricity degraded to warm water
    s, t = sol.signals, sol.ts
    np.testing.assert_allclose(s["pump.outlet.m_flow"], WATER.rho * s["pump.V_flow"], rtol=1e-15)
    # speed 1 then 0.7 on a curve with static head: each phase at its own operating point
    c = pump(0.3 * BAR)
    for phase, speed in ((t < 3600, 1.0), (t > 3600, 0.7)):
        V, dp, eta = op(c, speed)
        np.testing.assert_allclose(s["pump.V_flow"][phase], V, rtol=1e-13)
        np.testing.assert_allclose(s["pump.P_electric"][phase], V * dp / (eta * 0.9), rtol=1e-12)
    # with static head, lower speed moves the pump off its similar point: flow falls more than s
    assert op(c, 0.7)[0] < 0.7 * op(c, 1.0)[0]


def test_head_is_converted_with_the_fluid_density(tmp_path):
    from twin.scenario.build import load_scenario

    heads = ", ".join(f"{x / (WATER.rho * G_STANDARD)!r} m" for x in PRESSURE)
    path = tmp_path / "head.yaml"
    path.write_text(LOOP.replace("pressure: [2.2 bar, 1.8 bar, 1.2 bar]", f"head: [{heads}]"))
    sc = load_scenario(path, ["pump.system.pressure_drop=1.6 bar"])
    p = sc.plant.components["pump"]
    assert float(p.dp_shutoff) == pytest.approx(A, rel=1e-14)
    assert float(p.dp_quadratic) == pytest.approx(B, rel=1e-12)
    assert float(p.dp_system) == 1.6 * BAR and "pump.system.pressure_drop" in sc.parameters


# ------------------------------------------------------------------ bad input: exit code 2
CURVE = "      pressure: [2.2 bar, 1.8 bar, 1.2 bar]\n"
BAD = [
    # (id, old, new, path, fragment of the accepted text, line fragment)
    ("non_monotone", CURVE, "      pressure: [2.2 bar, 1.8 bar, 1.9 bar]\n",
     "components.pump.curve.pressure", "must fall strictly as the flow rises (item 2", "pressure:"),
    ("s_shaped", CURVE, "      pressure: [2.2 bar, 2.19 bar, 1.0 bar]\n",
     "components.pump.curve.pressure", "misses a point by 12.6 %", "pressure:"),
    ("two_points", "flow: [0 m^3/h, 100 m^3/h, 160 m^3/h]", "flow: [0 m^3/h, 160 m^3/h]",
     "components.pump.curve.flow", "must have at least 3 items", "flow: [0"),
    ("negative_flow", "flow: [0 m^3/h,", "flow: [-10 m^3/h,", "components.pump.curve.flow.0",
     "must be >= 0 m^3/s", "flow: [-10"),
    ("zero_efficiency", "efficiency: [0.3,", "efficiency: [0,", "components.pump.curve.efficiency.0",
     "must be > 0", "efficiency: [0,"),
    ("one_short", "efficiency: [0.3, 0.72, 0.6]", "efficiency: [0.72, 0.6]",
     "components.pump.curve.efficiency", "must have one value per flow (3 flows, 2 values)",
     "efficiency: [0.72"),
    ("pressure_and_head", CURVE, CURVE + "      head: [22 m, 18 m, 12 m]\n",
     "components.pump.curve", "give the curve's pressure or its head", "curve:"),
    ("mixed_modes", "    motor_efficiency: 0.9\n", "    motor_efficiency: 0.9\n    mass_flow: 10 kg/s\n",
     "components.pump.mass_flow", "a pump with a curve takes its flow and power from the curve",
     "mass_flow"),
    ("mixed_efficiency", "    motor_efficiency: 0.9\n", "    motor_efficiency: 0.9\n    efficiency: 0.7\n",
     "components.pump.efficiency", "leave efficiency out", "    efficiency: 0.7"),
    ("no_system", "    system: {flow: 120 m^3/h, pressure_drop: 1.5 bar, static_pressure: 0.3 bar}\n",
     "", "components.pump.system", "required field missing", "  pump:"),
    ("static_above_design", "static_pressure: 0.3 bar", "static_pressure: 1.6 bar",
     "components.pump.system.static_pressure", "must be below pressure_drop", "system:"),
    ("off_the_curve", "pressure_drop: 1.5 bar,", "pressure_drop: 0.5 bar,", "components.pump",
     "beyond its curve's last flow (160 m^3/h)", "  pump:"),
    ("never_delivers", "system: {flow: 120 m^3/h, pressure_drop: 1.5 bar, static_pressure: 0.3 bar}",
     "system: {flow: 120 m^3/h, pressure_drop: 3 bar, static_pressure: 2.5 bar}",
     "components.pump", "never delivers", "  pump:"),
    ("speed_above_1.2", "values: [1.0, 0.7]", "values: [1.3, 0.7]",
     "components.pump.speed.values.0", "must be between 0 and 1.2", "speed:"),
]
FIXED = "  pump: {type: pump, fluid: water, mass_flow: 10 kg/s, pressure_rise: 2 bar}\n"
BAD_FIXED = [
    ("fixed_with_speed", FIXED.replace("}", ", speed: 0.8}"), "components.pump.speed",
     "speed belongs to a pump with a curve"),
    ("fixed_without_flow", FIXED.replace(" mass_flow: 10 kg/s,", ""), "components.pump.mass_flow",
     "required field missing"),
]


def _check(tmp_path, text):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    result = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return [ln.strip() for ln in result.output.splitlines() if "bad.yaml:" in ln]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_curve_is_reported_with_its_field(tmp_path, case):
    _, old, new, path, fragment, where = case
    assert LOOP.count(old) == 1
    text = LOOP.replace(old, new)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if where in ln)
    lines = _check(tmp_path, text)
    assert len(lines) == 1, lines
    assert f"bad.yaml:{line}: {path}: " in lines[0] and fragment in lines[0], lines[0]


@pytest.mark.parametrize("case", BAD_FIXED, ids=[c[0] for c in BAD_FIXED])
def test_fixed_mode_rejects_curve_fields(tmp_path, case):
    _, pump_line, path, fragment = case
    head, _, tail = LOOP.partition("  pump:\n")
    text = head + pump_line + tail[tail.index("  user:"):]
    lines = _check(tmp_path, text)
    assert len(lines) == 1 and f": {path}: " in lines[0] and fragment in lines[0], lines
