"""Options the storage and pipe validation cases needed (ST-1, ST-2, PIPE-1, PIPE-2):
the tank's quadratic (Buildings) buoyancy law, insulation shell and adiabatic floor; the
pipe's wall heat capacity lumped into end volumes, and the insulation and wall-capacity
helpers. Each against its formula, an invariant (energy to round-off, a uniform tank stays
uniform) and an analytic response (a first-order wall lag)."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

from twin.audit import audit
from twin.components.boundaries import Source, Stack
from twin.components.pipe import Pipe, insulation_conductance, wall_heat_capacity
from twin.components.tank import StratifiedTank
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.thermo.fluids import WATER

a = lambda v: jnp.asarray(v, dtype=float)
T_AMB = 293.15


def _tank(**kw):
    base = {"volume": a(3.0), "height": a(3.0), "U_loss": a(0.0), "k_fluid": a(0.6), "tau_buoyancy": a(1.0),
            "T_initial": a(T_AMB), "fluid": WATER, "n_layers": 10, "buoyancy": "quadratic"}
    return StratifiedTank(**(base | kw))


# ------------------------------------------------------------------ tank: formulas
def test_insulation_conductances_are_buildings_partial_stratified():
    """VTan 3 m3, hTan 3 m, dIns 0.3 m, kIns 0.04 (Buildings Storage.Examples.Stratified)."""
    tank = _tank(d_insulation=a(0.3), k_insulation=a(0.04), floor_loss=False)
    G = np.asarray(tank.envelope_conductance())
    r = math.sqrt(1.0 / math.pi)
    mantle = 2 * math.pi * 0.04 * 0.3 / math.log((r + 0.3) / r)  # conWal per segment
    lid = 1.0 * 0.04 / 0.3  # conTop = ATan kIns / dIns
    np.testing.assert_allclose(G, [mantle + lid] + [mantle] * 9, rtol=1e-14)  # floor adiabatic
    with_floor = np.asarray(_tank(d_insulation=a(0.3), k_insulation=a(0.04)).envelope_conductance())
    assert with_floor[-1] == pytest.approx(mantle + lid, rel=1e-14)


def test_default_envelope_is_unchanged_and_options_are_checked():
    tank = _tank(U_loss=a(0.5), buoyancy="linear")
    A_cross, D = 1.0, math.sqrt(4.0 / math.pi)
    side = math.pi * D * 0.3
    expected = [side + A_cross] + [side] * 8 + [side + A_cross]
    np.testing.assert_allclose(tank.envelope_conductance(), 0.5 * np.asarray(expected), rtol=1e-14)
    no_floor = _tank(U_loss=a(0.5), floor_loss=False).envelope_conductance()
    assert float(no_floor[-1]) == pytest.approx(0.5 * side)
    with pytest.raises(ValueError, match="buoyancy"):
        _tank(buoyancy="cubic")
    with pytest.raises(ValueError, match="d_insulation and k_insulation"):
        _tank(d_insulation=a(0.1))


# ------------------------------------------------------------------ tank: dynamics (one plant)
@pytest.fixture(scope="module")
def tanks():
    """Three closed tanks in one plant (one compile): ``uniform`` at the ambient temperature,
    ``inverted`` (cold over hot, adiabatic) and ``insulated`` (warm, insulated, adiabatic
    floor, scheduled ambient), all with Buildings' buoyancy at tau = 1 s."""
    hot_below = [T_AMB] * 5 + [T_AMB + 40.0] * 5
    comps = {"uniform": _tank(), "inverted": _tank(T_initial=a(hot_below)),
             "insulated": _tank(T_initial=a(T_AMB + 40.0), d_insulation=a(0.05), k_insulation=a(0.04),
                                floor_loss=False)}
    conns = []
    for name in list(comps):
        for port_in, port_out in (("hot_in", "cold_out"), ("cold_in", "hot_out")):
            comps[f"{name}_{port_in}"] = Source(m_flow=Schedule.constant(0.0), T=Schedule.constant(T_AMB),
                                                Y=jnp.zeros(0), fluid=WATER)
            comps[f"{name}_{port_out}"] = Stack(fluid=WATER)
            conns += [(f"{name}_{port_in}.outlet", f"{name}.{port_in}"), (f"{name}.{port_out}", f"{name}_{port_out}.inlet")]
    ambient = Schedule(a([0.0, 3600.0]), a([T_AMB, T_AMB - 10.0]), kind="linear")
    plant = build_plant(comps, conns, ambient)
    sol = simulate(plant, 7200.0, 60.0, SolverConfig(rtol=1e-9, atol=1e-9))
    assert sol.success, sol.message
    return plant, sol


def test_quadratic_buoyancy_leaves_equal_layers_alone(tanks):
    """Buildings' law is exactly zero without an inversion (no offset from a smoothing), so
    an adiabatic uniform tank stays uniform to round-off, even at tau = 1 s."""
    _, sol = tanks
    np.testing.assert_allclose(sol.signals["uniform.T"], T_AMB, rtol=0, atol=1e-10)


def test_quadratic_buoyancy_mixes_an_inversion_to_the_mean_conserving_energy(tanks):
    plant, sol = tanks
    T = sol.signals["inverted.T"]
    np.testing.assert_allclose(T.mean(axis=1), T_AMB + 20.0, rtol=0, atol=1e-9)  # equal layer masses
    spread = T.max(axis=1) - T.min(axis=1)
    # mixed within minutes; k dT^2 fades with the inversion, so a few mK of it are left
    assert spread[0] == pytest.approx(40.0) and spread[-1] < 0.02
    assert np.all(np.diff(spread) <= 1e-9)  # mixing never re-separates
    rep = audit(plant, plant.initial_state(), sol.y_final)
    assert abs(rep.components["inverted"].dE_stored) < 1e-9 * 3 * 995.586 * 4184 * 40


def test_insulated_tank_loses_what_its_conductances_say_and_closes_energy(tanks):
    plant, sol = tanks
    tank = plant.components["insulated"]
    G = np.asarray(tank.envelope_conductance())
    # at t = 0 every layer is 40 K above the ambient: loss = sum(G) 40 K
    assert sol.signals["insulated.Q_flow_loss"][0] == pytest.approx(G.sum() * 40.0, rel=1e-12)
    rep = audit(plant, plant.initial_state(), sol.y_final)
    b = rep.components["insulated"]
    loss = -b.flows["envelope_loss"]
    assert loss > 0 and abs(b.residual) < 1e-12 * loss  # nothing enters: relative to the loss
    assert abs(rep.plant.residual) < 1e-12 * loss and not rep.second_law_violations()
    # the bottom layer (adiabatic floor) cools least of the outer layers: only its mantle loses
    T_end = sol.signals["insulated.T"][-1]
    assert T_end[-1] > T_end[0]


# ------------------------------------------------------------------ pipe: formulas
def test_pipe_helpers_reproduce_buildings_numbers():
    # Buildings Examples.PlugFlowPipe: dh 0.1, wall 3.2 mm, dIns 0.05, kIns 0.028, steel 500/8000
    R = 1.0 / float(insulation_conductance(0.1 + 2 * 0.0032, 0.05, 0.028))
    assert R == pytest.approx(math.log(0.2064 / 0.1064) / (2 * math.pi * 0.028), rel=1e-14)
    assert 10 + 60 * math.exp(-100 / (R * 3 * 4184)) == pytest.approx(69.873, abs=5e-4)  # its steady outlet
    C = wall_heat_capacity(0.1, 0.0032, 100.0, 8000.0, 500.0)
    assert C == pytest.approx(100 * math.pi / 4 * (0.1064**2 - 0.1**2) * 4e6, rel=1e-14)
    # PlugFlowULg: outer 0.0603 m, 13 mm at k 0.04, outer film 5 W/(m2 K): U = 0.462 W/(m K)
    assert float(insulation_conductance(0.0603, 0.013, 0.04, h_outer=5.0)) == pytest.approx(0.462, abs=5e-4)


# ------------------------------------------------------------------ pipe: wall dynamics (one plant)
L, D, M_FLOW, N = 50.0, 0.1, 2.0, 200
TAU = WATER.rho * math.pi / 4 * D**2 * L / M_FLOW  # transport time, 195.5 s
C_WALL = 0.25 * WATER.rho * math.pi / 4 * D**2 * L * WATER.cp_a  # a quarter of the water's capacity
TAU_WALL = C_WALL / (M_FLOW * WATER.cp_a)  # 48.9 s
T0, T1, T_STEP = 323.15, 343.15, 100.0


@pytest.fixture(scope="module")
def pipes():
    """Adiabatic pipes after an inlet step: wall all at the outlet, wall split (Buildings'
    symmetric default), and a lossy pipe with the split wall."""
    def pipe(U, symmetric):
        return Pipe(length=a(L), diameter=a(D), U_loss=a(U), T_surroundings=Schedule.constant(283.15),
                    T_initial=a(T0), fluid=WATER, n_cells=N, C_wall=a(C_WALL), wall_symmetric=symmetric)

    comps = {"outlet_wall": pipe(0.0, False), "split_wall": pipe(0.0, True), "lossy": pipe(0.3, True)}
    conns = []
    for name in list(comps):
        comps[f"{name}_src"] = Source(m_flow=Schedule.constant(M_FLOW), T=Schedule(a([0.0, T_STEP]), a([T0, T1])),
                                      Y=jnp.zeros(0), fluid=WATER)
        comps[f"{name}_sink"] = Stack(fluid=WATER)
        conns += [(f"{name}_src.outlet", f"{name}.inlet"), (f"{name}.outlet", f"{name}_sink.inlet")]
    plant = build_plant(comps, conns, Schedule.constant(283.15))
    sol = simulate(plant, 1200.0, 1.0, SolverConfig(rtol=1e-9, atol=1e-9))
    assert sol.success, sol.message
    return plant, sol


def test_wall_at_the_outlet_is_a_first_order_lag_after_the_transport_delay(pipes):
    _, sol = pipes
    t, T = sol.ts, sol.signals["outlet_wall.outlet.T"]
    frac = (T - T0) / (T1 - T0)
    # the exact response: 1 - exp(-(t - T_STEP - TAU) / TAU_WALL) after the plug arrives; the
    # MUSCL front spreads it by a few cells, so compare where that matters least: late
    for k in (1.0, 2.0, 3.0):
        i = int(np.searchsorted(t, T_STEP + TAU + k * TAU_WALL))
        assert frac[i] == pytest.approx(1.0 - math.exp(-k), abs=0.02)
    assert frac.min() > -1e-3 and frac.max() < 1.0 + 1e-3  # no over- or undershoot
    assert np.asarray(sol.signals["outlet_wall.T_wall"]).shape == (t.size, 1)


def test_mean_delay_is_the_transport_time_plus_the_wall_time_constant(pipes):
    """With no loss, energy fixes the first moment of the step response whatever the scheme:
    int (1 - frac) dt = (M_fluid + C_wall / cp) / m = TAU + TAU_WALL, for either wall split."""
    _, sol = pipes
    t = sol.ts
    for name in ("outlet_wall", "split_wall"):
        frac = (sol.signals[f"{name}.outlet.T"] - T0) / (T1 - T0)
        late = t >= T_STEP
        mean_delay = np.trapezoid(1.0 - frac[late], t[late])
        assert mean_delay == pytest.approx(TAU + TAU_WALL, rel=2e-3), name
        assert frac[-1] == pytest.approx(1.0, abs=1e-6)


def test_split_wall_makes_an_s_shaped_front_and_energy_closes(pipes):
    plant, sol = pipes
    t = sol.ts
    split = (sol.signals["split_wall.outlet.T"] - T0) / (T1 - T0)
    outlet = (sol.signals["outlet_wall.outlet.T"] - T0) / (T1 - T0)
    i = int(np.searchsorted(t, T_STEP + TAU + 5.0))
    assert split[i] < 0.5 * outlet[i]  # two half lags start slower than one full lag
    rep = audit(plant, plant.initial_state(), sol.y_final)
    for name in ("outlet_wall", "split_wall", "lossy"):
        assert rep.components[name].closure < 1e-12, name
    assert rep.components["lossy"].flows["heat_loss"] < 0
    assert rep.exergy["lossy"].destruction > 0 and not rep.second_law_violations()
    # the wall volumes end at the outlet temperature of their own water
    T_wall = sol.signals["split_wall.T_wall"][-1]
    np.testing.assert_allclose(T_wall, T1, atol=1e-6)


# ------------------------------------------------------------------ the options in scenario files
SCENARIO = """\
name: options
duration: 1 h
components:
  heater: {type: source, fluid: water, mass_flow: 0.5 kg/s, temperature: 70 degC}
  line: {type: pipe, fluid: water, length: 39 m, diameter: 52.48 mm, U_loss: 0.462 W/m/K,
         initial_temperature: 20 degC, wall_heat_capacity: 108 kJ/K, wall_symmetric: false}
  tank: {type: stratified_tank, fluid: water, volume: 3 m^3, height: 3 m, layers: 10,
         buoyancy: quadratic, buoyancy_time_constant: 1 s, insulation_thickness: 30 cm,
         insulation_conductivity: 0.04 W/m/K, floor_loss: false, initial_temperature: 20 degC}
  user: {type: source, fluid: water, mass_flow: 0 kg/s, temperature: 20 degC}
  drain: {type: stack}
  sink: {type: stack}
connections:
  - [heater.outlet, line.inlet]
  - [line.outlet, tank.hot_in]
  - [tank.cold_out, drain.inlet]
  - [user.outlet, tank.cold_in]
  - [tank.hot_out, sink.inlet]
"""


def test_scenario_files_reach_the_options_and_check_them(tmp_path):
    from twin.scenario.build import load_scenario
    from twin.scenario.errors import ScenarioError

    path = tmp_path / "options.yaml"
    path.write_text(SCENARIO)
    sc = load_scenario(path, ["line.wall_heat_capacity=120 kJ/K", "tank.insulation_thickness=20 cm"])
    line, tank = sc.plant.components["line"], sc.plant.components["tank"]
    assert float(line.C_wall) == pytest.approx(120e3) and not line.wall_symmetric
    assert tank.buoyancy == "quadratic" and not tank.floor_loss
    assert float(tank.d_insulation) == pytest.approx(0.2) and float(tank.k_insulation) == pytest.approx(0.04)
    path.write_text(SCENARIO.replace(" insulation_conductivity: 0.04 W/m/K,", ""))
    with pytest.raises(ScenarioError, match="insulation_thickness and insulation_conductivity"):
        load_scenario(path)
