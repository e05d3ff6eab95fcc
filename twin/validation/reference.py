"""Reading reference data that nobody here wrote: where it lives and its three formats.

Reference data from outside the project is never copied into the repository; it is read
from ``$TWIN_REFERENCE_DATA`` or, by default, ``../shared/data/reference`` beside the
repository (the workplace's shared folder). A case whose files are absent is skipped with
a message saying which file and where it was looked for.

Formats
-------
* Dymola / BuildingsPy reference results (``*.txt`` in ``reference_results``): lines
  ``name=[v0, v1, ...]``; ``time=[t0, t1]`` gives the span of the (101) equidistant
  samples; a variable with two values is a constant (BuildingsPy stores parameters so).
* Modelica ``CombiTimeTable`` text (``*.txt``, ``*.mos``): ``#1``, then one or more
  ``double name(rows, cols)`` headers each followed by ``rows`` lines of numbers
  (spaces, commas or tabs); column 1 is time in seconds.
* CSV with a header row (:func:`load_csv`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV = "TWIN_REFERENCE_DATA"


def reference_dir() -> Path | None:
    """The reference-data folder: ``$TWIN_REFERENCE_DATA``, else ``../shared/data/reference``
    beside the repository (found from this package and from the working directory); None
    if none exists."""
    env = os.environ.get(ENV)
    if env:
        return Path(env) if Path(env).is_dir() else None
    for base in (Path(__file__).resolve().parents[2], Path.cwd()):
        for up in (base, *base.parents):
            cand = up.parent / "shared" / "data" / "reference"
            if cand.is_dir():
                return cand
    return None


class MissingReference(FileNotFoundError):
    """A case's reference file is not there (the case is skipped, not failed)."""


def reference_file(relative: str) -> Path:
    """Path of ``relative`` inside the reference folder, or :class:`MissingReference`."""
    root = reference_dir()
    if root is None:
        raise MissingReference(f"no reference-data folder: set {ENV} or provide ../shared/data/reference")
    path = root / relative
    if not path.is_file():
        raise MissingReference(f"{relative} not found in {root}")
    return path


@dataclass(frozen=True)
class DymolaResult:
    """A Dymola reference trajectory: ``time`` (s) and ``values[name]`` on it."""

    time: np.ndarray
    values: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.values[name]
        except KeyError:
            raise KeyError(f"{name!r} is not in the reference result; it has: "
                           f"{', '.join(sorted(self.values))}") from None


_ENTRY = re.compile(r"^([A-Za-z_][\w.\[\],]*)=\[(.*)\]\s*$")


def load_dymola(path: str | Path) -> DymolaResult:
    """Read a BuildingsPy reference-result file (see the module docstring)."""
    raw: dict[str, np.ndarray] = {}
    for line in Path(path).read_text().splitlines():
        m = _ENTRY.match(line.strip())
        if m:
            raw[m[1]] = np.array([float(v) for v in m[2].split(",") if v.strip()])
    if "time" not in raw or raw["time"].size != 2:
        raise ValueError(f"{path}: no 'time=[t0, t1]' line")
    n = max((v.size for k, v in raw.items() if k != "time"), default=2)
    t = np.linspace(raw["time"][0], raw["time"][1], n)
    values = {k: (np.full(n, v[0]) if v.size == 2 and n != 2 else v) for k, v in raw.items() if k != "time"}
    bad = [k for k, v in values.items() if v.size != n]
    if bad:
        raise ValueError(f"{path}: {', '.join(bad)} have neither {n} samples nor 2 (a constant)")
    return DymolaResult(t, values)


_HEADER = re.compile(r"^\s*double\s+(\w+)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)")


def load_combitimetable(path: str | Path) -> dict[str, np.ndarray]:
    """Read the tables of a Modelica CombiTimeTable text file: ``{name: (rows, cols)}``."""
    lines = Path(path).read_text().splitlines()
    out: dict[str, np.ndarray] = {}
    k = 0
    while k < len(lines):
        m = _HEADER.match(lines[k])
        k += 1
        if not m:
            continue
        name, rows, cols = m[1], int(m[2]), int(m[3])
        data = []
        while len(data) < rows and k < len(lines):
            text = lines[k].split("#", 1)[0].strip()
            k += 1
            if text:
                data.append([float(v) for v in re.split(r"[,\s]+", text) if v])
        arr = np.array(data, dtype=float)
        if arr.shape != (rows, cols):
            raise ValueError(f"{path}: table {name} should be {rows}x{cols}, read {arr.shape}")
        out[name] = arr
    if not out:
        raise ValueError(f"{path}: no 'double name(rows, cols)' table")
    return out


def load_csv(path: str | Path) -> dict[str, np.ndarray]:
    """Read a numeric CSV with a header row: ``{column: values}``."""
    data = np.genfromtxt(path, delimiter=",", names=True, dtype=float, encoding="utf-8")
    return {n: np.asarray(data[n], dtype=float) for n in data.dtype.names}
