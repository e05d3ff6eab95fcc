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
