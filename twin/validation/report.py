"""HTML report of a validation run: the table of every judged signal and, per signal, an
overlay of twin and reference with the tolerance tube (matplotlib, embedded as PNG; the page
is one file)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from twin.report import _CSS, _img, _png, _table
from twin.results import write_bytes_atomic
from twin.validation.case import CaseResult
from twin.validation.compare import Comparison


def overlay_figure(case_id: str, c: Comparison) -> Figure:
    """Twin against reference for one signal, with the funnel's tube (or the measured
    samples for an RMSE/bias comparison); time in hours past 2 h, else seconds."""
    fig = Figure(figsize=(7.5, 3.2), layout="constrained")
    ax = fig.add_subplot()
    span = max(float(np.nanmax(c.t_ref)) if c.t_ref.size else 0.0, float(c.t[-1]) if c.t.size else 0.0)
    scale, unit = (3600.0, "h") if span > 7200.0 else (1.0, "s")
    if c.band is not None:
        ax.fill_between(c.t_ref / scale, c.y_ref - c.band, c.y_ref + c.band, color="#55a868", alpha=0.25,
                        lw=0, label=f"tube ±{c.tolerance:.3g} {c.unit}")
    ax.plot(c.t_ref / scale, c.y_ref, ".", ms=3, color="#333333", label="reference")
    ax.plot(c.t / scale, c.y, "-", lw=1.2, color="#c44e52" if not c.passed else "#4c72b0", label="twin")
    verdict = "pass" if c.passed else "FAIL"
    ax.set_title(f"{case_id}: {c.signal} ({c.kind} {c.error:.3g} vs {c.tolerance:.3g} {c.unit}, {verdict})",
                 fontsize=9)
    ax.set_xlabel(f"time [{unit}]")
    ax.set_ylabel(c.unit)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def rows(results: list[CaseResult]) -> list[tuple[str, ...]]:
    """(case, signal, kind, error, tolerance, unit, verdict) for every judged signal, and one
    row per skipped or broken case."""
    out = []
    for r in results:
        if not r.comparisons:
            out.append((r.case.id, "-", "-", "-", "-", "", f"{r.status}: {r.message}"))
        for c in r.comparisons:
            out.append((r.case.id, c.signal, c.kind, f"{c.error:.3g}", f"{c.tolerance:.3g}", c.unit,
                        "pass" if c.passed else "FAIL"))
    return out


def write_validation_report(results: list[CaseResult], out_dir: str | Path) -> Path:
    """Write ``validation.html`` into ``out_dir`` (atomically) and return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_fail = sum(r.status in ("fail", "error") for r in results)
    n_pass, n_skip = sum(r.status == "pass" for r in results), sum(r.status == "skip" for r in results)
    head = ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>twin validation</title>"
            f"<style>{_CSS}</style></head><body><h1>twin validation</h1>")
    parts = [head, f"<p>{len(results)} cases: {n_pass} passed, {n_fail} failed, {n_skip} skipped.</p>",
             _table(rows(results), ("case", "signal", "kind", "error", "tolerance", "unit", "verdict"),
                    numeric=(3, 4))]
    for r in results:
        parts.append(f"<h2>{html.escape(r.case.id)}: {html.escape(r.case.title)}</h2>"
                     f"<p class=note>{html.escape(r.case.source)} — {r.status}, {r.seconds:.1f} s"
                     + (f"; {html.escape(r.message)}" if r.message else "") + "</p>")
        for c in r.comparisons:
            if c.why:
                parts.append(f"<p class=note>{html.escape(c.signal)}: {html.escape(c.why)}</p>")
            parts.append(_img(_png(overlay_figure(r.case.id, c)), f"{r.case.id} {c.signal}"))
    parts.append("</body></html>")
    path = out_dir / "validation.html"
    write_bytes_atomic(path, "\n".join(parts).encode())
    return path
