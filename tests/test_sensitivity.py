"""Sensitivities (``twin sensitivity``): automatic derivatives through the scenario builder,
the solver, the audit and the KPIs must equal central finite differences, in both modes.

The plant is the sweep tests' small one (a source feeding a scheduled heat demand), solved at
rtol = atol = 1e-10 so that the finite differences (step 1e-5 relative: truncation ~1e-10,
solver noise ~1e-10 / 1e-5 = 1e-5 relative at worst) resolve 1e-4. The parameters cover the
three ways a path reaches the plant: a registered component parameter (``user.fluid_holdup``),
a field the builder copies without registering it (``supply.mass_flow``, given in the file
with a unit) and a value of a named schedule (``schedules.load.values.1``).

Compile cost: one forward-mode and one reverse-mode compile of a 3-state plant; the CLI test
reuses the forward one (same outputs and parameters, so the same compiled model).
"""

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SWEEP_PLANT

from twin.cli import main
from twin.scenario.build import load_scenario
from twin.scenario.errors import ScenarioError
from twin.sensitivity import Model, sensitivities

WRT = ("user.fluid_holdup", "supply.mass_flow", "schedules.load.values.1")
OF = ("heat_delivered", "exergy_destroyed", "exergy_efficiency", "user.return.T@30 min")
TIGHT = SWEEP_PLANT.replace("rtol: 1.0e-8, atol: 1.0e-8", "rtol: 1.0e-10, atol: 1.0e-10")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("sens") / "small.yaml"
    path.write_text(TIGHT)
    return path


@pytest.fixture(scope="module")
def forward(small):
    return sensitivities(load_scenario(small), WRT, OF, mode="forward", check=True)


def _significant(res):
    """Entries whose elasticity is above 1e-8 (the rest are zero up to round-off)."""
    theta = np.array([p.value for p in res.parameters])
    return np.abs(res.finite_difference * theta[None, :] / res.values[:, None]) > 1e-8


def test_forward_mode_matches_central_differences(forward):
    sig = _significant(forward)
    assert sig.sum() >= 8, sig  # most of the 4 x 3 entries are non-trivial
    err = forward.fd_relative_error[sig]
    print("relative differences to central FD:", np.array2string(forward.fd_relative_error, precision=1))
    assert np.all(err < 1e-4), err
    # the others are zero in both up to round-off (the 30-min outlet temperature does not see
    # the second hour's load level)
    theta = np.array([p.value for p in forward.parameters])
    assert np.all(np.abs(forward.jacobian * theta / forward.values[:, None])[~sig] < 1e-7)


def test_reverse_mode_equals_forward_mode(small, forward):
    rev = sensitivities(load_scenario(small), WRT, OF, mode="reverse")
    assert rev.mode == "reverse"
    np.testing.assert_allclose(rev.values, forward.values, rtol=1e-12)
    # the same derivative of the same discrete solution, by two routes: equal to round-off
    # relative to each output's largest entry
    scale = np.abs(forward.jacobian).max(axis=1, keepdims=True)
    assert np.all(np.abs(rev.jacobian - forward.jacobian) <= 1e-7 * scale)


def test_every_path_reaches_the_plant_affinely(forward):
    assert [p.path for p in forward.parameters] == list(WRT)
    assert all(p.affine for p in forward.parameters)
    assert [p.unit for p in forward.parameters] == ["kg", "kg/s", ""]  # as written, SI where absent
    # the second hour's demand is 0.5 x 50 kW: its level moves the heat delivered by about
    # 50 kW x 1 h per unit (less the little the hold-up buffers after the step)
    j = forward.jacobian[0, 2]
    assert 0.99 * 1.8e8 < j <= 1.8e8, j


def test_elasticities_are_relative_derivatives(forward):
    theta = np.array([p.value for p in forward.parameters])
    np.testing.assert_allclose(forward.elasticities, forward.jacobian * theta / forward.values[:, None])
    assert forward.wall_gradient > 0 and forward.wall_forward > 0


@pytest.mark.parametrize("wrt, of, field, words", [
    ("user.fluid_holdupp", "heat_delivered", "user.fluid_holdupp", "did you mean user.fluid_holdup"),
    ("schedules.load.times.1", "heat_delivered", "schedules.load.times.1", "sweep"),
    ("user.fluid_holdup", "recapture_rat", "recapture_rat", "did you mean recapture_rate"),
    ("user.fluid_holdup", "heat_recovery_target", "heat_recovery_target", "not differentiable"),
    ("user.fluid_holdup", "user.return.T@3 h", "user.return.T@3 h", "within the run"),
    ("user.fluid_holdup", "user.retrun.T@1 h", "user.retrun.T@1 h", "did you mean user.return.T"),
    ("duration", "heat_delivered", "duration", "a plant parameter"),
])
def test_bad_paths_and_outputs_are_named(small, wrt, of, field, words):
    with pytest.raises(ScenarioError) as exc:
        Model(load_scenario(small), [wrt], [of])
    assert field in str(exc.value) and words in str(exc.value), str(exc.value)


def test_cli_prints_table_and_writes_csv(small, forward, tmp_path):
    out = tmp_path / "sens.csv"
    args = ["sensitivity", str(small), *sum((["--of", o] for o in OF), []),
            *sum((["--wrt", w] for w in WRT), []), "--mode", "forward", "-o", str(out)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "elasticity" in res.output and "forward run" in res.output
    rows = out.read_text().splitlines()
    assert rows[0].startswith("output,parameter,derivative,elasticity") and len(rows) == 1 + 12
    bad = CliRunner().invoke(main, ["sensitivity", str(small), "--of", "heat_delivered", "--wrt", "nope.UA"])
    assert bad.exit_code == 2 and "nope.UA" in bad.output and "Traceback" not in bad.output
