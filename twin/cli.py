"""The ``twin`` command line: ``twin run``, ``check``, ``compare``, ``report``, ``validate``, ``sweep``,
``collect``, ``sensitivity``, ``optimize``, ``calibrate``.

Exit codes: 0 success; 1 the run finished but a check failed or the solver stopped early
(results are still written); 2 the scenario file or an option is wrong (nothing is run or
written), or a file could not be written (no partial file is left at its path); 130
interrupted (Ctrl-C): a file being written is finished first, and the line printed says what
was saved. A user's mistake never prints a Python traceback.
"""

from __future__ import annotations

import contextlib
import math
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _fail_scenario(exc) -> None:
    logs = sys.modules.get("twin.logs")  # a LogError comes from it: it is loaded by then (pandas: 2 s)
    what = "the plant log or its map has" if logs and isinstance(exc, logs.LogError) else "the scenario has"
    err_console.print(f"[bold red]error:[/] {what} {len(exc.problems)} problem(s):")
    for line in str(exc).splitlines():  # plain lines, never wrapped: editors jump to file:line
        click.echo(f"  {line}", err=True)
    sys.exit(2)


def _load(scenario: str, overrides: tuple[str, ...], strict: bool = False):
    from twin.scenario.build import load_scenario
    from twin.scenario.errors import ScenarioError

    try:
        sc = load_scenario(scenario, list(overrides), strict=strict)
    except ScenarioError as exc:
        _fail_scenario(exc)
    except FileNotFoundError:
        err_console.print(f"[bold red]error:[/] {scenario}: no such file")
        sys.exit(2)
    _warn_implausible(sc.warnings)
    return sc


def _warn_implausible(problems, strict: bool = False) -> None:
    """Implausible values (twin.scenario.plausible): warnings, or with --strict errors (exit 2)."""
    if not problems:
        return
    if strict:
        err_console.print(f"[bold red]error:[/] {len(problems)} implausible value(s) (--strict):")
    else:
        err_console.print(f"[bold yellow]warning:[/] {len(problems)} implausible value(s); "
                          "--strict makes them errors:")
    for p in problems:  # plain lines, as the errors: editors jump to file:line
        click.echo(f"  {p}", err=True)
    if strict:
        sys.exit(2)


_strict_option = click.option(
    "--strict", is_flag=True,
    help="Implausible values (a 5 mW furnace, a UA of 1e9 W/K: twin.scenario.plausible) are "
         "errors (exit code 2), not warnings.")


@contextlib.contextmanager
def _study_errors(scenario: str):
    """A study's mistakes (bad --wrt/--of/--fit/--constraint, a bad log) exit 2 with their
    messages; a solver failure inside it exits 1, naming when and why."""
    from twin.scenario.errors import ScenarioError
    from twin.sensitivity import SolverFailure

    try:
        yield
    except ScenarioError as exc:  # LogError is one
        _fail_scenario(exc)
    except SolverFailure as exc:
        err_console.print(f"[bold red]error:[/] {scenario}: {exc}")
        sys.exit(1)


class _Main(click.Group):
    """twin's command group: Ctrl-C in any command exits 130 with one line, no traceback
    (click's own answer is "Aborted!" and exit code 1)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            _interrupted(exc)


def _interrupted(exc: BaseException, saved: str = "") -> None:
    """Report Ctrl-C and exit 130: what the interrupted write finished, and ``saved``."""
    written = getattr(exc, "written", None)
    parts = [f"{written} was written completely first" if written else "", saved]
    err_console.print("[bold yellow]interrupted[/]" + "".join(f"; {p}" for p in parts if p), soft_wrap=True)
    sys.exit(130)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="twin")
def main() -> None:
    """twin: a differentiable digital twin of industrial energy systems."""


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar='PATH="VALUE"',
              help='Override a parameter by its path, e.g. --set recuperator.UA="30 kW/K".')
@_strict_option
def check(scenario: str, overrides: tuple[str, ...], strict: bool) -> None:
    """Validate SCENARIO (units, ranges, wiring) without running it."""
    sc = _load(scenario, overrides, strict)
    n = len(sc.plant.components)
    console.print(f"[green]ok[/]: {scenario}: '{sc.name}', {n} components, "
                  f"{sc.duration / 3600:g} h, solver {sc.solver.method}")


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Results file (NetCDF4). Default: results/<scenario name>.nc")
@click.option("--set", "overrides", multiple=True, metavar='PATH="VALUE"',
              help='Override a parameter by its path, e.g. --set recuperator.UA="30 kW/K".')
@_strict_option
def run(scenario: str, output: str | None, overrides: tuple[str, ...], strict: bool) -> None:
    """Simulate SCENARIO, audit it, write the results file and print a summary."""
    sc = _load(scenario, overrides, strict)
    from twin.results import write_atomic
    from twin.run import run_scenario

    try:
        with console.status(f"simulating '{sc.name}' ({sc.duration / 3600:g} h)..."):
            result = run_scenario(sc)
    except KeyboardInterrupt as exc:
        _interrupted(exc, "the run was stopped before it finished: nothing was written")
    out = Path(output) if output else Path("results") / f"{sc.name}.nc"
    if result.dataset is not None:
        try:
            write_atomic(result.dataset, out)
        except OSError as exc:
            err_console.print(f"[bold red]error:[/] could not write {out}: {exc}; nothing was left at that "
                              "path", soft_wrap=True)
            sys.exit(2)
        except KeyboardInterrupt as exc:  # the file is whole (twin.interrupt) or was never begun
            _interrupted(exc, "" if getattr(exc, "written", None) else "nothing was written")
    _summary(sc, result, out)
    sys.exit(0 if result.ok else 1)


#: (KPI, label, scale, unit) of the before/after table, in the order printed
_COMPARE = (
    ("fuel_energy", "fuel (LHV)", 1 / 3.6e9, "MWh"),
    ("electricity", "electricity", 1 / 3.6e9, "MWh"),
    ("waste_heat_recovered_share", "waste heat recovered (EED)", 100.0, "%"),
    ("recapture_rate", "recapture rate", 100.0, "%"),
    ("co2_mass", "CO2 emitted", 1e-3, "t"),
    ("energy_cost", "energy cost", 1.0, "{cur}"),
    ("carbon_intensity", "carbon intensity", 1.0, "kg CO2/{cur}"),
    ("circularity", "material circularity", 100.0, "%"),
    ("specific_energy", "energy per t good product", 1e-6, "GJ/t"),
    ("exergy_efficiency", "exergy efficiency", 100.0, "%"),
    ("exergy_destroyed", "exergy destroyed", 1 / 3.6e9, "MWh"),
)


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _compare_values(path: str) -> tuple[str, dict[str, float], str]:
    """(name, KPIs, currency) of a results file (``.nc``) or of a scenario run now."""
    if path.endswith(".nc"):
        import xarray as xr

        try:
            with xr.open_dataset(path, engine="h5netcdf") as ds:
                values = {v[4:]: float(ds[v]) for v in ds.variables if v.startswith("kpi.")}
                cur = ds["kpi.energy_cost"].attrs.get("units", "EUR") if "kpi.energy_cost" in ds else "EUR"
                name = ds.attrs.get("scenario_name", path)
        except (OSError, ValueError) as exc:
            err_console.print(f"[bold red]error:[/] {path}: not a twin results file ({exc})")
            sys.exit(2)
        if not values:
            err_console.print(f"[bold red]error:[/] {path}: has no KPIs (written by an older twin?)")
            sys.exit(2)
        return name, values, cur
    from twin.run import run_scenario

    sc = _load(path, ())
    with console.status(f"simulating '{sc.name}' ({sc.duration / 3600:g} h)..."):
        result = run_scenario(sc)
    if not result.solution.success:
        err_console.print(f"[bold red]error:[/] {path}: the solver stopped at "
                          f"t = {result.solution.t_reached / 3600:.3f} h: {result.solution.message}")
        sys.exit(1)
    return sc.name, result.kpis, sc.kpi_config.currency


@main.command()
@click.argument("baseline", type=click.Path(dir_okay=False))
@click.argument("variant", type=click.Path(dir_okay=False))
def compare(baseline: str, variant: str) -> None:
    """Before/after KPI table of BASELINE and VARIANT (scenario files, run now, or .nc results)."""
    (n0, k0, c0), (n1, k1, c1) = _compare_values(baseline), _compare_values(variant)
    console.print(f"[bold]twin compare[/]\n  before: {n0} ({baseline})\n  after:  {n1} ({variant})")
    t = Table()
    t.add_column("KPI", style="bold")
    t.add_column("before", justify="right")
    t.add_column("after", justify="right")
    t.add_column("change", justify="right")
    for key, label, scale, unit in _COMPARE:
        a, b = k0.get(key, math.nan), k1.get(key, math.nan)
        cur = c0 if c0 == c1 else "?"
        u = unit.format(cur=cur)
        show = lambda x: "n/a" if math.isnan(x) else f"{_num(x * scale)} {u}"
        if unit == "%":
            change = "n/a" if math.isnan(a) or math.isnan(b) else f"{(b - a) * scale:+.1f} points"
        else:
            change = "n/a" if math.isnan(a) or math.isnan(b) or a == 0 else f"{100 * (b - a) / abs(a):+.1f} %"
        t.add_row(label, show(a), show(b), change)
    console.print(t)
    if c0 != c1:
        err_console.print(f"[yellow]warning:[/] the two use different currencies ({c0}, {c1}): money is not comparable")


@main.command()
@click.argument("results", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for report.html (and the PNGs). Default: <RESULTS without .nc>_report/ next to it")
@click.option("--png", is_flag=True, help="Also write every matplotlib figure as PNG next to report.html.")
def report(results: str, out_dir: str | None, png: bool) -> None:
    """Write a self-contained HTML report (energy Sankey, exergy, PCM, temperatures) of RESULTS (.nc)."""
    from twin.report import ReportError, open_results, write_report

    try:
        ds = open_results(results)
    except ReportError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        sys.exit(2)
    out = Path(out_dir) if out_dir else Path(results).with_name(f"{Path(results).stem}_report")
    with console.status(f"writing the report of '{ds.attrs.get('scenario_name', results)}'..."):
        try:
            written, notes = write_report(ds, out, png=png)
        except OSError as exc:
            err_console.print(f"[bold red]error:[/] could not write the report into {out}: {exc}", soft_wrap=True)
            sys.exit(2)
    for path in written:
        click.echo(f"wrote {path}")
    for note in notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)


@main.command()
@click.argument("cases", nargs=-1)
@click.option("--fast", is_flag=True, help="Only the fast subset (what CI runs).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None,
              help="Write validation.html (one overlay plot per judged signal) into this folder.")
@click.option("--list", "list_only", is_flag=True, help="List the cases and exit.")
@_strict_option
def validate(cases: tuple[str, ...], fast: bool, report_dir: str | None, list_only: bool,
             strict: bool) -> None:
    """Run the validation cases (all, or those named) against their reference data.

    Reference data is read from $TWIN_REFERENCE_DATA or ../shared/data/reference; a case
    whose data is absent is skipped. Exit code 1 if any case fails. The scenario files of the
    chosen cases are judged first: implausible values warn, or with --strict stop (exit 2).
    """
    from twin.validation import case as vc

    try:
        found = vc.discover()
        chosen = vc.select(found, cases, fast=fast)
    except (KeyError, ValueError, ImportError, TypeError) as exc:
        err_console.print(f"[bold red]error:[/] {exc.args[0] if exc.args else exc}", soft_wrap=True)
        sys.exit(2)
    if list_only:
        for c, folder in found.values():
            click.echo(f"{c.id:10s} {'fast' if c.fast else 'full'}  {folder.name:28s} {c.title}")
        return
    from twin.scenario.plausible import file_warnings

    _warn_implausible(file_warnings(sorted(p for _, folder in chosen for p in folder.glob("*.yaml"))),
                      strict)
    results = []
    for c, folder in chosen:
        with console.status(f"validating {c.id}: {c.title}..."):
            results.append(vc.run_case(c, folder))
    t = Table(title="twin validate", title_justify="left")
    for col in ("case", "signal", "kind", "error", "tolerance", "unit", "verdict"):
        t.add_column(col, justify="right" if col in ("error", "tolerance") else "left")
    from rich.markup import escape

    from twin.validation.report import rows

    for row in rows(results):
        style = "red" if ("FAIL" in row[-1] or row[-1].startswith("error")) else None
        t.add_row(*(escape(x) for x in row), style=style)  # signal names like T[1] are not markup
    console.print(t)
    if report_dir is not None:
        from twin.validation.report import write_validation_report

        click.echo(f"wrote {write_validation_report(results, report_dir)}")
    failed = [r.case.id for r in results if r.status in ("fail", "error")]
    skipped = [r.case.id for r in results if r.status == "skip"]
    console.print(f"{len(results) - len(failed) - len(skipped)} passed, {len(failed)} failed, "
                  f"{len(skipped)} skipped" + (f" (no reference data: {', '.join(skipped)})" if skipped else ""))
    if failed:
        err_console.print(f"[bold red]failed:[/] {', '.join(failed)}")
        sys.exit(1)


#: KPIs shown in the sweep's table on the terminal (all of them are in kpis.csv / sweep.nc)
_SWEEP_TABLE = (("recapture_rate", 100.0, "%"), ("fuel_energy", 1 / 3.6e9, "MWh"),
                ("energy_cost", 1.0, "{cur}"), ("co2_mass", 1e-3, "t"), ("exergy_efficiency", 100.0, "%"))


def _sweep_variants(sc, vary, grid_n, samples, seed, list_file):
    """The variants asked for on the command line, or the scenario's sweep: block."""
    from twin.sweep import spec

    if list_file and (vary or grid_n or samples):
        raise spec.SweepSpecError("--list FILE gives the variants itself: leave out --vary, --grid and --samples")
    if grid_n and samples:
        raise spec.SweepSpecError("choose one of --grid N and --samples N")
    if list_file:
        return spec.read_list(list_file)
    if vary:
        axes = spec.parse_vary(vary)
        if samples:
            return spec.latin_hypercube(axes, samples, seed)
        return spec.grid(axes, grid_n or 5)
    if sc.model.sweep is None:
        raise spec.SweepSpecError(f"{sc.path}: nothing to vary: give --vary PATH=LOW..HIGH, --list FILE, "
                                  "or a sweep: block in the scenario")
    if grid_n or samples or seed is not None:
        raise spec.SweepSpecError("--grid, --samples and --seed go with --vary; the sweep: block sets its own")
    return spec.from_block(sc.model.sweep, Path(sc.path).resolve().parent)


def _sweep_table(ds, currency: str) -> Table:
    params = [c for c in ds.coords if c != "scenario"]
    t = Table(title=f"{ds.attrs.get('title', 'sweep')}: {ds.sizes['scenario']} variants", title_justify="left")
    t.add_column("#", justify="right")
    for p in params:
        t.add_column(f"{p} [{ds[p].attrs.get('units', '')}]", justify="right")
    t.add_column("status")
    shown = [(k, f, u.format(cur=currency)) for k, f, u in _SWEEP_TABLE if f"kpi.{k}" in ds]
    for k, _, u in shown:
        t.add_column(f"{k} [{u}]", justify="right")
    n = ds.sizes["scenario"]
    idx = list(range(n)) if n <= 20 else [*range(10), *range(n - 10, n)]
    for i in idx:
        st = str(ds["status"].values[i])
        cells = [f"{float(ds[p].values[i]):.4g}" for p in params]
        vals = [_num(float(ds[f"kpi.{k}"].values[i]) * f) for k, f, _ in shown]
        t.add_row(str(i), *cells, st, *vals, style="red" if st == "failed" else None)
    return t


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--vary", multiple=True, metavar='PATH="LOW..HIGH"',
              help='A swept parameter (path as for --set): a range "10 kW/K..60 kW/K" or levels "5 t, 20 t".')
@click.option("--grid", "grid_n", type=click.IntRange(1), default=None, help="Levels per range (full factorial).")
@click.option("--samples", type=click.IntRange(1), default=None, help="Latin-hypercube samples.")
@click.option("--seed", type=int, default=None, help="Seed of the Latin hypercube.")
@click.option("--list", "list_file", type=click.Path(dir_okay=False), default=None,
              help="CSV of variants: header of paths (optionally 'path [unit]'), one row per variant.")
@click.option("--set", "overrides", multiple=True, metavar='PATH="VALUE"', help="Override of the base scenario.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Sweep folder. Default: sweeps/<scenario name>")
@click.option("--resume", is_flag=True, help="Skip the variants the folder's ledger records as finished.")
@click.option("--chunk", type=click.IntRange(1), default=None, help="Lanes per compiled batch (default: from memory).")
@click.option("--output-interval", default=None, metavar='"1 h"',
              help="Spacing of each variant's saved outputs (default: the scenario's, at least 1 h).")
@click.option("--full", is_flag=True, help="Keep full trajectories (the scenario's output interval).")
@click.option("--max-steps", type=click.IntRange(1), default=None, help="Solver step limit per variant.")
@click.option("--cluster", default=None, metavar="local:N|tcp://HOST:PORT",
              help="Run the chunks on a Dask cluster: a LocalCluster of N workers, or a scheduler's address.")
@click.option("--no-report", is_flag=True, help="Do not write the report (figures and HTML).")
@_strict_option
def sweep(scenario, vary, grid_n, samples, seed, list_file, overrides, out_dir, resume, chunk,
          output_interval, full, max_steps, cluster, no_report, strict) -> None:
    """Run many variants of SCENARIO in one compiled batch per plant structure.

    Each variant gets its own results file and status; a failed variant never stops the
    others. Exit code 0: every variant done; 1: some failed; 2: bad input.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from twin.scenario.errors import ScenarioError
    from twin.sweep import SweepSettings, run_sweep
    from twin.sweep.report import write_report
    from twin.sweep.spec import SweepSpecError
    from twin.units import UnitError, parse_quantity

    sc = _load(scenario, overrides, strict)
    try:
        variants = _sweep_variants(sc, vary, grid_n, samples, seed, list_file)
        interval = parse_quantity(output_interval, "time") if output_interval else None
    except (SweepSpecError, UnitError) as exc:
        err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        sys.exit(2)
    from twin.scenario.plausible import sweep_warnings

    _warn_implausible(sweep_warnings(scenario, overrides, variants), strict)
    out = Path(out_dir) if out_dir else Path("sweeps") / sc.name
    settings = SweepSettings(output_interval=interval, full=full, chunk=chunk, max_steps=max_steps)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("[red]{task.fields[failed]} failed"), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(f"sweep '{sc.name}'", total=len(variants), failed=0)

        def progress(p):
            bar.update(task, completed=p["done"] + p["failed"] + p["skipped"], failed=p["failed"])
            if p["stage"] == "planned":
                bar.console.print(f"{len(variants)} variants ({variants.method}), {p['skipped']} already done; "
                                  f"parameters enter the plant: {p['plan']}")

        try:
            result = run_sweep(scenario, variants, out, base_overrides=overrides, settings=settings,
                               resume=resume, progress=progress, cluster=cluster)
        except ScenarioError as exc:
            _fail_scenario(exc)
        except KeyboardInterrupt as exc:
            bar.stop()
            _sweep_stopped(out, len(variants), exc=exc)
        except OSError as exc:
            if cluster is None or _is_write_error(exc):
                bar.stop()
                _sweep_stopped(out, len(variants), error=exc)
            err_console.print(f"[bold red]error:[/] --cluster {cluster}: {exc}", soft_wrap=True)
            sys.exit(2)  # an unreachable scheduler
        except ValueError as exc:  # a bad --cluster
            if cluster is None:
                raise
            err_console.print(f"[bold red]error:[/] --cluster {cluster}: {exc}", soft_wrap=True)
            sys.exit(2)
    ds = result.dataset
    console.print(_sweep_table(ds, sc.kpi_config.currency))
    n_done, n_fail = len(result.done), len(result.failed)
    lanes = sum(c["lanes"] for c in result.chunks)
    solve = sum(c["wall"] for c in result.chunks)
    console.print(f"{n_done} done, {n_fail} failed, {len(result.skipped)} skipped (resume); "
                  f"{result.compile_count} compile(s); {lanes} runs solved in {solve:.1f} s "
                  f"({lanes / solve if solve > 0 else 0:.1f} runs/s), {result.wall_time:.1f} s in all")
    for i, msg in sorted(result.failed.items())[:10]:
        err_console.print(f"[red]variant {i} failed:[/] {msg.splitlines()[0] if msg else ''}", soft_wrap=True)
    if not no_report:
        try:
            click.echo(f"wrote {write_report(ds, out)}")
        except OSError as exc:
            err_console.print(f"[bold red]error:[/] could not write the report into {out}: {exc}", soft_wrap=True)
            sys.exit(2)
    click.echo(f"wrote {out / 'sweep.nc'} and {out / 'kpis.csv'}")
    sys.exit(1 if n_fail else 0)


def _is_write_error(exc: OSError) -> bool:
    """A failed write (a full disk, a permission, a read-only folder), not a cluster's error."""
    import errno

    return exc.filename is not None or exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM,
                                                     errno.EROFS, errno.EIO)


def _sweep_stopped(out: Path, total: int, *, exc: BaseException | None = None, error: OSError | None = None) -> None:
    """A sweep stopped by Ctrl-C (exit 130) or a failed write (exit 2): every variant whose
    file was written is kept (its ledger line is written with it), ``sweep.nc`` and
    ``kpis.csv`` list them when they can still be written, and ``--resume`` goes on."""
    import json

    from twin.sweep import collect as collect_sweep
    from twin.sweep.engine import Ledger

    try:
        keys = json.loads((out / "sweep.json").read_text(encoding="utf-8"))["keys"]
    except (OSError, ValueError, KeyError):
        keys = []
    entries = Ledger(out / "ledger.jsonl").entries()
    n = sum(k in entries for k in keys)
    listed = ""
    if n:
        try:
            collect_sweep(out)
            listed = " (sweep.nc and kpis.csv list them)"
        except (OSError, KeyboardInterrupt):
            pass
    kept = (f"{n} of {total} variants finished and are kept in {out}{listed}; the same command with --resume "
            f"runs the other {total - n}" if n else f"no variant had finished (nothing to keep in {out})")
    if error is None:
        _interrupted(exc, kept)
    err_console.print(f"[bold red]error:[/] could not write {error.filename or out}: {error.strerror or error}; "
                      "no partial file was left at that path", soft_wrap=True)
    err_console.print(kept, soft_wrap=True)
    sys.exit(2)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--no-report", is_flag=True, help="Do not write the report (figures and HTML).")
def collect(folder: str, no_report: bool) -> None:
    """Assemble a sweep FOLDER's finished variants into sweep.nc, kpis.csv and its report."""
    from twin.sweep import collect as collect_sweep
    from twin.sweep.report import write_report

    try:
        ds = collect_sweep(folder)
    except FileNotFoundError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        sys.exit(2)
    console.print(_sweep_table(ds, "EUR"))
    console.print(f"{ds.attrs['n_done']} done, {ds.attrs['n_failed']} failed, {ds.attrs['n_pending']} pending")
    if not no_report:
        click.echo(f"wrote {write_report(ds, folder)}")
    click.echo(f"wrote {Path(folder) / 'sweep.nc'}")


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--of", "of", multiple=True, required=True, metavar="OUTPUT",
              help="A KPI (recapture_rate, fuel_energy, ...) or a signal at a time, SIGNAL@TIME "
                   "(pcm_bank.liquid_fraction@24h). Repeatable.")
@click.option("--wrt", "wrt", multiple=True, required=True, metavar="PATH",
              help="A parameter path, as for --set (recuperator.UA, schedules.firing.values.2). Repeatable.")
@click.option("--set", "overrides", multiple=True, metavar='PATH="VALUE"',
              help='Override a parameter first, e.g. --set solver.rtol=1e-9.')
@click.option("--mode", type=click.Choice(["auto", "forward", "reverse"]), default="auto", show_default=True,
              help="Differentiation mode; auto picks by the numbers of parameters and outputs.")
@click.option("--check", is_flag=True, help="Also compute central finite differences (2 runs per parameter).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the derivatives and elasticities to a NetCDF (.nc) or CSV (.csv) file.")
def sensitivity(scenario, of, wrt, overrides, mode, check, output) -> None:
    """Exact derivatives of KPIs or signals of SCENARIO with respect to parameters, in SI units
    and as elasticities (d ln K / d ln p), by automatic differentiation through the solver."""
    from twin.sensitivity import sensitivities

    if output and Path(output).suffix not in (".nc", ".csv"):
        err_console.print(f"[bold red]error:[/] --output {output}: accepted suffixes: .nc, .csv")
        sys.exit(2)
    sc = _load(scenario, overrides)
    with _study_errors(scenario), console.status(f"differentiating '{sc.name}' ({sc.duration / 3600:g} h)..."):
        res = sensitivities(sc, wrt, of, mode=mode, check=check)
    el, rel = res.elasticities, res.fd_relative_error
    for i, o in enumerate(res.outputs):  # one narrow table per output: readable when piped
        t = Table(title=f"{o.label} = {res.values[i]:.6g} {o.unit}".rstrip(), title_justify="left")
        for col in ("parameter", "at", f"d/dp [{o.unit or '1'}/unit]", "elasticity",
                    *(("finite diff.", "rel. diff.") if check else ())):
            t.add_column(col, justify="left" if col == "parameter" else "right")
        for j, p in enumerate(res.parameters):
            row = [p.path, f"{p.value:g} {p.unit}".strip(), f"{res.jacobian[i, j]:.6g}",
                   "n/a" if math.isnan(el[i, j]) else f"{el[i, j]:+.4f}"]
            if check:
                row += [f"{res.finite_difference[i, j]:.6g}", f"{rel[i, j]:.1e}"]
            t.add_row(*row)
        console.print(t)
    if check and sc.solver.rtol > 1e-9:
        console.print(f"note: finite differences at the scenario's rtol = {sc.solver.rtol:g} carry the "
                      "solver's noise (step sequences change with the parameter); compare at "
                      "--set solver.rtol=1e-10 --set solver.atol=1e-10")
    console.print(f"one gradient: {res.wall_gradient:.3f} s = {res.wall_gradient / res.wall_forward:.1f} x one "
                  f"forward run ({res.wall_forward:.3f} s, {res.steps} solver steps); compile {res.compile_time:.1f} s")
    for p in res.parameters:
        if not p.affine:
            console.print(f"note: {p.path} enters the plant non-linearly or sits on a bound: its "
                          "scenario-to-plant map was linearised by a finite difference")
    if output:
        from twin.results import write_atomic

        ds = res.to_dataset()
        ds.attrs.update(scenario_file=str(sc.path), scenario_sha256=sc.sha256,
                        scenario_overrides="\n".join(sc.overrides))
        try:
            if output.endswith(".nc"):
                write_atomic(ds, output)
            else:
                _write_csv_atomic(ds, Path(output))
        except OSError as exc:
            err_console.print(f"[bold red]error:[/] could not write {output}: {exc}")
            sys.exit(2)
        console.print(f"written: {output}")


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--objective", required=True, metavar="OUTPUT",
              help="The KPI (energy_cost, fuel_energy, ...) or SIGNAL@TIME to minimise.")
@click.option("--maximize", is_flag=True, help="Maximise the objective instead.")
@click.option("--vary", multiple=True, required=True, metavar='PATH="LOW..HIGH"',
              help='A parameter and its bounds, e.g. --vary pcm_bank.mass="10 t..80 t". Repeatable.')
@click.option("--constraint", "constraints", multiple=True, metavar='"OUTPUT >= VALUE"',
              help="An inequality on a KPI or SIGNAL@TIME, e.g. 'furnace.T_load@20h >= 1420 degC'. Repeatable.")
@click.option("--capital", multiple=True, metavar='PATH="PRICE"',
              help='Annualised capital cost per unit of a varied parameter, e.g. pcm_bank.mass="0.05 EUR/kg/a", '
                   "prorated over the run and added to a money objective.")
@click.option("--set", "overrides", multiple=True, metavar='PATH="VALUE"', help="Override a parameter first.")
@click.option("--max-iter", type=click.IntRange(1, 10_000), default=50, show_default=True,
              help="Largest number of SQP iterations.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the optimised scenario file (comments and layout kept).")
def optimize(scenario, objective, maximize, vary, constraints, capital, overrides, max_iter, output) -> None:
    """Optimise SCENARIO: bounded, constrained SQP with exact gradients through the whole run."""
    from twin.optimize import Bound
    from twin.optimize import optimize as run_optimize
    from twin.sweep.spec import SweepSpecError, parse_vary

    try:
        axes = parse_vary(vary)
        caps = dict(_split_assignment(c, "--capital") for c in capital)
    except SweepSpecError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        sys.exit(2)
    if any(a.low is None for a in axes):
        err_console.print("[bold red]error:[/] --vary: give each parameter a range LOW..HIGH")
        sys.exit(2)
    sc = _load(scenario, overrides)
    bounds = [Bound(a.path, a.low, a.high, a.unit) for a in axes]

    def show(rec):
        params = ", ".join(f"{k}={v:.6g}" for k, v in rec.items() if k not in ("evaluation", "objective", "max_violation"))
        console.print(f"  {rec['evaluation']:3d}  objective {rec['objective']:.8g}  "
                      f"violation {rec['max_violation']:.2e}  {params}")

    console.print(f"optimising '{sc.name}': {'maximise' if maximize else 'minimise'} {objective}"
                  f"{' + capital cost' if caps else ''} over {', '.join(b.path for b in bounds)}")
    with _study_errors(scenario):
        res = run_optimize(sc, objective, bounds, constraints=constraints, capital=caps, maximize=maximize,
                           max_iter=max_iter, callback=show)
    t = Table(title=f"{sc.name}: optimum ({res.evaluations} evaluations, {res.mode}-mode gradients)")
    for col in ("parameter", "start", "optimum", "bounds", ""):
        t.add_column(col, justify="left" if col == "parameter" else "right")
    for p, u, a, b, bd, at in zip(res.paths, res.units, res.start, res.optimum, res.bounds, res.at_bound()):
        t.add_row(p, f"{a:.6g} {u}", f"{b:.6g} {u}", f"{bd.low:g}..{bd.high:g} {u}", f"at {at} bound" if at else "")
    console.print(t)
    cur = sc.kpi_config.currency
    from twin.kpi import units as kpi_units

    k = Table(title="before / after")
    for col in ("", "start", "optimum", "change"):
        k.add_column(col, justify="left" if not col else "right")
    label = f"{objective}{' + capital' if caps else ''}"
    k.add_row(label, f"{res.total_start:.6g}", f"{res.total_optimum:.6g}",
              f"{(res.total_optimum - res.total_start) / abs(res.total_start) * 100:+.2f} %" if res.total_start else "")
    u = kpi_units(cur)
    for name in res.kpis_start:
        a, b = res.kpis_start[name], res.kpis_optimum[name]
        change = f"{(b - a) / abs(a) * 100:+.2f} %" if a and math.isfinite(a) and math.isfinite(b) else ""
        k.add_row(f"{name} [{u.get(name, '')}]", f"{a:.6g}", f"{b:.6g}", change)
    for c, v in zip(res.constraints, res.constraint_values):
        k.add_row(f"constraint {c.text}", "", f"{v:.6g}", "")
    console.print(k)
    sets = " ".join(f'--set {o.split("=", 1)[0]}="{o.split("=", 1)[1]}"' for o in res.overrides())
    console.print(f"reproduce: twin run {scenario} {sets}")
    if not res.success:
        err_console.print(f"[bold yellow]warning:[/] the optimiser did not converge: {res.message}")
    if output:
        _write_scenario(sc, dict(o.split("=", 1) for o in res.overrides()), Path(output),
                        f"optimised by twin optimize: {'maximise' if maximize else 'minimise'} {label}; "
                        f"{res.message}")
    sys.exit(0 if res.success else 1)


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False), metavar="SCENARIO...")
@click.option("--log", "log_files", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="The plant log of a SCENARIO (CSV or Parquet; format: data/plant_logs/README.md): one per "
                   "SCENARIO, in the same order. Repeatable.")
@click.option("--map", "map_files", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="The map file (tags to model signals, units, sigmas and policies): once for every log, or "
                   "once per log, the --log files' first, then the --validate-log files', in order.")
@click.option("--fit", "fits", multiple=True, required=True, metavar='PATH[="LOW..HIGH"]',
              help='A parameter to fit, optionally with bounds, e.g. --fit boiler.envelope_UA="10..3000 W/K". Repeatable.')
@click.option("--set", "overrides", multiple=True, metavar='PATH="VALUE"',
              help="Override a parameter of every scenario first (the fit starts from the scenarios' values, "
                   "which must agree).")
@click.option("--validate", "validate_files", multiple=True, type=click.Path(dir_okay=False), metavar="SCENARIO",
              help="An experiment to predict at the fitted parameters, not fitted (same plant structure). "
                   "Repeatable; one --validate-log each, in the same order.")
@click.option("--validate-log", "validate_logs", multiple=True, type=click.Path(dir_okay=False), metavar="LOG",
              help="The plant log of a --validate scenario. Repeatable.")
@click.option("--max-steps", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="Largest number of Levenberg-Marquardt steps.")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Write the calibrated scenario file (comments and layout kept); with several scenarios "
                   "(fitted and validated), a folder that receives each under its own file name.")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False), default=None,
              help="Write the fit plot (PNG): log, model before and after, residuals.")
def calibrate(scenarios, log_files, map_files, fits, overrides, validate_files, validate_logs, max_steps, output,
              plot_file) -> None:
    """Fit parameters of SCENARIO to a plant log: weighted least squares (Levenberg-Marquardt)
    with exact Jacobians, standard errors, correlations and ASHRAE Guideline 14 statistics.

    Several experiments: give several SCENARIOs of one plant structure (the inputs and initial
    states may differ) and one --log per SCENARIO, in the same order. One parameter set is
    fitted to all of them at once (their residuals stacked, one compiled program), with
    standard errors and correlations from the stacked Jacobian. --validate SCENARIO with
    --validate-log LOG (repeatable, paired in order) adds experiments that are not fitted:
    they are run at the start and at the fitted parameters, and their statistics say how well
    the calibrated model predicts data it has not seen.
    """
    from twin.calibrate import Experiment, calibrate_experiments, parse_fit, plot
    from twin.logs import read_log
    from twin.results import signal_units

    def pairing(n_a: int, a: str, n_b: int, b: str) -> None:
        if n_a != n_b:
            err_console.print(f"[bold red]error:[/] {n_a} {a} and {n_b} {b}: give one {b} per {a}, in the same order")
            sys.exit(2)

    pairing(len(scenarios), "SCENARIO", len(log_files), "--log")
    pairing(len(validate_files), "--validate", len(validate_logs), "--validate-log")
    logs = [*log_files, *validate_logs]
    if len(map_files) not in (1, len(logs)):
        err_console.print(f"[bold red]error:[/] {len(map_files)} --map for {len(logs)} logs: give one --map for "
                          "every log, or one per log (the --log files' first, then the --validate-log files')")
        sys.exit(2)
    maps = list(map_files) * len(logs) if len(map_files) == 1 else list(map_files)
    paths = [*scenarios, *validate_files]
    several = len(paths) > 1
    if output and several and len({Path(p).name for p in paths}) < len(paths):
        err_console.print(f"[bold red]error:[/] -o {output}: two scenarios share a file name, so one folder "
                          "cannot hold both calibrated files; rename one")
        sys.exit(2)
    loaded = [_load(p, overrides) for p in paths]
    experiments = []
    try:
        with _study_errors(paths[0]):
            specs = [parse_fit(f) for f in fits]
            for sc, path, log_file, map_file in zip(loaded, paths, logs, maps):
                log = read_log(log_file, map_file, model_units=signal_units(sc.plant))
                console.print(log.describe())
                experiments.append(Experiment(sc, log))
    except FileNotFoundError as exc:
        err_console.print(f"[bold red]error:[/] {exc.filename}: no such file")
        sys.exit(2)
    n_fit = len(scenarios)
    with _study_errors(paths[0]), console.status(f"fitting {', '.join(f.path for f in specs)} to "
                                                 f"{', '.join(log_files)}..."):
        cal = calibrate_experiments(experiments[:n_fit], specs, validate=experiments[n_fit:], max_steps=max_steps)
    on = loaded[0].name if n_fit == 1 else f"{n_fit} experiments ({', '.join(cal.experiments)})"
    t = Table(title=f"{on}: calibrated on {cal.n} samples ({cal.steps} LM steps, {cal.message}; "
                    f"s² = {cal.chi2_reduced:.3f})")
    for col in ("parameter", "start", "fitted", "± 1 s.e.", "2-sigma interval", ""):
        t.add_column(col, justify="left" if col == "parameter" else "right")
    for p, u, a, v, e, b in zip(cal.paths, cal.units, cal.start, cal.value, cal.standard_error, cal.at_bound()):
        t.add_row(p, f"{a:.6g} {u}", f"{v:.6g} {u}", f"{e:.3g} {u}",
                  f"{v - 2 * e:.6g}..{v + 2 * e:.6g} {u}", "at a bound" if b else "")
    shown = set()
    for s in cal.signals:
        if s.bias_se == s.bias_se and s.tag not in shown:  # a fitted sensor bias (one per tag)
            shown.add(s.tag)
            t.add_row(f"{s.tag}.bias", "0", f"{s.bias:.4g} {s.unit}", f"{s.bias_se:.3g} {s.unit}",
                      f"{s.bias - 2 * s.bias_se:.4g}..{s.bias + 2 * s.bias_se:.4g} {s.unit}", "")
    console.print(t)
    c = Table(title="correlations")
    c.add_column("")
    for n in cal.names:
        c.add_column(n, justify="right")
    for n, row in zip(cal.names, cal.correlation):
        c.add_row(n, *(f"{x:+.3f}" for x in row))
    console.print(c)
    g = Table(title="fit per tag (ASHRAE Guideline 14; validation experiments: predictions, p = 0)")
    cols = ("tag", "signal", "samples", "RMSE start", "RMSE fitted", "mean error", "NMBE", "CV(RMSE)")
    for col in (("experiment", *cols) if several else cols):
        g.add_column(col, justify="left" if col in ("experiment", "tag", "signal") else "right")
    for s in cal.signals:
        u = s.unit or "1"
        row = (s.tag, s.signal, str(s.n), f"{s.rmse_before:.4g} {u}", f"{s.rmse:.4g} {u}",
               f"{s.mean_error:+.3g} {u}", f"{s.nmbe:+.2f} %", f"{s.cv_rmse:.2f} %")
        g.add_row(*((f"{s.experiment}{' (validation)' if s.role == 'validation' else ''}", *row) if several else row))
    console.print(g)
    console.print(f"fit: {cal.wall:.2f} s after a {cal.compile_time:.1f} s compile")
    if plot_file:
        plot(cal, plot_file)
        console.print(f"written: {plot_file}")
    if output:
        note = (f"calibrated by twin calibrate against {', '.join(log_files)} ({', '.join(dict.fromkeys(maps))}); "
                f"s² = {cal.chi2_reduced:.3f}")
        values = dict(o.split("=", 1) for o in cal.overrides())
        if several:
            folder = Path(output)
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                err_console.print(f"[bold red]error:[/] could not create {folder}: {exc}")
                sys.exit(2)
            for sc, path in zip(loaded, paths):
                _write_scenario(sc, values, folder / Path(path).name, note)
        else:
            _write_scenario(loaded[0], values, Path(output), note)
    if not cal.success:
        err_console.print(f"[bold yellow]warning:[/] the fit did not converge: {cal.message}")
    sys.exit(0 if cal.success else 1)


def _split_assignment(text: str, option: str) -> tuple[str, str]:
    from twin.sweep.spec import SweepSpecError

    path, eq, value = text.partition("=")
    if not eq or not path.strip() or not value.strip():
        raise SweepSpecError(f"{option}: {text!r} is not PATH=VALUE")
    return path.strip(), value.strip().strip('"')


def _write_scenario(sc, values: dict[str, str], out: Path, note: str) -> None:
    from twin.results import write_bytes_atomic
    from twin.scenario.yamlio import rewrite_scenario

    text = rewrite_scenario(sc.text, {**dict(_split_assignment(o, "--set") for o in sc.overrides), **values},
                            f"{note}\nfrom {sc.path} (sha256 {sc.sha256[:12]})")
    try:
        write_bytes_atomic(out, text.encode())
    except OSError as exc:
        err_console.print(f"[bold red]error:[/] could not write {out}: {exc}")
        sys.exit(2)
    console.print(f"written: {out}")


def _write_csv_atomic(ds, path: Path) -> None:
    from twin.results import write_bytes_atomic

    df = ds[["derivative", "elasticity", *(["finite_difference"] if "finite_difference" in ds else [])]]
    write_bytes_atomic(path, df.to_dataframe().reset_index().to_csv(index=False).encode())

def _energy(x: float) -> str:
    return f"{x / 3.6e9:,.2f} MWh" if not math.isnan(x) else "n/a"


def _share(x: float) -> str:
    return f"{100 * x:.1f} %" if not math.isnan(x) else "n/a"


def _money(x: float, currency: str) -> str:
    return f"{x:,.0f} {currency}" if not math.isnan(x) else "n/a"


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
        t.add_row("waste heat available (recovery boundary)", _energy(k["waste_heat_available"]))
        t.add_row("  recovered (EED share)", _share(k["waste_heat_recovered_share"]))
        t.add_row("  delivered to use (recapture rate)", _share(k["recapture_rate"]))
        t.add_row("CO2 emitted (fuel, process, grid)", f"{k['co2_mass'] / 1000:,.2f} t")
        cur = sc.kpi_config.currency
        t.add_row("energy cost / output value", f"{_money(k['energy_cost'], cur)} / {_money(k['output_value'], cur)}")
        ci = k["carbon_intensity"]
        t.add_row("carbon intensity", f"{ci:.3g} kg CO2/{cur}" if not math.isnan(ci) else "n/a")
        t.add_row("material circularity", _share(k["circularity"]))
        if not math.isnan(k["specific_energy"]):
            t.add_row("energy per t good product / yield",
                      f"{k['specific_energy'] / 1e6:.2f} GJ/t / {_share(k['material_yield'])}")
        t.add_row("exergy efficiency (delivered / supplied)", _share(k["exergy_efficiency"]))
        if result.pinch is not None:
            p = result.pinch
            t.add_row(f"pinch target, direct / storage ({p.dT_min:g} K)",
                      f"{p.direct / 3.6e9:,.2f} / {_energy(p.storage_J)}")
            t.add_row("  recovered / storage target", _share(k["heat_recovery_attainment"]))
            for phase in dict.fromkeys(x for x in p.phase if x):  # recovered vs direct target per phase
                j = [i for i, x in enumerate(p.phase) if x == phase]
                t.add_row(f"  {phase}", f"{_energy(sum(p.recovered[j]))} of {_energy(sum(p.Q_rec_max[j]))}")
        name, worst = result.audit.worst()
        t.add_row("first-law closure (plant)", f"{k['energy_closure']:.2e}")
        t.add_row("  worst component", f"{name}: {worst:.2e}")
        a = result.audit
        t.add_row(f"exergy destroyed (T0 = {a.T0 - 273.15:.1f} degC)", _energy(a.plant_exergy.destruction))
        for n, b in sorted(a.exergy.items(), key=lambda nb: -nb[1].destruction)[:5]:
            if b.destruction > 1e-3 * max(a.plant_exergy.destruction, 1.0):
                t.add_row(f"  {n}", _energy(b.destruction))
    st = sol.stats
    method = sol.method or sc.solver.method
    t.add_row("solver", f"{method}{f' (retried; scenario: {sc.solver.method})' if sol.retry else ''}, "
                        f"{st['num_accepted_steps']} steps (+{st['num_rejected_steps']} rejected)")
    t.add_row("wall time (run / compile)", f"{st['wall_time']:.2f} s / {st['compile_time']:.1f} s")
    t.add_row("results", str(out))
    console.print(t)
    if sol.retry:
        err_console.print(f"[bold yellow]solver retried:[/] {sol.retry}", soft_wrap=True)
    if not sol.success:
        where = f"{sol.t_reached / 3600:.3f} h" + (f" ({sol.t_reached:.6g} s)" if sol.t_reached < 36 else "")
        err_console.print(f"[bold red]solver stopped at t = {where}:[/] {sol.message}; "
                          f"the partial results up to there are in {out}", soft_wrap=True)
    for msg in result.second_law_violations:
        err_console.print(f"[bold red]second law violated:[/] {msg}")
    for c in result.checks:
        mark = "[green]pass[/]" if c.passed else "[bold red]FAIL[/]"
        console.print(f"check {mark}: {c.describe()}")


if __name__ == "__main__":  # pragma: no cover
    main()
