"""The PCM bank's two heat-transfer-fluid models converge to one answer along the channel.

* With no hold-up (``quasi_steady``) each channel cell is marched in closed form: against a
  surface at uniform temperature the outlet follows ``T_s + (T_in - T_s) exp(-NTU)`` exactly.
* With a hold-up per cell (``dynamic``) each cell is well mixed, which under-states the mean
  driving temperature difference by O(1/n_channel).
So at equal n the quasi-steady bank charges faster, and the gap closes (first order) as n grows.
Both close their energy balance to round-off, also with no flow (the stagnant fluid then
passes the shell loss on in series).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from twin.audit import audit
from twin.components.boundaries import Source, Stack
from twin.components.pcm_bank import PCMBank
from twin.core.component import Context
from twin.core.plant import build_plant
from twin.core.schedule import Schedule
from twin.core.solve import SolverConfig, simulate
from twin.core.stream import Stream
from twin.thermo.fluids import THERMINOL_66 as OIL
from twin.thermo.fluids import WATER
from twin.thermo.pcm import load_material

a = lambda v: jnp.asarray(v, dtype=float)  # noqa: E731
H = 3600.0
NAMES = [(mode, n) for mode in ("quasi_steady", "dynamic") for n in (5, 10)]


def _bank(mode, n, fluid=OIL, UA_loss=30.0, M_fluid=10.0, T0=573.15):
    return PCMBank(material=load_material("NaNO3"), mass=a(3000.0), thickness=a(0.02),
                   h_conv=a(250.0), M_fluid=a(M_fluid if mode == "dynamic" else 0.0),
                   UA_loss=a(UA_loss), T_initial=a(T0), fluid=fluid, n_channel=n, n_nodes=3,
                   fluid_dynamics=mode)


@pytest.fixture(scope="module")
def run():
    """Four banks side by side (one compile): 2 h charging with oil at 330 degC, then 1 h stagnant."""
    comps, conns = {}, []
    for mode, n in NAMES:
        k = f"{mode}_{n}"
        flow = Schedule(a([0.0, 2 * H]), a([4.0, 0.0]))
        comps[f"src_{k}"] = Source(m_flow=flow, T=Schedule.constant(603.15), Y=jnp.zeros(0), fluid=OIL)
        comps[k] = _bank(mode, n)
        comps[f"drain_{k}"] = Stack(fluid=OIL)
        conns += [(f"src_{k}.outlet", f"{k}.inlet"), (f"{k}.outlet", f"drain_{k}.inlet")]
    plant = build_plant(comps, conns, Schedule.constant(288.15))
    sol = simulate(plant, 3 * H, 60.0, SolverConfig(rtol=1e-8, atol=1e-8))
    assert sol.success, sol.message
    return plant, sol


def test_quasi_steady_outlet_is_the_exact_exponential():
    """Against a uniform surface temperature (PCM at rest, no shell loss), the marched outlet is
    T_s + (T_in - T_s) exp(-sum G0 / (m cp)) for a constant-cp fluid (water): to round-off."""
    bank = _bank("quasi_steady", 8, fluid=WATER, UA_loss=0.0, T0=350.0)
    x = bank.initial_state()
    m, T_in = 3.0, 370.0
    inlet = Stream(a(m), a(T_in), WATER.h(a(T_in)), jnp.zeros(0))
    out = bank.outlet(Context(t=a(0.0), T_ambient=a(288.15), T0=a(288.15)), x, "outlet", {"inlet": inlet})
    T_p, xi = bank.material.T_and_liquid_fraction(x.h_pcm)
    G0, _ = bank._conductances(xi)
    T_s = float(T_p[0, 0])
    expected = T_s + (T_in - T_s) * np.exp(-float(jnp.sum(G0)) / (m * WATER.cp_a))
    assert float(out.T) == pytest.approx(expected, abs=1e-9)


def test_modes_converge_along_the_channel(run):
    plant, sol = run
    i_end = np.searchsorted(sol.ts, 2 * H)  # end of charging
    lf = {k: sol.signals[f"{k[0]}_{k[1]}.liquid_fraction"][i_end] for k in NAMES}
    assert lf[("quasi_steady", 5)] > 0.3  # the banks did charge
    # well-mixed cells under-state the driving temperature difference: they charge less
    for n in (5, 10):
        assert lf[("quasi_steady", n)] > lf[("dynamic", n)]
    gap5 = lf[("quasi_steady", 5)] - lf[("dynamic", 5)]
    gap10 = lf[("quasi_steady", 10)] - lf[("dynamic", 10)]
    assert gap10 < 0.7 * gap5  # first order in 1/n: the gap about halves
    # the closed-form march depends much less on n than the well-mixed cells do
    assert abs(lf[("quasi_steady", 5)] - lf[("quasi_steady", 10)]) < 0.5 * abs(lf[("dynamic", 5)] - lf[("dynamic", 10)])


def test_both_modes_close_energy_with_and_without_flow(run):
    plant, sol = run
    rep = audit(plant, plant.initial_state(), sol.y_final)
    assert rep.plant.closure < 1e-12
    for mode, n in NAMES:
        bal = rep.components[f"{mode}_{n}"]
        assert bal.closure < 1e-12
        assert bal.flows["shell_loss"] < 0  # heat only leaves through the shell
