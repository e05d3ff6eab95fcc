"""``twin optimize``: SQP with exact gradients improves its objective, keeps its bounds, and
stops on an active constraint where it binds.

Problem: the sweep tests' small plant (a hot-water source feeding a scheduled heat demand)
destroys exergy where 80 degC water meets a user that needs far less: minimise the exergy
destroyed over the supply flow [0.5, 5] kg/s and temperature [50, 95] degC, subject to the
return water at 90 min staying above a limit. With a loose limit the flow goes to its upper
bound and the temperature to an interior optimum (~65 degC, where lower supply temperature
no longer pays against the user's minimum); with a limit above that optimum's return
temperature, the constraint binds.

Compile cost: one forward-sensitivity model of a 3-state plant, shared by all tests (same
outputs: the constraint's limit is data, not structure).
"""

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SWEEP_PLANT

from twin import sensitivity
from twin.cli import main
from twin.optimize import TABLE_KPIS, Bound, optimize
from twin.scenario.build import load_scenario
from twin.scenario.errors import ScenarioError
from twin.sensitivity import Model

BOUNDS = [Bound("supply.mass_flow", 0.5, 5.0, "kg/s"), Bound("supply.temperature", 50.0, 95.0, "degC")]
SIGNAL = "user.return.T@90 min"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("opt") / "small.yaml"
    path.write_text(SWEEP_PLANT)
    return path


@pytest.fixture(scope="module")
def loose(small):
    return optimize(load_scenario(small), "exergy_destroyed", BOUNDS, constraints=[f"{SIGNAL} >= 40 degC"])


def test_objective_improves_within_bounds(loose):
    assert loose.success, loose.message
    assert loose.total_optimum < 0.6 * loose.total_start  # 1.73 MJ -> 0.69 MJ measured
    assert loose.at_bound() == ["high", ""]
    assert np.all(loose.optimum >= [b.low for b in BOUNDS]) and np.all(loose.optimum <= [b.high for b in BOUNDS])
    assert all(r["max_violation"] == 0.0 for r in loose.history[-1:])


def test_interior_optimum_is_a_minimum(small, loose):
    """At the interior temperature the objective's derivative vanishes and 0.5 K either side
    is worse (checked by independent runs of the same model)."""
    sc = load_scenario(small)
    # the optimiser's own outputs (objective, constraint, KPI table): its compiled model
    outputs = ["exergy_destroyed", SIGNAL, *(k for k in TABLE_KPIS if k != "exergy_destroyed")]
    model = Model(sc, [b.path for b in BOUNDS], outputs, mode="forward")
    n0 = sensitivity.COMPILE_COUNT
    y, J = model.value_and_jacobian(loose.optimum)
    assert sensitivity.COMPILE_COUNT == n0  # a new Model of the same structure: no compile
    # d/dT relative to the objective per K: ~0 at the optimum (SQP tolerance), vs ~2e-3 /K at the start
    assert abs(J[0, 1]) / y[0] < 2e-5, J
    for dT in (-0.5, 0.5):
        assert model.value_and_jacobian(loose.optimum + [0.0, dT])[0][0] > y[0]


def test_active_constraint_binds(small, loose):
    T_free = float(loose.constraint_values[0])  # return temperature at the loose optimum [K]
    limit = T_free + 1.0  # 1 K above: the constraint must bind
    res = optimize(load_scenario(small), "exergy_destroyed", BOUNDS,
                   constraints=[f"{SIGNAL} >= {limit - 273.15!r} degC"])
    assert res.success, res.message
    assert res.constraint_values[0] == pytest.approx(limit, abs=1e-4)
    assert res.total_optimum > loose.total_optimum  # a tighter problem costs something


@pytest.mark.parametrize("kwargs, words", [
    (dict(constraints=["user.return.T@90 min => 40 degC"]), "OUTPUT >= VALUE"),
    (dict(constraints=["user.return.T@90 min >= 40 kW"]), "convertible to K"),
    (dict(capital={"supply.mass_flow": "3 EUR/(kg/s)/a"}), "money KPI"),
    (dict(capital={"user.fluid_holdup": "3 EUR/kg/a"}, objective="energy_cost"), "one of the optimised parameters"),
    (dict(capital={"supply.mass_flow": "3 EUR/kg/a"}, objective="energy_cost"), "EUR per kg/s per year"),
])
def test_bad_problem_is_named(small, kwargs, words):
    objective = kwargs.pop("objective", "exergy_destroyed")
    with pytest.raises(ScenarioError) as exc:
        optimize(load_scenario(small), objective, BOUNDS, **kwargs)
    assert words in str(exc.value), str(exc.value)


def test_cli_writes_the_optimised_scenario(small, loose, tmp_path):
    out = tmp_path / "best.yaml"
    args = ["optimize", str(small), "--objective", "exergy_destroyed", "--vary", "supply.mass_flow=0.5..5 kg/s",
            "--vary", "supply.temperature=50..95 degC", "--constraint", f"{SIGNAL} >= 40 degC", "-o", str(out)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "at high bound" in res.output and "before / after" in res.output
    best = load_scenario(out)  # the file loads, with the optimum in it and the rest unchanged
    assert "mass_flow: 5.0 kg/s, temperature: 65." in out.read_text()
    assert best.duration == load_scenario(small).duration
    assert out.read_text().startswith("# optimised by twin optimize")
    bad = CliRunner().invoke(main, ["optimize", str(small), "--objective", "exergy_destroyed",
                                    "--vary", "supply.mass_flow=5..0.5 kg/s"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_capital_price_is_prorated_per_second(small):
    from twin.optimize import YEAR, parse_capital

    sc = load_scenario(small)
    cap = parse_capital("supply.mass_flow", "3 EUR/(kg/s)/a", sc, "kg/s")
    assert cap.rate == pytest.approx(3.0 / YEAR, rel=1e-12)  # EUR per (kg/s) per second
    assert parse_capital("pcm.mass", "36 EUR/t/a", sc, "kg").rate == pytest.approx(0.036 / YEAR, rel=1e-12)
