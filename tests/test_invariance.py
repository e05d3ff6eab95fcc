"""Invariances a trusted simulator must keep (issue 7): the spelling of a quantity, the order
of the file and a repeated run change nothing, bit for bit; scaling every extensive
parameter by k scales every energy by k and leaves every temperature alone.

All runs are of the sweep tests' small plant (a source feeding a scheduled heat demand) and
share its one compiled solver: reordering and scaling keep the plant's structure.
"""

import jax
import numpy as np
import pytest
from conftest import SWEEP_PLANT

from twin.core import solve
from twin.run import run_scenario
from twin.scenario.build import load_scenario

K = 3.0
ENERGY_KPIS = ("energy_in", "heat_delivered", "stack_loss", "storage_change", "exergy_supplied",
               "exergy_destroyed", "exergy_delivered")


def _write(tmp_path, name, text):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def _leaves(scenario):
    return jax.tree_util.tree_leaves(scenario.plant)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path = _write(tmp_path_factory.mktemp("inv"), "small", SWEEP_PLANT)
    return path, run_scenario(load_scenario(path))


@pytest.mark.parametrize("field, spellings", [
    ("temperature: 80 degC", ["temperature: 353.15 K", "temperature: 176 degF"]),
    ("mass_flow: 2 kg/s", ["mass_flow: 7.2 t/h", "mass_flow: 2000 g/s"]),
    ("nominal: 50 kW", ["nominal: 50000 W", "nominal: 0.05 MW"]),
    ("initial_temperature: 60 degC", ["initial_temperature: 333.15 K"]),
])
def test_spellings_of_a_quantity_give_bitwise_identical_inputs(tmp_path, field, spellings):
    ref = _leaves(load_scenario(_write(tmp_path, "ref", SWEEP_PLANT)))
    for k, other in enumerate(spellings):
        assert field in SWEEP_PLANT
        got = _leaves(load_scenario(_write(tmp_path, f"v{k}", SWEEP_PLANT.replace(field, other))))
        assert len(got) == len(ref)
        for a, b in zip(ref, got):
            assert np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b), (other, a, b)


def test_order_of_the_file_changes_nothing(base, tmp_path):
    path, ref = base
    lines = SWEEP_PLANT.splitlines()
    comps = lines.index("components:")
    conns = lines.index("connections:")
    # components in reverse order (the user's entry spans two lines), connections swapped
    supply, user, drain = lines[comps + 1], lines[comps + 2:comps + 4], lines[comps + 4]
    shuffled = [*lines[:comps + 1], drain, *user, supply, lines[conns], *lines[conns + 1:][::-1]]
    assert sorted(shuffled) == sorted(lines)
    n0 = solve.COMPILE_COUNT
    other = run_scenario(load_scenario(_write(tmp_path, "shuffled", "\n".join(shuffled) + "\n")))
    assert solve.COMPILE_COUNT == n0  # the same structure: the same compiled solver
    assert other.kpis.keys() == ref.kpis.keys()
    for k, v in ref.kpis.items():
        assert np.array_equal(v, other.kpis[k], equal_nan=True), k
    for a, b in zip(jax.tree_util.tree_leaves(ref.solution.ys), jax.tree_util.tree_leaves(other.solution.ys)):
        assert np.array_equal(a, b)


def test_the_same_run_twice_is_bitwise_identical(base):
    path, ref = base
    again = run_scenario(load_scenario(path))
    for a, b in zip(jax.tree_util.tree_leaves(ref.solution.ys), jax.tree_util.tree_leaves(again.solution.ys)):
        assert np.array_equal(a, b)
    assert ref.solution.stats["num_steps"] == again.solution.stats["num_steps"]


def test_extensive_parameters_scale_energies_not_temperatures(base, tmp_path):
    """Flows, demand and hold-up times k: every state stays an intensive quantity (the
    hold-up's specific enthalpy), so the solver takes the same steps and every energy
    integral is k times larger to round-off."""
    path, ref = base
    scaled = (SWEEP_PLANT.replace("mass_flow: 2 kg/s", f"mass_flow: {2 * K:g} kg/s")
              .replace("nominal: 50 kW", f"nominal: {50 * K:g} kW")
              .replace("fluid_holdup: 100 kg", f"fluid_holdup: {100 * K:g} kg"))
    assert all(x in scaled for x in ("6 kg/s", "150 kW", "300 kg")), scaled
    big = run_scenario(load_scenario(_write(tmp_path, "scaled", scaled)))
    assert big.solution.stats["num_steps"] == ref.solution.stats["num_steps"]
    for k in ENERGY_KPIS:
        assert big.kpis[k] == pytest.approx(K * ref.kpis[k], rel=1e-12, abs=1e-6), k
    for name, sig in ref.solution.signals.items():
        if name.endswith(".T"):
            # round-off of k-scaled arithmetic (measured 6e-13), far below the solver tolerance (1e-8)
            np.testing.assert_allclose(big.solution.signals[name], sig, rtol=1e-11, err_msg=name)
    assert ref.kpis["heat_delivered"] > 0 and big.kpis["energy_closure"] < 1e-12
