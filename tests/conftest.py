"""Shared test helpers, the suite's XLA compile flags, and the order in which pytest-xdist
hands out the test files (heaviest first).

The suite's time is almost all JIT compilation (tracing and XLA:CPU code generation of a few
dozen small plants, single-threaded); the solves themselves take seconds. Two things here
keep a cold run on 2 cores short (README, Set-up):

* XLA:CPU compile flags for the tests (:func:`_fast_compile_flags`): no LLVM optimisation and
  the classic fusion emitters compile a plant 25-50 % faster in CPU time, and the solves,
  all short, run at most a few tenths of a second slower. Only the code generation changes,
  not the arithmetic a test checks (results move by round-off). They are set only when
  ``XLA_FLAGS`` is unset, and only after a subprocess has checked that this jaxlib knows
  them (XLA aborts on an unknown flag); ``TWIN_TEST_XLA_FLAGS=off`` keeps XLA's defaults.
* Longest file first (:data:`FILE_COST`, :func:`pytest_collection_modifyitems`): with
  ``--dist loadfile --no-loadscope-reorder`` the workers take files in collection order, so
  the expensive compiles start at once and the cheap files fill the gaps at the end.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

FAST_COMPILE_FLAGS = "--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false"


def _fast_compile_flags() -> None:
    """Set :data:`FAST_COMPILE_FLAGS` as ``XLA_FLAGS`` for this process and its children (the
    pytest-xdist workers inherit it from the controller, which loads this file first), unless
    ``XLA_FLAGS`` is set already or ``TWIN_TEST_XLA_FLAGS=off``. Must run before jax starts its
    backend (it reads ``XLA_FLAGS`` then)."""
    if "XLA_FLAGS" in os.environ or os.environ.get("TWIN_TEST_XLA_FLAGS", "").lower() == "off":
        return
    probe = [sys.executable, "-c", "import jax; jax.numpy.zeros(1).block_until_ready()"]
    try:
        ok = subprocess.run(probe, env={**os.environ, "XLA_FLAGS": FAST_COMPILE_FLAGS},
                            capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    os.environ["XLA_FLAGS"] = FAST_COMPILE_FLAGS if ok else ""


_fast_compile_flags()

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)


def solve_yaml(text: str, folder: Path, name: str = "plant.yaml"):
    """Write a scenario into ``folder``, load and solve it; returns ``(plant, solution)``."""
    from twin.core.solve import simulate
    from twin.scenario.build import load_scenario

    path = folder / name
    path.write_text(text)
    sc = load_scenario(path)
    sol = simulate(sc.plant, sc.duration, sc.output_interval, sc.solver)
    assert sol.success, sol.message
    return sc.plant, sol


def assert_recovery_beats_baseline(name: str) -> None:
    """Run ``scenarios/<name>.yaml`` and its ``_baseline``: both close energy (<= 1e-6) with no
    second-law violation, and the recovery variant recaptures waste heat and emits less CO2,
    costs less and destroys less exergy than the baseline."""
    from twin.run import run_scenario
    from twin.scenario.build import load_scenario

    folder = Path(__file__).resolve().parents[1] / "scenarios"
    after = run_scenario(load_scenario(folder / f"{name}.yaml"))
    before = run_scenario(load_scenario(folder / f"{name}_baseline.yaml"))
    for r in (before, after):
        assert r.ok, (r.solution.message, r.second_law_violations, [c.describe() for c in r.checks])
        assert r.kpis["energy_closure"] < 1e-6
        assert all(b.destruction > -1e-4 * max(b.throughput, 1.0) for b in r.audit.exergy.values())
    k0, k1 = before.kpis, after.kpis
    assert k0["recapture_rate"] == 0.0 < k1["recapture_rate"] <= 1.0
    assert k1["co2_mass"] < k0["co2_mass"] and k1["energy_cost"] < k0["energy_cost"]
    assert k1["exergy_destroyed"] < k0["exergy_destroyed"]


#: the small plant every sweep test varies (a source feeding a scheduled heat demand)
SWEEP_PLANT = textwrap.dedent("""\
    name: small
    duration: 2 h
    output_interval: 1 min
    solver: {method: tsit5, rtol: 1.0e-8, atol: 1.0e-8, max_steps: 100000}
    schedules:
      load: {kind: step, times: [0 h, 1 h], values: [1.0, 0.5]}
    components:
      supply: {type: source, fluid: water, mass_flow: 2 kg/s, temperature: 80 degC}
      user: {type: heat_demand, fluid: water, demand: {nominal: 50 kW, schedule: load}, fluid_holdup: 100 kg,
             min_temperature: 40 degC, initial_temperature: 60 degC}
      drain: {type: stack}
    connections:
      - [supply.outlet, user.supply]
      - [user.return, drain.inlet]
    """)


# ---------------------------------------------------------------------- xdist file order
#: Cold-cache cost of the test files [CPU s of a pytest-xdist worker on the 2-core reference
#: machine, with the flags above; test_sweep_cluster.py's Dask workers are extra processes, so
#: its wall time counts]; files not listed count DEFAULT_FILE_COST. Only the order matters: a
#: missing file or a stale figure costs balance at the end of a run, never a result.
FILE_COST = {
    "test_flagship.py": 134,
    # the notebooks (notebooks/conftest.py): a fresh kernel each; the flagship one after
    # test_flagship.py, whose compiled plant it then reads from the persistent cache
    "02_what_if_heat_pump.py": 110,
    "04_second_law_claims.py": 50,
    "03_calibrate_plant_log.py": 45,
    "01_flagship_audit.py": 30,
    "test_scenario_steel.py": 107,
    "test_validation.py": 79,
    "test_pcm_bank_modes.py": 67,
    "test_sensitivity.py": 62,
    "test_calibrate.py": 60,
    "test_faults.py": 40,
    "test_properties.py": 35,
    "test_optimize.py": 55,
    "test_furnace.py": 60,
    "test_pcm_subcooling.py": 49,
    "test_exchanger.py": 42,
    "test_validation_support_storage_pipe.py": 42,
    "test_sweep_cluster.py": 40,
    "test_pcm_hysteresis.py": 38,
    "test_exchanger_parallel_flow.py": 38,
    "test_lumped_and_closed_loop.py": 35,
    "test_scenario_battery.py": 35,
    "test_effectiveness_exchanger.py": 31,
    "test_scenario_chemical.py": 29,
    "test_gradients.py": 29,
    "test_sweep.py": 27,
    "test_exergy.py": 26,
    "test_heat_pump.py": 25,
    "test_report.py": 25,
    "test_pcm_surface_node.py": 22,
    "test_controller.py": 22,
    "test_pump_curve.py": 18,
    "test_pcm_stefan.py": 17,
    "test_tank.py": 17,
    "test_cli.py": 16,
    "test_bad_inputs.py": 16,
    "test_logs.py": 8,
    "test_bad_logs.py": 12,
    "test_invariance.py": 12,
    "test_heat_users.py": 14,
    "test_fired_heater.py": 14,
    "test_heater.py": 11,
    "test_regenerator.py": 11,
    "test_thermo_gas.py": 10,
    "test_junctions.py": 10,
    "test_pipe.py": 9,
    "test_greenhouse.py": 7,
    "test_pcm_material.py": 6,
}
DEFAULT_FILE_COST = 5


def pytest_collection_modifyitems(config, items):
    """Heaviest file first (a stable sort: each file keeps its own order of tests, so module
    and session fixtures are still built once per worker)."""
    items.sort(key=lambda item: -FILE_COST.get(item.path.name, DEFAULT_FILE_COST))
