"""Validation cases: what one is, where they live, and running them.

A case is a folder ``validation/<name>/`` of the repository with

* ``README.md``: the source of the reference (citation, file), the set-up, and for every
  compared signal its tolerance and why that tolerance;
* ``case.py``: a module-level ``CASE = Case(...)``; its ``run`` function builds and solves
  the twin model (a scenario file in the folder, or a small driver for component-level
  cases), reads the reference (:mod:`twin.validation.reference`, or computes an analytic
  one) and returns the judged signals (:mod:`twin.validation.compare`).

``fast`` cases make the subset CI runs; ``twin validate`` runs them all. A case whose
reference files are absent raises :class:`~twin.validation.reference.MissingReference`
and is reported as skipped with that message.
"""

from __future__ import annotations

import importlib.util
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from twin.validation.compare import Comparison
from twin.validation.reference import MissingReference


@dataclass(frozen=True)
class Case:
    """A validation case (see the module docstring).

    Attributes
    ----------
    id : Short identifier, e.g. ``"HX-1"`` (as in VALIDATION_CASES.md).
    title : One line.
    source : Citation of the reference (model, file, paper).
    run : ``() -> list[Comparison]``.
    fast : Part of the CI subset.
    components : twin component types the case exercises.
    """

    id: str
    title: str
    source: str
    run: Callable[[], list[Comparison]]
    fast: bool = True
    components: tuple[str, ...] = ()


@dataclass
class CaseResult:
    """Outcome of running one case: ``status`` is ``"pass"``, ``"fail"``, ``"skip"`` (no
    reference data) or ``"error"`` (the case raised; ``message`` has the reason)."""

    case: Case
    status: str
    comparisons: list[Comparison] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    folder: Path | None = None


def validation_root() -> Path | None:
    """The repository's ``validation/`` folder (beside the ``twin`` package, or in the
    working directory); None if absent."""
    for cand in (Path(__file__).resolve().parents[2] / "validation", Path.cwd() / "validation"):
        if cand.is_dir():
            return cand
    return None


def _load(folder: Path) -> Case:
    spec = importlib.util.spec_from_file_location(f"twin_validation_{folder.name}", folder / "case.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {folder / 'case.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    case = getattr(module, "CASE", None)
    if not isinstance(case, Case):
        raise TypeError(f"{folder / 'case.py'} defines no CASE = Case(...)")
    return case


def _broken(folder: Path, exc: Exception) -> Case:
    """A stand-in for a case file that does not import: running it reports the reason."""
    message = f"{folder / 'case.py'} does not load: {type(exc).__name__}: {exc}"

    def run() -> list[Comparison]:
        raise ImportError(message)

    return Case(folder.name, "(case file does not load)", str(folder), run, fast=True)


def discover(root: Path | None = None) -> dict[str, tuple[Case, Path]]:
    """Every case under ``root`` (default :func:`validation_root`), by id, sorted."""
    root = root or validation_root()
    if root is None:
        return {}
    cases = {}
    for folder in sorted(p for p in root.iterdir() if (p / "case.py").is_file()):
        try:
            case = _load(folder)
        except Exception as exc:  # noqa: BLE001  (a broken case file is that case's error only)
            case = _broken(folder, exc)
        if case.id in cases:
            raise ValueError(f"validation case id {case.id!r} is used by {cases[case.id][1]} and {folder}")
        cases[case.id] = (case, folder)
    return cases


def select(cases: dict[str, tuple[Case, Path]], names: Sequence[str], fast: bool = False) -> list[tuple[Case, Path]]:
    """The cases named (by id or folder name, case-insensitive), or all (the fast ones with
    ``fast``); an unknown name raises ``KeyError`` listing the known ones."""
    if not names:
        return [cf for cf in cases.values() if cf[0].fast or not fast]
    by_name = {k.lower(): v for k, v in cases.items()} | {v[1].name.lower(): v for v in cases.values()}
    out = []
    for n in names:
        if n.lower() not in by_name:
            raise KeyError(f"no validation case {n!r}; cases: {', '.join(cases)}")
        out.append(by_name[n.lower()])
    return out


def run_case(case: Case, folder: Path | None = None) -> CaseResult:
    """Run one case; never raises (an exception becomes status ``"error"``)."""
    t0 = time.perf_counter()
    try:
        comparisons = case.run()
    except MissingReference as exc:
        return CaseResult(case, "skip", message=f"reference data missing: {exc}",
                          seconds=time.perf_counter() - t0, folder=folder)
    except Exception as exc:  # noqa: BLE001  (a broken case is reported, the others still run)
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        return CaseResult(case, "error", message=f"{type(exc).__name__}: {exc} ({Path(tb.filename).name}:{tb.lineno})",
                          seconds=time.perf_counter() - t0, folder=folder)
    status = "pass" if comparisons and all(c.passed for c in comparisons) else "fail"
    message = "" if comparisons else "the case compared nothing"
    return CaseResult(case, status, comparisons, message, time.perf_counter() - t0, folder)
