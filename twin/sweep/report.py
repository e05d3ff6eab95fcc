"""The sweep's report: its KPI table and KPI response surfaces (``DIR/report/``).

One figure per KPI: with two or more swept parameters a filled contour over the first two
(triangulated, so it works for grid and Latin-hypercube samples alike; the variants are the
dots), and beside it the KPI against every parameter (the spread at one value is what the
other parameters do). With one parameter, the KPI against it. Failed variants are drawn as
red crosses where they sit in parameter space. ``index.html`` shows the figures and the
table; the numbers are in ``DIR/kpis.csv`` and ``DIR/sweep.nc``.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import xarray as xr

#: KPIs plotted when present and finite somewhere, in this order
PREFERRED = ("recapture_rate", "waste_heat_recovered_share", "energy_cost", "co2_mass", "fuel_energy",
             "electricity", "exergy_efficiency", "exergy_destroyed", "specific_energy", "heat_delivered",
             "heat_recovery_attainment")
MAX_FIGURES = 6
MAX_ROWS = 200


def kpis_to_plot(ds: xr.Dataset) -> list[str]:
    """The KPIs worth a response surface: finite in some variant and not constant."""
    out = []
    for k in PREFERRED:
        v = ds.get(f"kpi.{k}")
        if v is None:
            continue
        x = np.asarray(v.values, dtype=float)
        x = x[np.isfinite(x)]
        if x.size and np.ptp(x) > 0:
            out.append(k)
    return out[:MAX_FIGURES]


def _params(ds: xr.Dataset) -> list[str]:
    return [c for c in ds.coords if c != "scenario"]


def _figure(ds: xr.Dataset, kpi: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.tri as mtri

    params = _params(ds)
    y = np.asarray(ds[f"kpi.{kpi}"].values, dtype=float)
    ok = np.isfinite(y) & (np.asarray(ds["status"].values) == "done")
    bad = np.asarray(ds["status"].values) == "failed"
    unit = ds[f"kpi.{kpi}"].attrs.get("units", "")
    label = f"{kpi} [{unit}]" if unit and unit != "1" else kpi
    n_side = len(params)
    surface = len(params) >= 2
    fig, axes = plt.subplots(1, n_side + surface, figsize=(4.2 * (n_side + surface), 3.6), squeeze=False)
    axes = axes[0]
    if surface:
        ax = axes[0]
        px, py = (np.asarray(ds[p].values, dtype=float) for p in params[:2])
        try:
            tri = mtri.Triangulation(px[ok], py[ok])
            cs = ax.tricontourf(tri, y[ok], levels=14, cmap="viridis")
            fig.colorbar(cs, ax=ax, label=label)
        except (ValueError, RuntimeError):  # too few or collinear points: dots only
            sc = ax.scatter(px[ok], py[ok], c=y[ok], cmap="viridis")
            fig.colorbar(sc, ax=ax, label=label)
        ax.plot(px[ok], py[ok], "k.", ms=2)
        if bad.any():
            ax.plot(px[bad], py[bad], "rx", ms=7, label="failed")
            ax.legend(loc="best", fontsize=7)
        ax.set_xlabel(_axis_label(ds, params[0]))
        ax.set_ylabel(_axis_label(ds, params[1]))
        ax.set_title(f"{kpi}: response surface", fontsize=9)
    for ax, p in zip(axes[surface:], params):
        x = np.asarray(ds[p].values, dtype=float)
        order = np.argsort(x[ok])
        ax.plot(x[ok][order], y[ok][order], "o" if len(params) > 1 else "o-", ms=3)
        if bad.any():
            ax.plot(x[bad], np.full(bad.sum(), np.nanmin(y[ok]) if ok.any() else 0.0), "rx", ms=7)
        ax.set_xlabel(_axis_label(ds, p))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _axis_label(ds: xr.Dataset, p: str) -> str:
    u = ds[p].attrs.get("units", "")
    return f"{p} [{u}]" if u and u != "1" else p


def write_report(ds: xr.Dataset, out_dir: str | Path) -> Path:
    """Write ``out_dir/report/index.html`` and one PNG per plotted KPI; returns the HTML path."""
    import matplotlib.pyplot as plt

    folder = Path(out_dir) / "report"
    folder.mkdir(parents=True, exist_ok=True)
    figs = []
    for k in kpis_to_plot(ds):
        fig = _figure(ds, k)
        name = f"surface_{k}.png"
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        figs.append((k, name))
    params = _params(ds)
    kpis = [v for v in ds.data_vars if v.startswith("kpi.")]
    head = "".join(f"<th>{html.escape(_axis_label(ds, p))}</th>" for p in params)
    head += "<th>status</th>" + "".join(
        f"<th>{html.escape(k[4:])} [{html.escape(ds[k].attrs.get('units', ''))}]</th>" for k in kpis)
    rows = []
    for i in range(min(ds.sizes["scenario"], MAX_ROWS)):
        cells = "".join(f"<td>{_fmt(ds[p].values[i])}</td>" for p in params)
        st = str(ds["status"].values[i])
        cells += f"<td class='{st}' title='{html.escape(str(ds['message'].values[i]))}'>{st}</td>"
        cells += "".join(f"<td>{_fmt(ds[k].values[i])}</td>" for k in kpis)
        rows.append(f"<tr><td>{i}</td>{cells}</tr>")
    more = (f"<p>First {MAX_ROWS} of {ds.sizes['scenario']} variants; all are in kpis.csv and sweep.nc.</p>"
            if ds.sizes["scenario"] > MAX_ROWS else "")
    title = html.escape(ds.attrs.get("title", "twin sweep"))
    body = [f"<h1>{title}</h1>",
            f"<p>{ds.attrs.get('n_done', 0)} done, {ds.attrs.get('n_failed', 0)} failed, "
            f"{ds.attrs.get('n_pending', 0)} pending; method {html.escape(str(ds.attrs.get('sweep_method', '')))}; "
            f"scenario {html.escape(str(ds.attrs.get('scenario_file', '')))}</p>"]
    body += [f"<h2>{html.escape(k)}</h2><img src='{n}' alt='{html.escape(k)} response surface'>" for k, n in figs]
    body += ["<h2>KPI table</h2>", more, f"<table><tr><th>#</th>{head}</tr>{''.join(rows)}</table>"]
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>" + title + "</title><style>"
            "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:12px}"
            "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td.failed{color:#b00}"
            "img{max-width:100%}</style></head><body>" + "\n".join(body) + "</body></html>")
    path = folder / "index.html"
    tmp = folder / ".index.html.part"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


def _fmt(x) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return html.escape(str(x))
    return "n/a" if not math.isfinite(v) else f"{v:.4g}"
