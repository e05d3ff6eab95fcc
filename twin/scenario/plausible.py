"""Plausible ranges of scenario fields: values that are possible but most likely a slip.

The schema rejects what cannot be (a negative mass, an efficiency above 1). This table
catches what can be but almost never is: a furnace of ``5 mW`` (meant: ``5 MW``), a UA of
``1e9 W/K``, a PCM bank of a million tonnes, an ambient of ``15 K`` (meant: ``15 degC``).
Such a value is a *warning*, printed with file, line and field path; ``--strict`` (``twin
run``, ``check``, ``sweep``, ``validate``) makes it an error (exit code 2), as does
``load_scenario(..., strict=True)``.

The ranges are deliberately wide: they are there to catch unit and typing slips, not to
judge a design. Each row gives its reason. A value the file does not write (a default) is
never judged.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.scenario.errors import Problem
from twin.units import format_quantity, parse_quantity

if TYPE_CHECKING:
    from twin.scenario.schema import ScenarioModel
    from twin.scenario.yamlio import LineMap

__all__ = ["PLAUSIBLE", "Plausible", "file_warnings", "implausible_values", "sweep_warnings"]


@dataclasses.dataclass(frozen=True)
class Plausible:
    """The plausible range of one field.

    Attributes
    ----------
    scope
        Component ``type`` the row applies to, or ``""`` for a top-level field.
    field
        Dotted path inside the component (or from the top level); ``*`` runs over a list.
    dimension
        Dimension of the bounds (:data:`twin.units.DIMENSIONS`).
    low, high
        Bounds as quantity text (``"10 kW"``), inclusive; None for no bound.
    why
        One line: why values outside are implausible.
    when
        Optional condition on the component's validated model (``energy != electric``).
    """

    scope: str
    field: str
    dimension: str
    low: str | None
    high: str | None
    why: str
    when: Callable[[Any], bool] | None = None

    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` in SI (``-inf``/``inf`` where unbounded)."""
        lo = parse_quantity(self.low, self.dimension) if self.low is not None else -math.inf
        hi = parse_quantity(self.high, self.dimension) if self.high is not None else math.inf
        return lo, hi


def _fired(heater: Any) -> bool:
    return heater.energy != "electric"


_UA = "from a small coil (about 10 W/K) to a power-station condenser (about 1e8 W/K: 500 MW at 5 K)"

PLAUSIBLE: tuple[Plausible, ...] = (
    Plausible("", "ambient.temperature", "temperature", "-90 degC", "60 degC",
              "air on Earth stays between -89 degC (Vostok) and +57 degC (Death Valley); "
              "'15 K' is a slip for '15 degC'"),
    Plausible("", "duration", "time", "1 min", "1830 d",
              "energy plants are simulated over hours to years"),
    Plausible("furnace", "firing_rate", "power", "10 kW", "1 GW",
              "industrial furnaces fire from about 10 kW (small kilns) to some hundred MW"),
    Plausible("furnace", "load.inventory", "mass", "1 kg", "10000 t",
              "the largest glass tanks and reheating furnaces hold some thousand tonnes"),
    Plausible("heater", "nominal_power", "power", "100 W", "1 GW",
              "from a domestic heater to the largest industrial boilers"),
    Plausible("heater", "efficiency", "fraction", "50 %", "97 %",
              "a fuel-fired heater or boiler turns at most about 95 % of the fuel's LHV into "
              "heat (flue-gas loss); electric heaters may reach 100 %", when=_fired),
    Plausible("pump", "efficiency", "fraction", "10 %", "92 %",
              "pump and motor together reach 20-85 %; no pump reaches 95 %"),
    Plausible("pump", "mass_flow", "mass_flow", "0.001 kg/s", "50 t/s",
              "the largest cooling-water pumps move about 20 m^3/s"),
    Plausible("pump", "pressure_rise", "pressure", None, "400 bar",
              "boiler feed pumps, the highest-pressure pumps in a plant, reach about 300 bar"),
    Plausible("heat_pump", "carnot_efficiency", "fraction", "15 %", "80 %",
              "industrial heat pumps reach 40-60 % of the Carnot COP (Arpagaus et al. 2018)"),
    Plausible("heat_pump", "nominal_power", "power", "100 W", "500 MW",
              "from a domestic heat pump to the largest district-heating units (some 10 MW)"),
    *(Plausible(kind, "UA", "thermal_conductance", "1 W/K", "1e8 W/K", _UA)
      for kind in ("counterflow_exchanger", "recuperator", "regenerator",
                   "effectiveness_exchanger", "mould_preheater", "fab_hvac",
                   "district_substation")),
    Plausible("pcm_bank", "mass", "mass", "100 g", "10000 t",
              "latent-heat stores built so far hold up to some hundred tonnes"),
    Plausible("pcm_bank", "thickness", "length", "0.5 mm", "300 mm",
              "heat crosses only some 10 cm of PCM (0.2-0.6 W/m/K) in a day"),
    Plausible("stratified_tank", "volume", "volume", "10 L", "1e6 m^3",
              "from a domestic cylinder to the largest pit stores (about 2e5 m^3)"),
    Plausible("pipe", "length", "length", "10 cm", "200 km",
              "district-heating transmission lines reach some 10 km"),
    Plausible("pipe", "diameter", "length", "2 mm", "3 m",
              "DN2 to DN3000 cover process, district-heating and cooling-water piping"),
    *(Plausible(kind, "demand", "power", None, "2 GW",
                "a single heat user of more than 2 GW is bigger than any city's network")
      for kind in ("heat_demand", "district_substation")),
)
"""The table: one row per field (:class:`Plausible`)."""


def _values(node: Any, parts: list[str], path: tuple) -> Iterator[tuple[tuple, float]]:
    """``(path, SI value)`` of every value at ``parts`` below a validated model node."""
    if node is None:
        return
    if not parts:
        values = getattr(node, "values", None)  # a ScheduleSpec: every value of the schedule
        if isinstance(values, tuple):
            for v in values:
                yield path, float(v)
        elif isinstance(node, (list, tuple)):
            for k, v in enumerate(node):
                yield from _values(v, [], path + (k,))
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            yield path, float(node)
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        for k, item in enumerate(node if isinstance(node, (list, tuple)) else ()):
            yield from _values(item, rest, path + (k,))
    else:
        yield from _values(getattr(node, head, None), rest, path + (head,))


def _written(data: Any, path: tuple) -> tuple[bool, Any]:
    """Whether the plain file data holds ``path`` (a value the user wrote), and its value."""
    node = data
    for seg in path:
        in_map = isinstance(node, dict) and seg in node
        in_list = isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node)
        if not (in_map or in_list):
            return False, None
        node = node[seg]
    return True, node


def _rows(model: ScenarioModel) -> Iterator[tuple[Plausible, Any, tuple]]:
    for row in PLAUSIBLE:
        if not row.scope:
            yield row, model, ()
            continue
        for name, comp in model.components.items():
            if comp.type == row.scope and (row.when is None or row.when(comp)):
                yield row, comp, ("components", name)


def implausible_values(model: ScenarioModel, data: dict, file: str,
                       linemap: LineMap | None) -> list[Problem]:
    """Every value of ``model`` outside its :data:`PLAUSIBLE` range, as a :class:`Problem`.

    Parameters
    ----------
    model
        The validated scenario.
    data
        The plain data it was validated from (after ``--set`` overrides): only values written
        there are judged, and the report shows them as written.
    file
        File name for the report.
    linemap
        Line numbers of the file (``--set`` values are reported as such); None: no lines.

    Returns
    -------
    list[Problem]
        One per value outside its range, at the path the file wrote it (the using field for
        a named schedule), ``accepted`` naming the range and why.
    """
    out = []
    for row, node, prefix in _rows(model):
        lo, hi = row.bounds()
        reported = set()
        for path, x in _values(node, row.field.split("."), prefix):
            if lo <= x <= hi or not math.isfinite(x) or path in reported:
                continue
            written, raw = _written(data, path)
            if not written:
                continue
            reported.add(path)
            given = repr(raw) if not isinstance(raw, (dict, list)) else ""
            where, line = linemap.locate(path, file) if linemap is not None else (file, None)
            out.append(Problem(where, line, ".".join(map(str, path)), given,
                               f"implausible: {format_quantity(x, row.dimension)} is outside "
                               f"{_span(row.dimension, lo, hi)} ({row.why})"))
    return out


def _span(dimension: str, lo: float, hi: float) -> str:
    def show(x: float) -> str:
        return format_quantity(x, dimension)

    if math.isfinite(lo) and math.isfinite(hi):
        return f"{show(lo)} to {show(hi)}"
    return f"at most {show(hi)}" if math.isfinite(hi) else f"at least {show(lo)}"


def sweep_warnings(path: str | Path, base_overrides: Sequence[str], variants: Any) -> list[Problem]:
    """Implausible values among the variants of a sweep (:class:`twin.sweep.spec.Variants`).

    Each axis is loaded at its lowest and its highest value, the others at the base: every
    row of :data:`PLAUSIBLE` judges one field, so the extremes of each axis find every
    implausible value of the sweep. A variant the loader rejects is left to the sweep, which
    reports it as invalid. The problems are labelled ``sweep`` (no file line).
    """
    from twin.scenario.build import load_scenario
    from twin.scenario.errors import ScenarioError

    out: dict[str, Problem] = {}
    for j, axis in enumerate(variants.axes):
        column = variants.values[:, j]
        for value in sorted({float(column.min()), float(column.max())}):
            text = axis.text(value)
            try:
                sc = load_scenario(path, [*base_overrides, f"{axis.path}={text}"])
            except ScenarioError:
                continue
            for p in sc.warnings:
                if p.file == "--set":  # the varied value, not a warning of the base file
                    q = dataclasses.replace(p, file="sweep", given=repr(text))
                    out.setdefault(q.render(), q)
    return list(out.values())


def file_warnings(paths: Iterable[str | Path]) -> list[Problem]:
    """Implausible values of the scenario files among ``paths`` (``twin validate``'s case
    folders); a file that is not a loadable scenario is skipped."""
    from twin.scenario.build import load_scenario
    from twin.scenario.errors import ScenarioError

    out = []
    for path in paths:
        try:
            out.extend(load_scenario(path).warnings)
        except (ScenarioError, OSError, ValueError):
            continue
    return out
