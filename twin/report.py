"""``twin report``: one self-contained HTML page of a results file written by ``twin run``.

The page holds the run's facts and KPI table, an interactive energy Sankey of the
time-integrated flows (plotly, its JavaScript inlined so that the page opens offline), the
exergy destroyed per component, the state of charge of every PCM bank and the temperatures
of every component (matplotlib, embedded as base64 PNG). Every figure is drawn from a pure
function of the results Dataset (:func:`sankey_data`, :func:`exergy_destruction`,
:func:`pcm_banks`, :func:`temperatures`); those functions, not pixels, are what the tests
check.

Energy Sankey conventions (all values are final values of the run's cumulative integrals):

* a boundary flow ``audit.<component>.<flow>`` (positive into the component, enthalpy
  relative to 298.15 K) is drawn from a source node named after the flow when its total is
  positive and to a sink node of that name when negative; so ambient air drawn in below
  25 degC is a small sink, exactly as the audit counts it;
* a link between two components is ``audit.connection.heat``, the enthalpy above the dead
  state ``∫ m (h - h(T0)) dt`` carried from outlet to inlet; a connection whose total is
  negative (a stream below T0) is drawn reversed, from its target to its source;
* the component balances use the 298.15 K reference, the connections the dead state, so
  every component gets a *datum* term ``(E_in - E_out - Σ F) - (heat in - heat out)``: the
  enthalpy at T0 (relative to 298.15 K) of the mass it draws from or sends out of the plant
  (air drawn in, flue gas discharged). It is round-off for components whose mass flows
  balance (and left out), sums to zero over the plant, and is drawn from a left-hand
  ``datum`` node when positive, to a right-hand one when negative;
* each component's change of stored energy ``ΔE`` goes to a right-hand ``storage: charged``
  node (or comes from a left-hand ``storage: released``), and its first-law residual
  ``E_in - E_out - ΔE`` likewise to (or from) a ``first-law residual`` node, so that every
  component node balances exactly: inflow - outflow = ΔE + residual over the links to and
  from the other nodes, and inflow = outflow over all its links.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from twin.audit import DESTRUCTION_RTOL
from twin.kpi import DESCRIPTIONS
from twin.results import write_bytes_atomic

if TYPE_CHECKING:
    import plotly.graph_objects as go

#: audit variables a results file must have to be reported on
REQUIRED = ("audit.E_in", "audit.E_out", "audit.dE_stored", "audit.exergy.destruction")
#: words of a ``long_name`` marking a temperature *difference* (kelvin, never shifted to degC)
_DIFFERENCE_WORDS = ("below", "above", "minus", "difference", "deficit")
_T_CELSIUS = 273.15
_COLORS = {"component": "#4c72b0", "source": "#dd8452", "sink": "#8c8c8c", "storage": "#55a868",
           "residual": "#c44e52", "datum": "#b0b0b0", "recycle": "#9fb4d8"}
#: labels of the left-hand (into components) and right-hand (out of them) Sankey nodes
_SIDES = {
    "storage": ("storage: released", "storage: charged"),
    "residual": ("first-law residual (E_in < E_out + ΔE)", "first-law residual (E_in > E_out + ΔE)"),
    "datum": ("datum: h(T0) − h(298.15 K)", "datum: h(T0) − h(298.15 K)"),
}


class ReportError(ValueError):
    """The file cannot be reported on (missing, not NetCDF, not written by ``twin run``)."""


def open_results(path: str | Path) -> xr.Dataset:
    """Load a results file into memory, or raise :class:`ReportError` saying why not."""
    path = Path(path)
    if not path.is_file():
        raise ReportError(f"{path}: no such file")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            ds = ds.load()
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: not a twin results file ({exc})") from None
    missing = [v for v in REQUIRED if v not in ds]
    if missing or "component" not in ds.coords:
        raise ReportError(f"{path}: not a twin results file (no first-law audit: "
                          f"{', '.join(missing) or 'component'} missing)")
    return ds


# ------------------------------------------------------------------------------- Sankey data
@dataclasses.dataclass(frozen=True)
class SankeyNode:
    """A node: ``kind`` is component, source, sink, storage, residual or datum."""

    id: str
    label: str
    kind: str


@dataclasses.dataclass(frozen=True)
class SankeyLink:
    """Energy carried from node ``source`` to node ``target`` (indices) over the run. [J]

    ``kind`` is boundary, connection, storage, residual or datum; ``label`` names the
    component's flow or the connection's ports."""

    source: int
    target: int
    value: float
    kind: str
    label: str


@dataclasses.dataclass(frozen=True)
class SankeyData:
    """Nodes and links of the energy Sankey; every link value is positive. [J]"""

    nodes: tuple[SankeyNode, ...]
    links: tuple[SankeyLink, ...]

    def net_inflow(self, i: int, kinds: tuple[str, ...] | None = None) -> float:
        """Inflow minus outflow of node ``i`` over links of ``kinds`` (all if None). [J]"""
        ls = [lk for lk in self.links if kinds is None or lk.kind in kinds]
        return sum(lk.value for lk in ls if lk.target == i) - sum(lk.value for lk in ls if lk.source == i)

    def total(self, kind: str) -> float:
        """Sum of the links of one kind. [J]"""
        return sum(lk.value for lk in self.links if lk.kind == kind)


def boundary_flows(ds: xr.Dataset) -> dict[str, dict[str, float]]:
    """Final value of every boundary energy flow, ``{component: {flow: J}}``, positive into the
    component. Tallies (CO2, heat delivered, masses) are not energy flows and are left out: a
    flow is ``audit.<component>.<flow>`` in J with an ``_exergy`` twin."""
    out: dict[str, dict[str, float]] = {}
    for name in map(str, ds.component.values):
        prefix = f"audit.{name}."
        for v in ds.data_vars:
            flow = str(v)[len(prefix):]
            if (str(v).startswith(prefix) and "." not in flow and f"{v}_exergy" in ds
                    and ds[v].attrs.get("units") == "J" and ds[v].dims == ("time",)):
                out.setdefault(name, {})[flow] = float(ds[v][-1])
    return out


def _connections(ds: xr.Dataset) -> list[tuple[str, str, str, str, float]]:
    """``(source component, outlet, target component, inlet, heat [J])`` per connection."""
    if "audit.connection.heat" not in ds:
        return []
    heat = ds["audit.connection.heat"].isel(time=-1).values
    out = []
    for a, b, q in zip(ds.connection.values, ds.connection_target.values, heat, strict=True):
        (ca, pa), (cb, pb) = str(a).split(".", 1), str(b).split(".", 1)
        out.append((ca, pa, cb, pb, float(q)))
    return out


def sankey_data(ds: xr.Dataset) -> SankeyData:
    """Nodes and links of the run's energy Sankey (conventions: module docstring). [J]"""
    comps = list(map(str, ds.component.values))
    E_in, E_out, dE = (dict(zip(comps, map(float, ds[f"audit.{k}"].values), strict=True))
                       for k in ("E_in", "E_out", "dE_stored"))
    flows = boundary_flows(ds)
    conns = _connections(ds)
    signs = {(f, v > 0) for fl in flows.values() for f, v in fl.items() if v != 0}
    nodes: dict[str, SankeyNode] = {}
    links: list[tuple[str, str, float, str, str]] = []

    def node(node_id: str, label: str, kind: str) -> str:
        nodes.setdefault(node_id, SankeyNode(node_id, label, kind))
        return node_id

    def boundary(flow: str, inflow: bool) -> str:
        label = flow.replace("_", " ")
        if (flow, not inflow) in signs:  # the same flow enters somewhere and leaves elsewhere
            label += " (in)" if inflow else " (out)"
        return node(f"{'source' if inflow else 'sink'}:{flow}", label, "source" if inflow else "sink")

    def side(kind: str, c: str, value: float, label: str) -> None:
        """``value`` into ``c`` from the left-hand ``kind`` node, or out of ``c`` into the
        right-hand one when negative."""
        if value > 0:
            links.append((node(f"{kind}:in", _SIDES[kind][0], kind), c, value, kind, label))
        elif value < 0:
            links.append((c, node(f"{kind}:out", _SIDES[kind][1], kind), -value, kind, label))

    def add(src: str, dst: str, value: float, kind: str, label: str) -> None:
        """A link of signed ``value`` from ``src`` to ``dst``; negative values run reversed."""
        if value > 0:
            links.append((src, dst, value, kind, label))
        elif value < 0:
            links.append((dst, src, -value, kind, label))

    net_heat = dict.fromkeys(comps, 0.0)
    for ca, pa, cb, pb, q in conns:
        net_heat[cb] += q
        net_heat[ca] -= q
        if ca != cb:  # a component's outlet fed back to itself is internal: no link
            rev = " (below T0: drawn reversed)" if q < 0 else ""
            add(node(ca, ca, "component"), node(cb, cb, "component"), q, "connection",
                f"{ca}.{pa} → {cb}.{pb}{rev}")
    for c in comps:
        for flow, v in flows.get(c, {}).items():
            if v != 0:
                b = boundary(flow, v > 0)
                src, dst = (b, node(c, c, "component")) if v > 0 else (node(c, c, "component"), b)
                links.append((src, dst, abs(v), "boundary", f"{c}.{flow}"))
        if c not in nodes and not (E_in[c] or E_out[c] or dE[c]):
            continue  # nothing crossed it and nothing changed (a controller): not drawn
        node(c, c, "component")
        datum = (E_in[c] - E_out[c] - sum(flows.get(c, {}).values())) - net_heat[c]
        if abs(datum) > 1e-12 * max(E_in[c], E_out[c], 1.0):  # otherwise round-off
            side("datum", c, datum, f"{c}: enthalpy at T0 (vs 298.15 K) of mass entering/leaving the plant")
        side("residual", c, -(E_in[c] - E_out[c] - dE[c]), f"{c}: E_in - E_out - ΔE")
        side("storage", c, -dE[c], f"{c}: ΔE stored")
    ids = list(nodes)
    return SankeyData(tuple(nodes.values()),
                      tuple(SankeyLink(ids.index(s), ids.index(t), v, k, lab) for s, t, v, k, lab in links))


# ------------------------------------------------------------------------ other figure data
def exergy_destruction(ds: xr.Dataset) -> dict[str, float]:
    """Exergy destroyed in each component over the run, ``T0 S_gen``. [J]"""
    return dict(zip(map(str, ds.component.values), map(float, ds["audit.exergy.destruction"].values), strict=True))


@dataclasses.dataclass(frozen=True)
class PCMBankMap:
    """Liquid fraction of a PCM bank per channel cell over time.

    Parameters
    ----------
    name : Component name.
    time_h : Output times. [h]
    liquid_fraction : Liquid mass fraction, shape (time, channel). [-]
    state_of_charge : Stored energy between solidus - 10 K and liquidus + 10 K, or None. [-]
    """

    name: str
    time_h: np.ndarray
    liquid_fraction: np.ndarray
    state_of_charge: np.ndarray | None


def pcm_banks(ds: xr.Dataset) -> list[PCMBankMap]:
    """Every PCM bank of the run (those with ``<bank>.liquid_fraction_channel``)."""
    t_h = ds.time.values / 3600.0
    out = []
    for v in ds.data_vars:
        if str(v).endswith(".liquid_fraction_channel"):
            name = str(v).rsplit(".", 1)[0]
            soc = ds[f"{name}.state_of_charge"].values if f"{name}.state_of_charge" in ds else None
            out.append(PCMBankMap(name, t_h, ds[v].transpose("time", ...).values, soc))
    return out


@dataclasses.dataclass(frozen=True)
class TemperatureTrace:
    """One temperature signal of a component; an array signal as min, mean and max over its
    cells, a scalar signal with ``low == mean == high``.

    Parameters
    ----------
    variable : Name in the results file (``furnace.T_gas``).
    label : Name within the component (``T_gas``, ``exhaust.T``).
    low, mean, high : Over the signal's cells at each output time. [K]
    difference : True for a temperature difference (plotted in K, not shifted to degC).
    """

    variable: str
    label: str
    low: np.ndarray
    mean: np.ndarray
    high: np.ndarray
    difference: bool


def temperatures(ds: xr.Dataset) -> dict[str, list[TemperatureTrace]]:
    """Every variable in K on the time axis, grouped by component, ``{component: traces}``."""
    out: dict[str, list[TemperatureTrace]] = {}
    for v in ds.data_vars:
        da = ds[v]
        if da.attrs.get("units") != "K" or "time" not in da.dims or str(v).startswith(("audit.", "kpi.")):
            continue
        comp, label = str(v).split(".", 1)
        cells = [d for d in da.dims if d != "time"]
        lo, mid, hi = (da.min(cells), da.mean(cells), da.max(cells)) if cells else (da, da, da)
        diff = any(w in da.attrs.get("long_name", "") for w in _DIFFERENCE_WORDS)
        out.setdefault(comp, []).append(TemperatureTrace(str(v), label, lo.values, mid.values, hi.values, diff))
    return out


# ----------------------------------------------------------------------------------- figures
def _energy_unit(scale_J: float) -> tuple[str, float]:
    """A display unit for energies of magnitude ``scale_J``: (name, J per unit)."""
    return ("GWh", 3.6e12) if scale_J >= 3.6e12 else ("MWh", 3.6e9) if scale_J >= 3.6e9 else ("kWh", 3.6e6)


def _columns(data: SankeyData) -> tuple[dict[int, int], set[int]]:
    """Column of every component node and the recycle links (indices into ``data.links``).

    Recycle links are the back edges of a depth-first walk over the connections, from the
    component the largest boundary sources feed, heaviest links first; the column of a
    component is the longest path to it over the other connections."""
    kind = [n.kind for n in data.nodes]
    fed = {i: 0.0 for i, k in enumerate(kind) if k == "component"}
    for lk in data.links:
        if kind[lk.source] == "source" and lk.target in fed:
            fed[lk.target] += lk.value
    out: dict[int, list[int]] = {i: [] for i in fed}
    for k in sorted(range(len(data.links)), key=lambda k: -data.links[k].value):
        if data.links[k].kind == "connection":
            out[data.links[k].source].append(k)
    upstream: dict[int, list[int]] = {i: [] for i in fed}
    recycle: set[int] = set()
    state: dict[int, str] = {}

    def walk(i: int) -> None:
        state[i] = "open"
        for k in out[i]:
            j = data.links[k].target
            if state.get(j) == "open":  # back into the open path: the link closes a loop
                recycle.add(k)
                continue
            upstream[j].append(i)
            if j not in state:
                walk(j)
        state[i] = "done"

    for i in sorted(fed, key=lambda i: -fed[i]):
        if i not in state:
            walk(i)
    rank: dict[int, int] = {}

    def longest(i: int) -> int:
        if i not in rank:
            rank[i] = 1 + max((longest(j) for j in upstream[i]), default=-1)
        return rank[i]

    for i in fed:
        longest(i)
    return rank, recycle


def drawn_graph(data: SankeyData) -> tuple[list[SankeyNode], list[SankeyLink], list[float], list[float]]:
    """Nodes, links and node positions (x, y in [0, 1]) of the drawn Sankey.

    So that everything flows left to right, each recycle link (see :func:`_columns`) is cut
    into two, as off-page connectors: from its source to a right-hand node "↺ to <target>"
    and from a left-hand node "↺ from <source>" to its target, each with the full value.
    What flows into components sits on the left, what leaves them on the right, components
    in their columns; each column is stacked by node size (plotly's own placement tangles
    plants with recycle loops)."""
    rank, recycle = _columns(data)
    nodes, links = list(data.nodes), []
    for k, lk in enumerate(data.links):
        if k not in recycle:
            links.append(lk)
            continue
        src, dst = data.nodes[lk.source].id, data.nodes[lk.target].id
        nodes += [SankeyNode(f"recycle:{k}:in", f"↺ from {src}", "recycle"),
                  SankeyNode(f"recycle:{k}:out", f"↺ to {dst}", "recycle")]
        links += [dataclasses.replace(lk, target=len(nodes) - 1),
                  dataclasses.replace(lk, source=len(nodes) - 2)]
    size = [max(sum(lk.value for lk in links if lk.target == i), sum(lk.value for lk in links if lk.source == i))
            for i in range(len(nodes))]
    depth = max(rank.values(), default=0)
    column = [0.12 + 0.76 * rank.get(i, 0) / max(depth, 1) if n.kind == "component"
              else 0.001 if n.kind == "source" or n.id.endswith(":in") else 0.999 for i, n in enumerate(nodes)]
    x, y = [0.0] * len(nodes), [0.0] * len(nodes)
    for col in set(column):
        members = sorted((i for i in range(len(nodes)) if column[i] == col), key=lambda i: -size[i])
        total = sum(size[i] for i in members) or 1.0
        gap = 0.3 * total / len(members)  # room for plotly's padding between nodes
        pos = 0.0
        for i in members:
            x[i], y[i] = col, (pos + gap / 2 + size[i] / 2) / (total + gap * len(members))
            pos += size[i] + gap
    return nodes, links, x, y


def sankey_figure(data: SankeyData, unit: tuple[str, float]) -> go.Figure:
    """The interactive plotly Sankey of :func:`sankey_data` (as :func:`drawn_graph` lays it
    out), values in ``unit``: ``(name, J per unit)``."""
    import plotly.graph_objects as go

    name, per = unit

    def rgba(hex_color: str, alpha: float) -> str:
        r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
        return f"rgba({r},{g},{b},{alpha})"

    nodes, links, x, y = drawn_graph(data)
    link_color = [rgba(_COLORS[lk.kind if lk.kind in _SIDES else "component" if lk.kind == "connection"
                               else nodes[lk.source].kind], 0.4) for lk in links]
    fig = go.Figure(go.Sankey(
        arrangement="snap", valueformat=".4g", valuesuffix=f" {name}",
        node={"label": [n.label for n in nodes], "color": [_COLORS[n.kind] for n in nodes], "pad": 14,
              "thickness": 16, "line": {"width": 0}, "x": x, "y": y},
        link={"source": [lk.source for lk in links], "target": [lk.target for lk in links],
              "value": [lk.value / per for lk in links], "color": link_color,
              "customdata": [lk.label for lk in links],
              "hovertemplate": f"%{{customdata}}<br>%{{value:.4g}} {name}<extra></extra>"},
    ))
    fig.update_layout(height=680, margin={"l": 10, "r": 10, "t": 10, "b": 40}, font={"size": 12})
    return fig


def exergy_figure(ds: xr.Dataset) -> Figure:
    """Horizontal bars of exergy destroyed per component; negative ones in red, hatched where
    beyond the audit's tolerance (a second-law violation)."""
    xd = exergy_destruction(ds)
    names = sorted(xd, key=xd.get)
    unit, per = _energy_unit(max(abs(v) for v in xd.values()) if xd else 1.0)
    throughput = dict(zip(map(str, ds.component.values), ds["audit.exergy.throughput"].values, strict=True)) \
        if "audit.exergy.throughput" in ds else {}
    T0 = float(ds.attrs.get("dead_state_temperature_K", math.nan))
    total = float(ds["audit.plant.exergy.destruction"]) if "audit.plant.exergy.destruction" in ds else sum(xd.values())
    fig = Figure(figsize=(8, 0.35 * len(names) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    for i, n in enumerate(names):
        violated = xd[n] < -DESTRUCTION_RTOL * max(float(throughput.get(n, 0.0)), 1.0)
        ax.barh(i, xd[n] / per, color="#c44e52" if xd[n] < 0 else "#4c72b0", hatch="//" if violated else None)
        ax.annotate(f"{xd[n] / per:.3g}", (xd[n] / per, i), xytext=(3 if xd[n] >= 0 else -3, 0),
                    textcoords="offset points", va="center", ha="left" if xd[n] >= 0 else "right", fontsize=8)
    ax.set_yticks(range(len(names)), names)
    ax.axvline(0.0, color="k", lw=0.8)
    ax.set_xlabel(f"exergy destroyed T0·S_gen [{unit}]")
    ax.set_title(f"Exergy destroyed per component: plant total {total / per:.4g} {unit} "
                 f"(T0 = {T0 - _T_CELSIUS:.2f} degC)", fontsize=10)
    ax.margins(x=0.15)
    if any(v < 0 for v in xd.values()):
        ax.text(0.99, 0.02, "red: negative destruction; hatched: beyond the audit's tolerance\n"
                "(a second-law violation)", transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
                color="#c44e52")
    return fig


def pcm_figure(bank: PCMBankMap) -> Figure:
    """Heat map of the liquid fraction (time x channel) above the state of charge."""
    fig = Figure(figsize=(9, 4.6), layout="constrained")
    ax, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    n = bank.liquid_fraction.shape[1]
    mesh = ax.pcolormesh(bank.time_h, np.arange(1, n + 1), bank.liquid_fraction.T, shading="nearest",
                         vmin=0.0, vmax=1.0, cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="liquid fraction [-]")
    ax.set_ylabel("channel cell (inlet = 1)")
    ax.set_title(f"PCM bank '{bank.name}'", fontsize=10)
    ax2.plot(bank.time_h, bank.liquid_fraction.mean(axis=1), color="#4c72b0", label="mean liquid fraction")
    if bank.state_of_charge is not None:
        ax2.plot(bank.time_h, bank.state_of_charge, color="#dd8452", label="state of charge")
    ax2.set_ylim(-0.05, 1.05)
    ax2.set_xlabel("time [h]")
    ax2.set_ylabel("[-]")
    ax2.legend(fontsize=8, loc="best")
    ax2.grid(alpha=0.3)
    return fig


def temperature_figure(traces: dict[str, list[TemperatureTrace]], time_h: np.ndarray) -> Figure:
    """Small multiples, one panel per component: temperatures in degC (array signals as a
    min-max band around their mean), temperature differences in K on a right-hand axis."""
    ncols = min(3, max(len(traces), 1))
    nrows = max(math.ceil(len(traces) / ncols), 1)
    fig = Figure(figsize=(4.6 * ncols, 3.6 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (comp, ts) in zip(axes, sorted(traces.items()), strict=False):
        ax_d = ax.twinx() if any(t.difference for t in ts) else None
        for k, t in enumerate(ts):
            target, shift = (ax_d, 0.0) if t.difference else (ax, _T_CELSIUS)
            style = "--" if t.difference else "-"
            (line,) = target.plot(time_h, t.mean - shift, style, lw=1.2, color=f"C{k % 10}",
                                  label=f"{t.label} [K]" if t.difference else t.label)
            if not np.array_equal(t.low, t.high):
                target.fill_between(time_h, t.low - shift, t.high - shift, color=line.get_color(), alpha=0.2, lw=0)
                line.set_label(f"{t.label} (min-mean-max)")
        ax.set_title(comp, fontsize=10)
        ax.set_ylabel("temperature [degC]", fontsize=8)
        ax.grid(alpha=0.3)
        handles = [h for a in (ax, ax_d) if a is not None for h in a.get_lines()]
        ax.legend(handles=handles, fontsize=7, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.2),
                  frameon=False)
        if ax_d is not None:
            ax_d.set_ylabel("difference [K]", fontsize=8)
        ax.set_xlabel("time [h]", fontsize=8)
    for ax in axes[len(traces):]:
        ax.set_visible(False)
    return fig


def pinch_figure(ds: xr.Dataset) -> Figure:
    """Composite curves of the run-mean pinch streams (time-average model) beside the heat
    the plant recovered in each time slice against the slice's direct-recovery target."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax, ax2 = fig.subplots(1, 2, width_ratios=(1.1, 1))
    dT = ds["pinch.Q_rec_max"].attrs.get("dT_min_K", math.nan)
    for side, color in (("hot", "#c44e52"), ("cold", "#4c72b0")):
        if f"pinch.{side}_composite_H" in ds:
            ax.plot(ds[f"pinch.{side}_composite_H"].values / 1e6, ds[f"pinch.{side}_composite_T"].values - _T_CELSIUS,
                    color=color, lw=1.8, label=f"{side} composite")
    ax.set_xlabel("heat flow [MW]")
    ax.set_ylabel("temperature [degC]")
    ax.set_title(f"Composite curves of the run means (dT_min = {dT:g} K)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    start, end = ds["pinch.slice_start"].values / 3600.0, ds["pinch.slice_end"].values / 3600.0
    mid, width = 0.5 * (start + end), 0.42 * (end - start)
    ax2.bar(mid - width / 2, ds["pinch.Q_rec_max"].values / 3.6e9, width, color="#8c8c8c", label="target (direct)")
    ax2.bar(mid + width / 2, ds["pinch.recovered"].values / 3.6e9, width, color="#55a868", label="recovered")
    ax2.set_xlabel("time slice [h]")
    ax2.set_ylabel("heat [MWh]")
    ax2.set_title("Heat recovered per time slice against its pinch target", fontsize=10)
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3, axis="y")
    return fig


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


# -------------------------------------------------------------------------------------- page
def _fmt_kpi(value: float, units: str, name: str, currency: str) -> str:
    """A KPI in display units: MWh, t, %, money without decimals."""
    if not math.isfinite(value):
        return "n/a"
    if units == "J":  # MWh as twin run's summary prints them, kWh below 0.1 MWh
        return f"{value / 3.6e9:,.2f} MWh" if abs(value) >= 3.6e8 else f"{value / 3.6e6:.3g} kWh"
    if units == "kg":
        return f"{value / 1000:,.2f} t" if abs(value) >= 1000 else f"{value:.3g} kg"
    if units == "1":
        return f"{value:.2e}" if name == "energy_closure" else f"{100 * value:.1f} %"
    if units == currency:
        return f"{value:,.0f} {currency}"
    return f"{value:.3g} {units}"


def kpi_rows(ds: xr.Dataset) -> list[tuple[str, str, str]]:
    """``(name, value in display units, description)`` for every ``kpi.*`` of the file."""
    currency = ds["kpi.energy_cost"].attrs.get("units", "EUR") if "kpi.energy_cost" in ds else "EUR"
    return [(str(v)[4:], _fmt_kpi(float(ds[v]), ds[v].attrs.get("units", ""), str(v)[4:], currency),
             ds[v].attrs.get("long_name") or DESCRIPTIONS.get(str(v)[4:], ""))
            for v in ds.data_vars if str(v).startswith("kpi.")]


def run_facts(ds: xr.Dataset) -> list[tuple[str, str]]:
    """``(label, value)`` rows of the run: solver, duration, closure, second law, provenance."""
    a = ds.attrs
    steps = f"{a.get('solver_num_accepted_steps', '?')} steps (+{a.get('solver_num_rejected_steps', '?')} rejected)"
    method = a.get("solver_method_used") or a.get("solver_method", "?")
    solver = f"{method}, rtol {a.get('solver_rtol', '?')}, atol {a.get('solver_atol', '?')}, {steps}"
    ok = bool(a.get("solver_success", 1))
    status = "completed" if ok else (f"stopped at t = {float(a.get('solver_t_reached_s', math.nan)) / 3600:.3f} h: "
                                     f"{a.get('solver_message', '')} (partial results)")
    if a.get("solver_retry"):
        status += f"; retried: {a['solver_retry']}"
    closures = dict(zip(map(str, ds.component.values), map(float, ds["audit.closure"].values), strict=True)) \
        if "audit.closure" in ds else {}
    worst = max(closures, key=closures.get) if closures else None
    violations = a.get("second_law_violations", "")
    rows = [
        ("scenario", f"{a.get('scenario_name', '?')} ({a.get('scenario_file', '?')})"),
        ("duration", f"{float(ds.time[-1]) / 3600:g} h, {ds.sizes['time']} output times"),
        ("solver", f"{solver}; {status}"),
        ("first-law closure", f"plant {float(a.get('energy_closure', math.nan)):.2e}"
                              + (f"; worst component {worst} {closures[worst]:.2e}" if worst else "")),
        ("second law", f"VIOLATED: {violations}" if violations else
                       "holds: no component destroys a negative amount of exergy"),
        ("dead state T0", f"{float(a.get('dead_state_temperature_K', math.nan)) - _T_CELSIUS:.2f} degC"),
        ("written", f"{a.get('created', '?')} by twin {a.get('version_twin', '?')}"),
        ("scenario sha256", str(a.get("scenario_sha256", "?"))),
    ]
    if a.get("scenario_overrides"):
        rows.insert(1, ("overrides", str(a["scenario_overrides"])))
    return rows


_CSS = """body{font-family:system-ui,sans-serif;max-width:1400px;margin:1.5em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}img{max-width:100%}
p.note{color:#555;font-size:.9em;max-width:70em}pre{background:#f6f6f6;padding:.8em;overflow:auto;font-size:.8em}"""


_SANKEY_NOTE = (
    "Boundary flows are relative to 298.15 K and drawn with their sign at the end of the run (a "
    "negative inflow, such as ambient air below 25 degC, is a sink). Links between components carry "
    "the enthalpy above the dead state T0, ∫ m (h − h(T0)) dt, and run reversed for a stream below T0. "
    "Closed loops carry their enthalpy above T0 round and round: what a component takes from a loop is "
    "the difference of its in and out links. The datum nodes carry the enthalpy at T0 (relative to "
    "298.15 K) of mass entering or leaving the plant, by which the two references differ; they sum to "
    "zero. Every component node balances: inflow = outflow + storage change + first-law residual. "
    "Hover over a link for its ports."
)


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _table(rows, header=None, numeric=()) -> str:
    head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f'<td{" class=num" if j in numeric else ""}>{html.escape(str(c))}</td>'
                                    for j, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table>{head}{body}</table>"


@dataclasses.dataclass
class Report:
    """A built report: the page and its matplotlib figures as PNG, ``{file stem: bytes}``."""

    html: str
    pngs: dict[str, bytes]
    sankey: go.Figure


def build_report(ds: xr.Dataset) -> Report:
    """Build the HTML page of a results Dataset (see the module docstring)."""
    name = str(ds.attrs.get("scenario_name", "twin run"))
    data = sankey_data(ds)
    unit = _energy_unit(float(ds["audit.plant.E_in"]) if "audit.plant.E_in" in ds else data.total("boundary"))
    sankey = sankey_figure(data, unit)
    pngs = {"exergy_destruction": _png(exergy_figure(ds))}
    banks = pcm_banks(ds)
    for bank in banks:
        pngs[f"pcm_{bank.name}"] = _png(pcm_figure(bank))
    if "pinch.Q_rec_max" in ds:
        pngs["pinch"] = _png(pinch_figure(ds))
    traces = temperatures(ds)
    if traces:
        pngs["temperatures"] = _png(temperature_figure(traces, ds.time.values / 3600.0))
    e_in = sum(lk.value for lk in data.links if data.nodes[lk.source].kind == "source")
    residual = sum(lk.value if data.nodes[lk.target].kind == "residual" else -lk.value
                   for lk in data.links if lk.kind == "residual")
    pcm = "".join(_img(pngs[f"pcm_{b.name}"], f"PCM bank {b.name}") for b in banks) \
        or "<p>No PCM bank in this plant.</p>"
    kpis = kpi_rows(ds)
    title = f"twin report: {html.escape(name)}"
    parts = [
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{title}</title><style>{_CSS}</style>",
        f"</head><body><h1>{title}</h1>",
        _table(run_facts(ds)),
        "<h2>Key performance indicators</h2>",
        _table(kpis, ("KPI", "value", "definition"), numeric=(1,)) if kpis else "<p>No KPIs in this file.</p>",
        f"<h2>Energy flows over the run ({unit[0]})</h2>",
        sankey.to_html(full_html=False, include_plotlyjs=True, div_id="energy-sankey",
                       config={"displaylogo": False, "responsive": True}),
        f"<p class=note>{_fmt_kpi(e_in, 'J', '', '')} entered the plant; summed over the components, the "
        + f"first-law residual is {residual:.3g} J. {_SANKEY_NOTE}</p>",
        "<h2>Exergy destruction</h2>", _img(pngs["exergy_destruction"], "exergy destroyed per component"),
        "<h2>PCM state of charge</h2>", pcm,
        *(["<h2>Heat-integration target (pinch analysis)</h2>", _img(pngs["pinch"], "pinch targets")]
          if "pinch" in pngs else []),
        "<h2>Temperatures</h2>",
        _img(pngs["temperatures"], "temperatures of every component") if traces else "<p>No temperatures.</p>",
        "<h2>Scenario</h2><details><summary>scenario file as run</summary>",
        f"<pre>{html.escape(str(ds.attrs.get('scenario_text', '(not recorded)')))}</pre></details>",
        "</body></html>",
    ]
    return Report("\n".join(parts), pngs, sankey)


def write_report(ds: xr.Dataset, out_dir: str | Path, png: bool = False) -> tuple[list[Path], list[str]]:
    """Write ``report.html`` (and with ``png`` every figure as ``<name>.png``) into
    ``out_dir``, each file atomically. Returns the paths written and notes for the user."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rep = build_report(ds)
    written, notes = [out_dir / "report.html"], []
    write_bytes_atomic(written[0], rep.html.encode())
    if png:
        for stem, data in rep.pngs.items():
            written.append(out_dir / f"{stem}.png")
            write_bytes_atomic(written[-1], data)
        try:
            import kaleido  # noqa: F401
        except ImportError:
            notes.append("the energy Sankey is interactive only (in report.html): "
                         "a PNG of it needs kaleido (pip install kaleido)")
        else:
            try:
                image = rep.sankey.to_image(format="png", width=1400, height=680)
            except (ValueError, RuntimeError, OSError) as exc:  # kaleido without its browser
                notes.append(f"the energy Sankey is interactive only (in report.html): kaleido failed: {exc}")
            else:
                written.append(out_dir / "energy_sankey.png")
                write_bytes_atomic(written[-1], image)
    return written, notes
