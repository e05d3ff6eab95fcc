"""The bad-input corpus (``tests/bad_inputs/``, see its README): every mistake is answered
with exit code 2 and one message line naming the file, the line and the field path; never a
traceback, and nothing is written.

Every case is detected while the scenario is loaded, before anything is compiled, so the
whole corpus runs in a few seconds. The implausible-value table (twin.scenario.plausible)
is checked here too: a warning without ``--strict``, an error with it.
"""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from twin.cli import main

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = sorted(CORPUS.glob("*.yaml"))
VALID = sorted((CORPUS / "valid").glob("*.yaml"))
DEFAULT_ARGS = "run {file} -o {out}/result.nc"


@dataclasses.dataclass(frozen=True)
class Expect:
    """A case's expectation, from its header comments (``# expect:`` and ``# args:``)."""

    exit: int
    field: str
    says: str
    line: int | None = None
    where: str | None = None
    args: str = DEFAULT_ARGS


def _expect(path: Path) -> Expect:
    fields: dict[str, str] = {}
    for text in path.read_text().splitlines():
        if not text.startswith("#"):
            break
        key, sep, rest = text[1:].strip().partition(":")
        if sep and key == "args":
            fields["args"] = rest.strip()
        elif sep and key == "expect":
            fields.update(item.split("=", 1) for item in shlex.split(rest))
    return Expect(exit=int(fields["exit"]), field=fields["field"], says=fields["says"],
                  line=int(fields["line"]) if "line" in fields else None, where=fields.get("where"),
                  args=fields.get("args", DEFAULT_ARGS))


def _invoke(path: Path, args: str, out: Path):
    argv = [a.format(file=str(path), out=str(out)) for a in shlex.split(args)]
    return CliRunner().invoke(main, argv)


def test_corpus_size_and_headers():
    assert len(CASES) >= 40
    for path in CASES:
        exp = _expect(path)
        assert exp.exit == 2 and exp.field and exp.says, path.name
        assert (exp.line is None) != (exp.where is None), f"{path.name}: give line= or where="


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_the_valid_bases_pass(path, tmp_path):
    """The plants the cases are edited from are fine: each case fails by its one mistake."""
    result = _invoke(path, "check {file}", tmp_path)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output and "error" not in result.output


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_bad_input(path, tmp_path):
    exp = _expect(path)
    out = tmp_path / "out"
    out.mkdir()
    result = _invoke(path, exp.args, out)
    text = result.output
    assert result.exit_code == exp.exit, text
    assert isinstance(result.exception, SystemExit) and "Traceback" not in text, text
    if exp.line is not None:  # file:line: then the field path, and the message, on one line
        at = f"{path.name}:{exp.line}: "
        hits = [s.split(at, 1)[1] for s in text.splitlines() if at in s]
    else:  # a command-line option (--vary) or a sweep variant: no file line
        hits = [s.split(exp.where, 1)[1] for s in text.splitlines() if exp.where in s]
    assert any(exp.field in h and exp.says in h for h in hits), text
    assert not any(out.iterdir()), "nothing may be written for a bad input"


# ------------------------------------------------------------------ decisions pinned


def _scenario(tmp_path, edits=(), name="plant.yaml"):
    text = (CORPUS / "valid" / "loop.yaml").read_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("unit, factor", [("W/m^2/degC", 1.0), ("W/(m^2*degC)", 1.0),
                                          ("W/m^2/°C", 1.0), ("W/m^2/delta_degC", 1.0),
                                          ("W/m^2/degF", 1.8)])
def test_offset_unit_inside_a_compound_unit_is_its_difference(tmp_path, unit, factor):
    """'200 W/m^2/degC' is exactly 200 W/m^2/K (a per-kelvin quantity: degC inside a compound
    unit is a temperature difference), never an offset value; degF gives 9/5 of it."""
    from twin.scenario.build import load_scenario

    kelvin = load_scenario(_scenario(tmp_path, name="k.yaml"))
    other = load_scenario(_scenario(tmp_path, [("h_conv: 200 W/m^2/K", f"h_conv: 200 {unit}")]))
    h = float(other.plant.components["store"].h_conv)
    assert h == float(kelvin.plant.components["store"].h_conv) * factor  # bitwise for factor 1
    assert h == 200.0 * factor


@pytest.mark.parametrize("written, value", [("on", True), ("yes", True), ("true", True),
                                            ("off", False), ("NO", False), ("false", False)])
def test_yaml_1_1_booleans_mean_what_they_meant(tmp_path, written, value):
    """YAML 1.2 reads 'on'/'NO' as text; a boolean field takes them as YAML 1.1 did, so the
    file means the same to every reader (unlike '012', which is rejected: see the corpus)."""
    from twin.scenario.build import load_scenario

    sc = load_scenario(_scenario(tmp_path, [("U_loss: 0.3 W/m/K,", f"U_loss: 0.3 W/m/K, wall_symmetric: {written},")]))
    assert sc.model.components["pipe"].wall_symmetric is value


# ------------------------------------------------------------------ implausible values

STRICT_CHECKS = [p for p in CASES if _expect(p).args.startswith("check ") and "--strict" in _expect(p).args]


def test_strict_cases_cover_the_brief():
    names = {p.stem for p in STRICT_CHECKS}
    assert {"strict_furnace_milliwatt", "strict_fired_heater_efficiency", "strict_UA_1e9",
            "strict_pcm_million_tonnes"} <= names


@pytest.mark.parametrize("path", STRICT_CHECKS, ids=lambda p: p.stem)
def test_implausible_value_is_a_warning_without_strict(path, tmp_path):
    exp = _expect(path)
    result = _invoke(path, exp.args.replace("--strict", ""), tmp_path)
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "--strict makes them errors" in result.output
    at = f"{path.name}:{exp.line}: {exp.field}: "
    assert any(at in s and exp.says in s for s in result.output.splitlines()), result.output


def test_load_scenario_returns_warnings_and_strict_raises(tmp_path):
    from twin.scenario.build import load_scenario
    from twin.scenario.errors import ScenarioError

    path = _scenario(tmp_path, [("mass: 5 t", "mass: 1e6 t")])
    (w,) = load_scenario(path).warnings
    assert (w.file, w.line, w.path, w.given) == (str(path), 8, "components.store.mass", "'1e6 t'")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, strict=True)
    assert info.value.problems == [w]
    # a --set value is judged like the file's and reported as --set; a default never is
    ok = _scenario(tmp_path, name="ok.yaml")
    assert load_scenario(ok).warnings == ()
    (w,) = load_scenario(ok, ["pump.efficiency=0.99"]).warnings
    assert (w.file, w.line, w.path) == ("--set", None, "components.pump.efficiency")
    electric = load_scenario(ok, ["heater.energy=electric", "heater.efficiency=1"])
    assert electric.warnings == ()  # the fired-heater row does not judge electric heaters


def test_shipped_scenarios_are_plausible():
    from twin.scenario.build import load_scenario

    root = Path(__file__).parents[1]
    files = sorted((root / "scenarios").glob("*.yaml")) + sorted((root / "validation").glob("*/*.yaml"))
    assert files
    for f in files:
        assert load_scenario(f).warnings == (), f


def test_plausible_table_names_real_fields():
    """A row with a misspelt type or field would never fire: every row must reach a field of
    the schema, with bounds in its dimension and a reason."""
    from twin.scenario.errors import _descend
    from twin.scenario.plausible import PLAUSIBLE
    from twin.scenario.schema import COMPONENT_TYPES, ScenarioModel

    for row in PLAUSIBLE:
        model = COMPONENT_TYPES[row.scope] if row.scope else ScenarioModel
        loc = [0 if part == "*" else part for part in row.field.split(".")]
        assert _descend(model, loc) is not None, row
        lo, hi = row.bounds()
        assert lo < hi and row.why, row


def test_sweep_axes_are_judged_at_their_ends(tmp_path):
    from twin.scenario.plausible import sweep_warnings
    from twin.sweep.spec import grid, parse_vary

    path = _scenario(tmp_path)
    variants = grid(parse_vary(["store.mass=5 t..1e6 t", "pump.mass_flow=1 kg/s..3 kg/s"]), 3)
    (w,) = sweep_warnings(path, (), variants)
    assert (w.file, w.path, w.given) == ("sweep", "components.store.mass", "'1000000 t'")
    assert sweep_warnings(path, (), grid(parse_vary(["store.mass=5 t..50 t"]), 3)) == []


def test_validate_strict_refuses_an_implausible_case(tmp_path, monkeypatch):
    """``twin validate`` judges the scenario files of the chosen cases before running any:
    a warning, or with --strict exit code 2 and nothing run."""
    from twin.validation import case as vc

    folder = tmp_path / "validation" / "tiny"
    folder.mkdir(parents=True)
    (folder / "case.py").write_text(
        "from twin.validation.case import Case\n"
        "from twin.validation.reference import MissingReference\n"
        "def run():\n    raise MissingReference('no data in this test')\n"
        "CASE = Case(id='T-1', title='tiny', source='test', run=run)\n")
    _scenario(folder, [("mass: 5 t", "mass: 1e6 t")], name="plant.yaml")
    monkeypatch.setattr(vc, "validation_root", lambda: tmp_path / "validation")
    strict = CliRunner().invoke(main, ["validate", "--strict"])
    assert strict.exit_code == 2, strict.output
    assert "plant.yaml:8: components.store.mass: '1e6 t', implausible" in strict.output
    assert "skipped" not in strict.output  # nothing ran
    lax = CliRunner().invoke(main, ["validate"])
    assert lax.exit_code == 0 and "warning:" in lax.output and "1 skipped" in lax.output, lax.output
