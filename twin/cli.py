"""The ``twin`` command line: ``twin run`` and ``twin check``.

Exit codes: 0 success; 1 the run finished but a check failed or the solver stopped early
(results are still written); 2 the scenario file or an option is wrong (nothing is run or
written). A user's mistake never prints a Python traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _fail_scenario(exc) -> None:
    err_console.print(f"[bold red]error:[/] the scenario has {len(exc.problems)} problem(s):")
    for line in str(exc).splitlines():  # plain lines, never wrapped: editors jump to file:line
        click.echo(f"  {line}", err=True)
    sys.exit(2)


def _load(scenario: str, overrides: tuple[str, ...]):
    from twin.scenario.build import load_scenario
    from twin.scenario.errors import ScenarioError

    try:
        return load_scenario(scenario, list(overrides))
    except ScenarioError as exc:
        _fail_scenario(exc)
    except FileNotFoundError:
        err_console.print(f"[bold red]error:[/] {scenario}: no such file")
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="twin")
def main() -> None:
    """twin: a differentiable digital twin of industrial energy systems."""


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar='PATH="VALUE"',
              help='Override a parameter by its path, e.g. --set recuperator.UA="30 kW/K".')
def check(scenario: str, overrides: tuple[str, ...]) -> None:
    """Validate SCENARIO (units, ranges, wiring) without running it."""
    sc = _load(scenario, overrides)
    n = len(sc.plant.components)
    console.print(f"[green]ok[/]: {scenario}: '{sc.name}', {n} components, "
                  f"{sc.duration / 3600:g} h, solver {sc.solver.method}")


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Results file (NetCDF4). Default: results/<scenario name>.nc")
@click.option("--set", "overrides", multiple=True, metavar='PATH="VALUE"',
              help='Override a parameter by its path, e.g. --set recuperator.UA="30 kW/K".')
def run(scenario: str, output: str | None, overrides: tuple[str, ...]) -> None:
    """Simulate SCENARIO, audit it, write the results file and print a summary."""
    sc = _load(scenario, overrides)
    from twin.results import write_atomic
    from twin.run import run_scenario

    with console.status(f"simulating '{sc.name}' ({sc.duration / 3600:g} h)..."):
        result = run_scenario(sc)
    out = Path(output) if output else Path("results") / f"{sc.name}.nc"
    if result.dataset is not None:
        try:
            write_atomic(result.dataset, out)
        except OSError as exc:
            err_console.print(f"[bold red]error:[/] could not write {out}: {exc}")
            sys.exit(2)
    _summary(sc, result, out)
    sys.exit(0 if result.ok else 1)


def _energy(x: float) -> str:
    return f"{x / 3.6e9:,.2f} MWh"


def _summary(sc, result, out: Path) -> None:
    sol, k = result.solution, result.kpis
    t = Table(title=f"twin run: {sc.name}", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column(justify="right")
    if k:
        t.add_row("energy in (fuel LHV + electricity)", _energy(k["energy_in"]))
        t.add_row("  fuel", _energy(k["fuel_energy"]))
        t.add_row("  electricity", _energy(k["electricity"]))
        t.add_row("heat recovered (exchangers)", _energy(k["heat_recovered"]))
        t.add_row("heat delivered to uses", _energy(k["heat_delivered"]))
        t.add_row("heat losses to ambient", _energy(k["heat_losses"]))
        t.add_row("stack / discharge enthalpy", _energy(k["stack_loss"]))
        t.add_row("change of stored energy", _energy(k["storage_change"]))
        t.add_row("CO2 emitted", f"{k['co2_mass'] / 1000:,.2f} t")
        name, worst = result.audit.worst()
        t.add_row("first-law closure (plant)", f"{k['energy_closure']:.2e}")
        t.add_row("  worst component", f"{name}: {worst:.2e}")
    st = sol.stats
    t.add_row("solver", f"{sc.solver.method}, {st['num_accepted_steps']} steps "
                        f"(+{st['num_rejected_steps']} rejected)")
    t.add_row("wall time (run / compile)", f"{st['wall_time']:.2f} s / {st['compile_time']:.1f} s")
    t.add_row("results", str(out))
    console.print(t)
    if not sol.success:
        err_console.print(f"[bold red]solver stopped at t = {sol.t_reached / 3600:.3f} h:[/] {sol.message}; "
                          f"the partial results up to there are in {out}")
    for c in result.checks:
        mark = "[green]pass[/]" if c.passed else "[bold red]FAIL[/]"
        console.print(f"check {mark}: {c.describe()}")


if __name__ == "__main__":  # pragma: no cover
    main()
