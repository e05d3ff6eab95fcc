"""Execute the worked studies in this folder as tests (README: Notebooks).

The notebooks are kept as jupytext scripts (``# %%`` cells, reviewable diffs, no outputs in
git). Each ``NN_*.py`` here with a jupytext header is one test: it is converted to a
notebook in ``_build/`` (ignored by git) and executed cell by cell in a fresh Jupyter kernel
by nbmake's runner, which fails the test on the first cell that raises, with that cell's
traceback. The executed notebook, outputs included, stays in ``_build/`` to be opened.

``TWIN_FAST=1`` is set for the kernels: a notebook may then skip what only repeats a point
at more cost (each says what it skips). The kernels inherit the test session's environment
(the XLA compile flags and ``TWIN_CACHE_DIR`` of tests/conftest.py), so a plant that a test
compiled already comes from the persistent compilation cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HEADER = "# ---\n# jupyter:"
BUILD = Path(__file__).resolve().parent / "_build"
TIMEOUT = 900  # per cell [s]: compiles on a busy 2-core CI machine


def _is_notebook(path: Path) -> bool:
    return (path.suffix == ".py" and path.parent == Path(__file__).resolve().parent
            and path.read_text(encoding="utf-8").startswith(HEADER))


def pytest_collect_file(file_path: Path, parent):
    """A notebook found in this folder (its name does not match ``test_*.py``, so pytest's
    Python collector leaves it alone)."""
    if _is_notebook(file_path) and not parent.session.isinitpath(file_path):
        return JupytextNotebook.from_parent(parent, path=file_path)
    return None


def pytest_pycollect_makemodule(module_path: Path, parent):
    """A notebook named on the command line, which pytest would otherwise import as a test
    module (running it at collection)."""
    if _is_notebook(module_path):
        return JupytextNotebook.from_parent(parent, path=module_path)
    return None


class JupytextNotebook(pytest.File):
    def collect(self):
        yield NotebookItem.from_parent(self, name=self.path.stem)


class NotebookFailed(Exception):
    """A cell raised; ``args[0]`` is nbmake's :class:`NotebookError`."""


class NotebookItem(pytest.Item):
    def runtest(self) -> None:
        import jupytext
        import nbformat
        from nbmake.nb_run import NotebookRun

        BUILD.mkdir(exist_ok=True)
        ipynb = BUILD / f"{self.path.stem}.ipynb"
        nbformat.write(jupytext.read(self.path), ipynb)
        # the kernel inherits this process's environment; the worker's own is left as it was
        before = os.environ.get("TWIN_FAST")
        os.environ["TWIN_FAST"] = "1"
        try:
            result = NotebookRun(ipynb, TIMEOUT).execute()
        finally:
            if before is None:
                del os.environ["TWIN_FAST"]
            else:
                os.environ["TWIN_FAST"] = before
        nbformat.write(result.nb, ipynb)
        if result.error is not None:
            raise NotebookFailed(result.error)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, NotebookFailed):
            err = excinfo.value.args[0]
            return f"{self.path.name}, cell {err.failing_cell_index}: {err.summary}\n{err.trace}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, f"notebook {self.path.name}"
