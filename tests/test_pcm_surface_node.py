"""PCM bank with a surface node (``surface_node=True``, twin.components.pcm_bank).

The first node sits on the channel-side surface and holds half of the first control volume,
as Modelica Buildings' ``Buildings.HeatTransfer.Conduction.SingleLayer`` with
``stateAtSurface_a = true, stateAtSurface_b = false`` (node masses and resistances ``m`` and
``RNod`` of that model, Buildings 7+); validation case PCM-2 compares the whole slab with
Buildings' ConductorSingleLayerPCM. Here: the layout against Buildings' formulas, a
sensible step response against the exact solution of the same conduction network, energy
closure to round-off, mass-weighted signals, the scenario field, grad and vmap.
"""

from __future__ import annotations

import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.linalg import expm

from twin.audit import audit
from twin.components.boundaries import Source, Stack
from twin.components.pcm_bank import PCMBank
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.scenario.build import load_scenario
from twin.scenario.errors import ScenarioError
from twin.thermo.fluids import WATER
from twin.thermo.pcm import load_material

MASS, THICKNESS, H_CONV, N_CHANNEL = 16.0, 0.02, 50.0, 2  # RT44HC: area = 16 / (800 * 0.02) = 1 m2
T0, T_HOT, T_STEP = 293.15, 303.15, 600.0  # RT44HC melts above 37.8 degC: sensible only


def a(v):
    return jnp.asarray(v, dtype=float)


def bank(n_nodes=4, surface_node=True, h_conv=H_CONV, **kw):
    return PCMBank(material=load_material("RT44HC"), mass=a(MASS), thickness=a(THICKNESS), h_conv=a(h_conv),
                   M_fluid=a(0.0), UA_loss=a(0.0), T_initial=a(T0), fluid=WATER, n_channel=N_CHANNEL,
                   n_nodes=n_nodes, fluid_dynamics="quasi_steady", surface_node=surface_node, **kw)


@pytest.mark.parametrize("n", [2, 3, 4, 7])
def test_layout_is_buildings_single_layer(n):
    """Masses m_i = A x d / (2 (n-1)) for i = 1, 2 and A x d / (n-1) beyond; resistances from
    the surface RNod_2 = R / (2 (n-1)), then R / (n-1); the film alone to the surface node."""
    b = bank(n)
    per_channel = MASS / N_CHANNEL
    m_buildings = per_channel * np.array([1 / (2 * (n - 1)) if i < 2 else 1 / (n - 1) for i in range(n)])
    np.testing.assert_allclose(np.broadcast_to(b._node_mass(), (n,)), m_buildings, rtol=1e-14)
    xi = jnp.zeros((N_CHANNEL, n))
    G0, G = b._conductances(xi)
    A_c = float(b.area) / N_CHANNEL
    R = THICKNESS / (0.2 * A_c)  # k = 0.2 W/(m K) in both phases
    r_nod = np.array([R / (2 * (n - 1)) if i == 0 else R / (n - 1) for i in range(n - 1)])
    np.testing.assert_allclose(np.asarray(G), np.broadcast_to(1.0 / r_nod, (N_CHANNEL, n - 1)), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(G0), H_CONV * A_c, rtol=1e-14)


def test_surface_node_needs_two_nodes():
    with pytest.raises(ValueError, match="n_nodes >= 2"):
        bank(1)


def _network(t):
    """Exact node temperatures of the 4-node network (linear below the melting range) after
    the channel steps from T0 to T_HOT at T_STEP. [K]"""
    n, dx = 4, THICKNESS / 3
    rho, cp, k = 800.0, 2000.0, 0.2
    cap = rho * cp * dx * np.array([0.5, 0.5, 1.0, 1.0])  # per m2
    g = k / (dx * np.array([0.5, 1.0, 1.0]))
    A = np.zeros((n, n))
    for j, gj in enumerate(g):
        A[j:j + 2, j:j + 2] += gj * np.array([[-1.0, 1.0], [1.0, -1.0]])
    A[0, 0] -= H_CONV
    A /= cap[:, None]
    return np.array([np.full(n, T0) if ti <= T_STEP else T_HOT + expm(A * (ti - T_STEP)) @ np.full(n, T0 - T_HOT)
                     for ti in t])


@pytest.fixture(scope="module")
def step_run():
    hot = Schedule(jnp.asarray([0.0, T_STEP]), jnp.asarray([T0, T_HOT]))
    plant = build_plant({"pcm": bank(), "src": Source(m_flow=Schedule.constant(1000.0), T=hot, Y=jnp.zeros(0),
                                                      fluid=WATER), "drain": Stack(fluid=WATER)},
                        [("src.outlet", "pcm.inlet"), ("pcm.outlet", "drain.inlet")], Schedule.constant(T0))
    sol = simulate(plant, 4 * 3600.0, 300.0, SolverConfig(rtol=1e-9, atol=1e-9))
    assert sol.success, sol.message
    return plant, sol


def test_step_response_equals_the_conduction_network(step_run):
    """Both channels follow the exact network solution: the 1000 kg/s channel's cells sit
    Q / (m cp) ~ 3e-5 and 9e-5 K below the inlet just after the step (measured 2.5e-5 K)."""
    _, sol = step_run
    exact = _network(sol.ts)
    T = sol.signals["pcm.T_pcm"]
    for c in range(N_CHANNEL):
        np.testing.assert_allclose(T[:, c, :], exact, rtol=0, atol=2e-4)
    assert T[-1, 0, 0] - T0 > 5.0  # the surface node took most of the step


def test_energy_closes_and_signals_are_mass_weighted(step_run):
    plant, sol = step_run
    rep = audit(plant, plant.initial_state(), sol.y_final)
    b = rep.components["pcm"]
    assert b.dE_stored > 1e5 and b.closure < 1e-12
    pcm = plant.components["pcm"]
    mat = pcm.material
    h_lo, h_hi = float(mat.h(mat.T_solidus - 10.0)), float(mat.h(mat.T_liquidus + 10.0))
    k = int(np.argmin(np.abs(sol.ts - (T_STEP + 300.0))))  # steep profile shortly after the step
    h = np.asarray(sol.ys["components"]["pcm"].h_pcm[k])
    E = float(np.sum(np.broadcast_to(pcm._node_mass(), h.shape) * h))
    assert float(sol.signals["pcm.E_stored"][k]) == pytest.approx(E, rel=1e-13)
    soc = (E / MASS - h_lo) / (h_hi - h_lo)  # mass-weighted, not a plain mean over nodes
    assert float(sol.signals["pcm.state_of_charge"][k]) == pytest.approx(soc, rel=1e-12)
    assert abs(soc - ((h.mean() - h_lo) / (h_hi - h_lo))) > 1e-4
    assert float(np.max(sol.signals["pcm.liquid_fraction"])) == 0.0


def test_grad_and_vmap_through_the_surface_film():
    """d(dh_surface/dt)/d h_conv = A_c (T_f - T_s) / m_surface at the start of the step, and
    a vmap over h_conv equals calls one by one."""
    plant = build_plant({"pcm": bank(), "src": Source(m_flow=Schedule.constant(1000.0), T=Schedule.constant(T_HOT),
                                                      Y=jnp.zeros(0), fluid=WATER), "drain": Stack(fluid=WATER)},
                        [("src.outlet", "pcm.inlet"), ("pcm.outlet", "drain.inlet")], Schedule.constant(T0))
    y0 = plant.initial_state()

    def surface_rate(h_conv):
        p = eqx.tree_at(lambda q: q.components["pcm"].h_conv, plant, h_conv)
        return p.vector_field(0.0, y0)["components"]["pcm"].h_pcm[0, 0]

    g = jax.jit(jax.grad(surface_rate))(a(H_CONV))
    b = plant.components["pcm"]
    A_c, m_s = float(b.area) / N_CHANNEL, float(np.asarray(b._node_mass())[0])
    assert float(g) == pytest.approx(A_c * (T_HOT - T0) / m_s, rel=1e-4)  # fluid ~1e-5 K below T_HOT
    hs = jnp.asarray([10.0, 50.0, 200.0])
    batch = jax.jit(jax.vmap(surface_rate))(hs)
    # (the quasi-steady march's tiny NTU amplifies round-off differently under vmap: ~5e-9)
    np.testing.assert_allclose(batch, [float(surface_rate(h)) for h in hs], rtol=1e-7)


SCENARIO = textwrap.dedent("""\
    name: surface-node
    duration: 1 h
    output_interval: 10 min
    ambient: {temperature: 20 degC}
    components:
      src: {type: source, fluid: water, mass_flow: 1 kg/s, temperature: 30 degC}
      b: {type: pcm_bank, material: RT44HC, mass: 16 kg, thickness: 20 mm, h_conv: 50 W/m^2/K,
          fluid: water, fluid_dynamics: quasi_steady, channels: 2, nodes: NODES,
          initial_temperature: 20 degC EXTRA}
      drain: {type: stack}
    connections:
      - [src.outlet, b.inlet]
      - [b.outlet, drain.inlet]
    """)


def test_scenario_field(tmp_path):
    def load(nodes, extra):
        path = tmp_path / "plant.yaml"
        path.write_text(SCENARIO.replace("NODES", str(nodes)).replace("EXTRA", extra))
        return load_scenario(path).plant.components["b"]

    assert load(4, ", surface_node: true").surface_node
    assert not load(4, "").surface_node
    with pytest.raises(ScenarioError, match="surface_node"):
        load(1, ", surface_node: true")
