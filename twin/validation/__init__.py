"""Validation against reference data nobody here wrote (``twin validate``).

:mod:`~twin.validation.reference` reads the reference formats, :mod:`~twin.validation.compare`
judges signals (funnel tube, RMSE/bias), :mod:`~twin.validation.case` finds and runs the cases
in the repository's ``validation/`` folder, :mod:`~twin.validation.report` writes the HTML
report.
"""

from twin.validation.case import Case, CaseResult, discover, run_case, select
from twin.validation.compare import Comparison, funnel, statistics
from twin.validation.reference import (
    MissingReference,
    load_combitimetable,
    load_dymola,
    reference_file,
)

__all__ = [
    "Case", "CaseResult", "Comparison", "MissingReference", "discover", "funnel", "load_combitimetable",
    "load_dymola", "reference_file", "run_case", "select", "statistics",
]
