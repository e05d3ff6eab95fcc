"""Algebraic ε-NTU exchanger (twin.components.effectiveness_exchanger): the relations against
Incropera's table 11.3, the UA scaling against Buildings' regNonZeroPower, energy closure and
the second law in a running plant, gradients, and the scenario type.

References: Incropera, DeWitt, Bergman & Lavine, Fundamentals of Heat and Mass Transfer,
6th ed. (2007), table 11.3 (coded below as printed, independently of
the component's cancellation-free forms); Modelica Buildings,
``Buildings.Utilities.Math.Functions.regNonZeroPower``.
"""

from __future__ import annotations

import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from twin.audit import audit
from twin.components.boundaries import Source, Stack
from twin.components.effectiveness_exchanger import (
    RELATIONS,
    ConstantEffectivenessExchanger,
    EffectivenessNTUExchanger,
    effectiveness_ntu,
    flow_factor,
    ntu_for_effectiveness,
    ua_for_effectiveness,
)
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.core.stream import Stream
from twin.scenario.build import check_scenario
from twin.scenario.errors import ScenarioError
from twin.thermo.combustion import AIR_Y
from twin.thermo.fluids import AIR, WATER


def a(v):
    return jnp.asarray(v, dtype=float)


def textbook(ntu, c_r, relation):
    """Incropera table 11.3 as printed (c_r > 0; counterflow also at c_r = 1)."""
    e = np.exp
    if relation == "counterflow":
        if c_r == 1.0:
            return ntu / (1.0 + ntu)  # C_r = 1
        x = e(-ntu * (1.0 - c_r))
        return (1.0 - x) / (1.0 - c_r * x)
    if relation == "parallel_flow":
        return (1.0 - e(-ntu * (1.0 + c_r))) / (1.0 + c_r)
    if relation == "crossflow_unmixed":
        return 1.0 - e((1.0 / c_r) * ntu ** 0.22 * (e(-c_r * ntu ** 0.78) - 1.0))
    if relation == "crossflow_cmax_mixed":
        return (1.0 / c_r) * (1.0 - e(-c_r * (1.0 - e(-ntu))))
    return 1.0 - e(-(1.0 / c_r) * (1.0 - e(-c_r * ntu)))  # C_min mixed


@pytest.mark.parametrize("relation", RELATIONS)
def test_relations_are_incroperas(relation):
    for ntu in (0.1, 0.5, 1.0, 2.0, 5.0):
        for c_r in (0.1, 0.25, 0.5, 0.75, 1.0):
            got = float(effectiveness_ntu(a(ntu), a(c_r), relation))
            # the printed forms lose ~1e-13 to cancellation at these points; 1e-12 is round-off
            assert got == pytest.approx(textbook(ntu, c_r, relation), abs=1e-12), (ntu, c_r)
        # C_r = 0 (one side condensing or boiling): every arrangement is 1 - exp(-NTU)
        assert float(effectiveness_ntu(a(ntu), a(0.0), relation)) == pytest.approx(1 - np.exp(-ntu), abs=1e-15)
    # a published value: counterflow NTU = 2, C_r = 0.5 -> 0.7746 (also tests/test_exchanger.py)
    assert float(effectiveness_ntu(a(2.0), a(0.5), "counterflow")) == pytest.approx(0.77460, abs=1e-5)


def test_counterflow_is_smooth_through_equal_capacity_rates():
    """The printed counterflow relation is 0/0 at C_r = 1; the component's form is exact there and
    has a finite derivative (NTU/(1+NTU) and its C_r-slope, from its series in 1 - C_r)."""
    f = lambda c: effectiveness_ntu(a(2.0), c, "counterflow")
    assert float(f(a(1.0))) == pytest.approx(2.0 / 3.0, abs=1e-15)
    slope = float(jax.grad(f)(a(1.0)))
    fd = (float(f(a(1.0 - 1e-5))) - float(f(a(1.0 - 2e-5)))) / 1e-5  # one-sided, O(1e-5)
    assert np.isfinite(slope) and slope == pytest.approx(fd, rel=1e-4)


@pytest.mark.parametrize("relation", RELATIONS)
def test_ntu_inverse(relation):
    for ntu in (0.3, 1.0, 3.0):
        for c_r in (0.0, 0.4, 1.0):
            eps = float(effectiveness_ntu(a(ntu), a(c_r), relation))
            assert ntu_for_effectiveness(eps, c_r, relation) == pytest.approx(ntu, rel=1e-10)
    # at C_r = 1 parallel flow tops out at 1/2, one side mixed at 1 - 1/e; the others at 1
    limit = {"parallel_flow": 0.5, "crossflow_cmax_mixed": 1 - np.exp(-1), "crossflow_cmin_mixed": 1 - np.exp(-1)}
    with pytest.raises(ValueError, match="not reachable"):
        ntu_for_effectiveness(limit.get(relation, 1.0) + 1e-9, 1.0, relation)


def test_ua_sizing_of_a_cross_flow_exchanger_with_one_side_mixed():
    """'hot mixed' is the C_min-mixed relation when the hot side is C_min, C_max-mixed when not."""
    ua = ua_for_effectiveness(0.5, 1000.0, 2000.0, "crossflow_hot_mixed")
    assert ua == pytest.approx(1000.0 * ntu_for_effectiveness(0.5, 0.5, "crossflow_cmin_mixed"), rel=1e-12)
    ua = ua_for_effectiveness(0.5, 2000.0, 1000.0, "crossflow_hot_mixed")
    assert ua == pytest.approx(1000.0 * ntu_for_effectiveness(0.5, 0.5, "crossflow_cmax_mixed"), rel=1e-12)


def test_flow_factor_is_buildings_reg_non_zero_power():
    """|x|^n above delta; below, a quartic with the same value, slope and curvature at delta,
    positive at 0 (Buildings' regNonZeroPower)."""
    n, d = 0.8, 0.1
    x = np.array([0.1000001, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(flow_factor(a(x), a(n)), x ** n, rtol=1e-14)
    g = jax.grad(lambda x: flow_factor(x, a(n)))
    h = jax.grad(g)
    for k, fn in enumerate((lambda x: flow_factor(x, a(n)), g, h)):
        lo, hi = float(fn(a(d - 1e-9))), float(fn(a(d + 1e-9)))
        exact = (d ** n, n * d ** (n - 1), n * (n - 1) * d ** (n - 2))[k]
        assert lo == pytest.approx(exact, rel=1e-6) and hi == pytest.approx(exact, rel=1e-6)
    assert 0.0 < float(flow_factor(a(0.0), a(n))) < d ** n
    assert float(flow_factor(a(0.05), a(0.0))) == 1.0  # n = 0: UA independent of the flow


def _pair(m_hot, m_cold, T_hot, T_cold, hot_fluid=WATER, cold_fluid=WATER):
    Y = lambda f: a(AIR_Y) if f.is_gas else jnp.zeros(0)
    s = lambda f, m, T: Stream(a(m), a(T), f.h(a(T), Y(f) if f.is_gas else None), Y(f))
    return s(hot_fluid, m_hot, T_hot), s(cold_fluid, m_cold, T_cold)


def test_ua_scales_with_the_flows_and_sets_q():
    hx = EffectivenessNTUExchanger(UA_nominal=a(1000.0), hA_ratio=a(1.5), m_hot_nominal=a(2.0),
                                   m_cold_nominal=a(1.0), n_hot=a(0.85), n_cold=a(0.8), hot_fluid=WATER,
                                   cold_fluid=WATER, arrangement="parallel_flow")
    assert float(hx.conductance(a(2.0), a(1.0))) == pytest.approx(1000.0, rel=1e-14)
    hA_h, hA_c = 2500.0 * 1.5 ** 0.85, 2500.0 / 1.5 * 2.0 ** 0.8  # 3 and 2 kg/s
    assert float(hx.conductance(a(3.0), a(2.0))) == pytest.approx(1 / (1 / hA_h + 1 / hA_c), rel=1e-14)
    hot, cold = _pair(3.0, 2.0, 350.0, 290.0)
    Q, sig = hx._transfer(hot, cold)
    C_h, C_c = 3.0 * WATER.cp_a, 2.0 * WATER.cp_a
    ua = 1 / (1 / hA_h + 1 / hA_c)
    eps = textbook(ua / C_c, C_c / C_h, "parallel_flow")
    assert float(Q) == pytest.approx(eps * C_c * 60.0, rel=1e-12)
    assert float(sig["NTU"]) == pytest.approx(ua / C_c, rel=1e-14)


def test_gradients_finite_at_zero_flow_and_equal_capacity_rates():
    hx = EffectivenessNTUExchanger(UA_nominal=a(5000.0), hA_ratio=a(1.0), m_hot_nominal=a(1.0),
                                   m_cold_nominal=a(1.0), n_hot=a(0.8), n_cold=a(0.8), hot_fluid=WATER,
                                   cold_fluid=WATER, arrangement="counterflow")

    def q(params, m_hot, m_cold):
        UA, n = params
        h = EffectivenessNTUExchanger(UA_nominal=UA, hA_ratio=hx.hA_ratio, m_hot_nominal=hx.m_hot_nominal,
                                      m_cold_nominal=hx.m_cold_nominal, n_hot=n, n_cold=n, hot_fluid=WATER,
                                      cold_fluid=WATER, arrangement="counterflow")
        return h._transfer(*_pair(m_hot, m_cold, 350.0, 290.0))[0]

    for m_hot, m_cold in ((1.0, 1.0), (0.0, 1.0), (1.0, 0.0), (0.0, 0.0), (0.05, 2.0)):
        g = jax.grad(q, argnums=(0, 1, 2))((a(5000.0), a(0.8)), a(m_hot), a(m_cold))
        assert all(np.isfinite(np.asarray(v)).all() for v in jax.tree_util.tree_leaves(g)), (m_hot, m_cold)
    assert float(q((a(5000.0), a(0.8)), a(0.0), a(1.0))) == 0.0
    # vmap over the conductance (a sweep)
    qs = jax.vmap(lambda ua: q((ua, a(0.8)), a(1.0), a(1.0)))(a([1e3, 4e3, 16e3]))
    assert np.all(np.diff(np.asarray(qs)) > 0)


# ------------------------------------------------------------------ in a running plant
T_SIG = Schedule(a([0.0, 60.0, 120.0, 180.0]), a([360.0, 360.0, 280.0, 280.0]), kind="linear")  # crosses 300 K


@pytest.fixture(scope="module")
def run():
    """Water (hot side) against NASA-polynomial air (variable cp) in a cross-flow ε-NTU
    exchanger, and a constant-effectiveness water/water one; flows stop and restart, and the
    hot side's inlet ends colder than the cold side's (the heat flow reverses)."""
    ramp = lambda *v: Schedule(a([0.0, 60.0, 120.0, 180.0]), a(v), kind="linear")
    comps = {
        "ntu": EffectivenessNTUExchanger(UA_nominal=a(2000.0), hA_ratio=a(1.5), m_hot_nominal=a(1.0),
                                         m_cold_nominal=a(2.0), n_hot=a(0.85), n_cold=a(0.8), hot_fluid=WATER,
                                         cold_fluid=AIR, arrangement="crossflow_cold_mixed"),
        "const": ConstantEffectivenessExchanger(effectiveness_value=a(0.7), hot_fluid=WATER, cold_fluid=WATER),
        "w1": Source(m_flow=ramp(1.0, 0.0, 0.5, 1.5), T=T_SIG, Y=jnp.zeros(0), fluid=WATER),
        "air": Source(m_flow=ramp(2.0, 3.0, 0.0, 1.0), T=Schedule.constant(300.0), Y=a(AIR_Y), fluid=AIR),
        "w2": Source(m_flow=ramp(1.0, 1.0, 0.0, 2.0), T=T_SIG, Y=jnp.zeros(0), fluid=WATER),
        "w3": Source(m_flow=ramp(2.0, 0.5, 0.5, 1.0), T=Schedule.constant(300.0), Y=jnp.zeros(0), fluid=WATER),
        "d1": Stack(fluid=WATER), "d2": Stack(fluid=AIR), "d3": Stack(fluid=WATER), "d4": Stack(fluid=WATER),
    }
    conns = [("w1.outlet", "ntu.hot_in"), ("ntu.hot_out", "d1.inlet"), ("air.outlet", "ntu.cold_in"),
             ("ntu.cold_out", "d2.inlet"), ("w2.outlet", "const.hot_in"), ("const.hot_out", "d3.inlet"),
             ("w3.outlet", "const.cold_in"), ("const.cold_out", "d4.inlet")]
    plant = build_plant(comps, conns, Schedule.constant(290.0))
    sol = simulate(plant, 180.0, 10.0, SolverConfig(rtol=1e-8, atol=1e-8))
    assert sol.success, sol.message
    return plant, sol


def test_energy_closes_and_exergy_is_destroyed(run):
    """Each exchanger passes to one stream exactly what it takes from the other (closure to
    round-off of the enthalpy throughput), and destroys exergy (X_D >= 0) over the run."""
    plant, sol = run
    rep = audit(plant, plant.initial_state(), sol.y_final)
    for name in ("ntu", "const"):
        b = rep.components[name]
        # enthalpies are relative to 298.15 K: scale by everything that crossed the boundary
        scale = abs(b.E_in) + abs(b.E_out) + abs(rep.tallies[name]["heat_recovered"])
        assert abs(b.residual) <= 1e-12 * scale, (name, b.residual, scale)
        x = rep.exergy[name]
        assert x.destruction > 0.0 and not x.violates_second_law, (name, x.destruction)


def test_outlets_follow_the_relation(run):
    """At every output: Q = ε C_min (T_hot,in - T_cold,in) with secant capacity rates, the
    outlets carry it, and a side without flow leaves unchanged."""
    _, sol = run
    s = sol.signals
    m_h, m_c = s["w2.outlet.m_flow"], s["w3.outlet.m_flow"]
    Th, Tc = s["w2.outlet.T"], s["w3.outlet.T"]
    Q = 0.7 * np.minimum(m_h, m_c) * WATER.cp_a * (Th - Tc)
    np.testing.assert_allclose(s["const.Q_flow"], Q, rtol=1e-12, atol=1e-9)
    flowing = m_h > 0
    m_safe = np.where(flowing, m_h, 1.0)
    np.testing.assert_allclose(s["const.hot_out.T"][flowing], (Th - Q / (m_safe * WATER.cp_a))[flowing], atol=1e-9)
    assert np.any(~flowing) and np.all(s["const.hot_out.T"][~flowing] == Th[~flowing])
    assert np.any(Q < 0) and np.any(Q > 0)  # the heat flow reversed with the inlet temperatures
    # the air side: the heat the air gains is the enthalpy rise of NASA-polynomial air
    air = s["air.outlet.m_flow"] > 0
    h_in = np.asarray(AIR.h(a(s["air.outlet.T"]), a(AIR_Y)))
    h_out = np.asarray(AIR.h(a(s["ntu.cold_out.T"]), a(AIR_Y)))
    np.testing.assert_allclose((s["air.outlet.m_flow"] * (h_out - h_in))[air], s["ntu.Q_flow"][air], rtol=1e-9,
                               atol=1e-6)
    assert np.all((s["ntu.effectiveness"] >= 0) & (s["ntu.effectiveness"] <= 1))


# ------------------------------------------------------------------ scenario type
SCENARIO = textwrap.dedent("""\
    name: eps-ntu
    duration: 1 h
    output_interval: 10 min
    components:
      hot: {type: source, fluid: water, mass_flow: 5 kg/s, temperature: 40 degC}
      cold: {type: source, fluid: water, mass_flow: 4 kg/s, temperature: 20 degC}
      hx: {type: effectiveness_exchanger, hot_fluid: water, cold_fluid: water, arrangement: crossflow_hot_mixed,
           effectiveness_nominal: 0.6, hot_flow_nominal: 5 kg/s, cold_flow_nominal: 4 kg/s,
           hot_exponent: 0.8, cold_exponent: 0.8}
      d1: {type: stack}
      d2: {type: stack}
    connections:
      - [hot.outlet, hx.hot_in]
      - [hx.hot_out, d1.inlet]
      - [cold.outlet, hx.cold_in]
      - [hx.cold_out, d2.inlet]
    """)


def test_scenario_sizes_ua_from_the_nominal_effectiveness(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    sc = check_scenario(path)
    hx = sc.plant.components["hx"]
    assert isinstance(hx, EffectivenessNTUExchanger) and hx.arrangement == "crossflow_hot_mixed"
    c_c = 4 * WATER.cp_a  # the cold side (4 kg/s against 5) is C_min: the hot side, C_max, is mixed
    assert float(hx.UA_nominal) == pytest.approx(c_c * ntu_for_effectiveness(0.6, 0.8, "crossflow_cmax_mixed"),
                                                 rel=1e-12)
    assert sc.parameters["hx.hot_exponent"].field == "n_hot"
    hx_entry = SCENARIO[SCENARIO.index("  hx:"):SCENARIO.index("  d1:")]
    constant = SCENARIO.replace(hx_entry, "  hx: {type: effectiveness_exchanger, hot_fluid: water, cold_fluid: water, "
                                          "effectiveness: 60 %}\n")
    path.write_text(constant)
    hx = check_scenario(path).plant.components["hx"]
    assert isinstance(hx, ConstantEffectivenessExchanger) and float(hx.effectiveness_value) == 0.6
    path.write_text(constant.replace("effectiveness: 60 %", "effectiveness: 60 %, arrangement: counterflow"))
    with pytest.raises(ScenarioError, match="belong to the ε-NTU model"):
        check_scenario(path)
    path.write_text(SCENARIO.replace("effectiveness_nominal: 0.6", "effectiveness_nominal: 0.6, UA: 5 kW/K"))
    with pytest.raises(ScenarioError, match="give one of"):
        check_scenario(path)
    path.write_text(SCENARIO.replace("hot_flow_nominal: 5 kg/s, ", ""))
    with pytest.raises(ScenarioError, match="needs hot_flow_nominal"):
        check_scenario(path)
    path.write_text(SCENARIO.replace("0.6", "0.99"))  # beyond cross-flow's reach at C_r = 0.8
    with pytest.raises(ScenarioError, match="not reachable"):
        check_scenario(path)
