"""Bad plant logs on the command line (issue 7): ``twin calibrate`` answers each with exit 2
and one line per problem naming the log, the line and the column, no traceback, and writes
nothing.

The cases are in tests/bad_inputs/logs/: a CSV per mistake (rows out of order, a repeated
instant, a NaN or an empty cell without a ``gaps:`` policy, timestamps with and without a
UTC offset mixed, local times without a time zone, the fall-back hour and the spring-forward
hour of daylight saving), each with its expectation in its comment header as in the
scenario corpus (tests/bad_inputs/README.md) and, when it is not ``map.yaml``, its map.
Every mistake is found while the log is read, before anything is compiled: the test makes
sure no fit starts.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from twin.cli import main

LOGS = Path(__file__).resolve().parent / "bad_inputs" / "logs"
CASES = sorted(LOGS.glob("*.csv"))


def _header(path: Path) -> dict[str, str]:
    """``exit``, ``line``, ``column``, ``says`` and ``map`` from the case's comment lines."""
    out = {"map": "map.yaml"}
    for text in path.read_text(encoding="utf-8").splitlines():
        if not text.startswith("#"):
            break
        if m := re.match(r"#\s*map:\s*(\S+)", text):
            out["map"] = m.group(1)
        elif m := re.match(r"#\s*expect:\s*(.*)", text):
            out.update((k, v.strip('"')) for k, v in (w.split("=", 1) for w in shlex.split(m.group(1))))
    return out


def test_every_case_states_what_it_expects():
    assert len(CASES) >= 8
    for case in CASES:
        h = _header(case)
        assert {"exit", "line", "column", "says"} <= h.keys(), case.name
        assert (LOGS / h["map"]).exists(), case.name


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_bad_log_exit_2_with_file_line_and_column(case, tmp_path, monkeypatch):
    import twin.calibrate

    def no_fit(*args, **kwargs):
        raise AssertionError("the log was accepted: a fit started")

    for name in ("calibrate", "calibrate_experiments"):  # whichever the command line fits with
        if hasattr(twin.calibrate, name):
            monkeypatch.setattr(twin.calibrate, name, no_fit)
    h = _header(case)
    out = tmp_path / "out"
    out.mkdir()
    res = CliRunner().invoke(main, ["calibrate", str(LOGS / "plant.yaml"), "--log", str(case),
                                    "--map", str(LOGS / h["map"]), "--fit", "user.fluid_holdup",
                                    "-o", str(out / "calibrated.yaml"), "--plot", str(out / "fit.png")])
    assert res.exit_code == int(h["exit"]), res.output
    assert "Traceback" not in res.output and "the plant log or its map has" in res.output
    lines = [x for x in res.output.splitlines() if f"{case}:{h['line']}: " in x]
    assert lines, f"no line names {case.name}:{h['line']}:\n{res.output}"
    assert f": {h['column']}: " in lines[0] and h["says"] in lines[0], lines[0]
    assert not any(out.iterdir())  # nothing written
