import textwrap
from pathlib import Path

import jax

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
