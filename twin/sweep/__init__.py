"""Batch what-if sweeps: many variants of a scenario in one compiled, vectorised computation.

* :mod:`twin.sweep.spec`: the swept parameters (ranges, levels, CSV lists) and the variants
  drawn from them (grid, Latin hypercube, list).
* :mod:`twin.sweep.batch`: how variant values enter the plant (a verified affine map, or
  loading every variant), and the compiled, vmapped solve of a chunk of lanes.
* :mod:`twin.sweep.engine`: chunks, one results file per variant, the ledger, ``--resume``
  and the collected Dataset.
"""

from twin.sweep.engine import SweepResult, SweepSettings, collect, run_sweep
from twin.sweep.spec import Axis, SweepSpecError, Variants, grid, latin_hypercube, parse_vary, read_list

__all__ = ["Axis", "SweepResult", "SweepSettings", "SweepSpecError", "Variants", "collect", "grid",
           "latin_hypercube", "parse_vary", "read_list", "run_sweep"]
