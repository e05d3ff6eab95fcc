"""``twin report``: the data behind every figure, the page's self-containment, the CLI contract.

One small plant is run once for the module (electric heater -> PCM bank -> heat demand ->
pump, a closed water loop: boundary sources, sinks, storage and connections, one compile).
The figures are checked through the pure functions they are drawn from, not as pixels; one
test opens the page in headless Chromium to see that plotly's JavaScript draws the Sankey.
"""

from __future__ import annotations

import html.parser
import os
import re
import shutil
import subprocess
import textwrap

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from twin.cli import main
from twin.report import (
    drawn_graph,
    exergy_destruction,
    open_results,
    pcm_banks,
    sankey_data,
    temperatures,
)

PLANT = textwrap.dedent("""\
    name: report_small
    duration: 6 h
    output_interval: 10 min
    ambient: {temperature: 15 degC}
    solver: {method: tsit5, rtol: 1.0e-6, atol: 1.0e-6}
    components:
      pump: {type: pump, fluid: water, mass_flow: 2 kg/s, pressure_rise: 1 bar, efficiency: 0.7}
      heater: {type: heater, fluid: water, nominal_power: 150 kW, set_point: 60 degC}
      store: {type: pcm_bank, material: RT44HC, mass: 3 t, thickness: 20 mm, h_conv: 300 W/m^2/K,
              fluid: water, fluid_dynamics: quasi_steady, UA_loss: 20 W/K, channels: 6, nodes: 3,
              initial_temperature: 35 degC}
      user: {type: heat_demand, fluid: water, demand: 60 kW, fluid_holdup: 200 kg,
             min_temperature: 30 degC, initial_temperature: 35 degC}
    connections:
      - [pump.outlet, heater.inlet]
      - [heater.outlet, store.inlet]
      - [store.outlet, user.supply]
      - [user.return, pump.inlet]
    """)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """``twin run`` of the small plant, then ``twin report --png`` into the default folder."""
    folder = tmp_path_factory.mktemp("report")
    (folder / "plant.yaml").write_text(PLANT)
    nc = folder / "small.nc"
    result = CliRunner().invoke(main, ["run", str(folder / "plant.yaml"), "-o", str(nc)])
    assert result.exit_code == 0, result.output
    report = CliRunner().invoke(main, ["report", str(nc), "--png"])
    assert report.exit_code == 0, report.output
    return nc, folder / "small_report", report.output


@pytest.fixture(scope="module")
def ds(run):
    return open_results(run[0])


def _by_component(ds, name):
    return dict(zip(map(str, ds.component.values), map(float, ds[name].values), strict=True))


def test_every_component_node_balances(ds):
    """Inflow - outflow of each component over the links to other nodes equals its ΔE stored
    plus its first-law residual, read from the audit (not from the Sankey)."""
    data = sankey_data(ds)
    E_in, E_out, dE = (_by_component(ds, f"audit.{k}") for k in ("E_in", "E_out", "dE_stored"))
    comps = [i for i, n in enumerate(data.nodes) if n.kind == "component"]
    assert {data.nodes[i].id for i in comps} == set(E_in)  # every component is drawn
    for i in comps:
        c = data.nodes[i].id
        residual = E_in[c] - E_out[c] - dE[c]
        flows = data.net_inflow(i, ("boundary", "connection", "datum"))
        assert flows == pytest.approx(dE[c] + residual, rel=0, abs=1e-9 * E_in[c]), c
        assert abs(data.net_inflow(i)) <= 1e-9 * E_in[c], c  # closed by storage and residual links
    # a closed loop of one liquid: connections carry exactly the port enthalpy, no datum term
    assert data.total("datum") == 0.0


def test_sankey_totals_match_the_plant_audit(ds):
    data = sankey_data(ds)
    kind = [n.kind for n in data.nodes]
    inflow = sum(lk.value for lk in data.links if kind[lk.source] == "source")
    outflow = sum(lk.value for lk in data.links if kind[lk.target] == "sink")
    charged = sum(lk.value for lk in data.links if data.nodes[lk.target].id == "storage:out")
    released = sum(lk.value for lk in data.links if data.nodes[lk.source].id == "storage:in")
    E_in = float(ds["audit.plant.E_in"])
    assert inflow == pytest.approx(E_in, rel=1e-12)
    assert outflow == pytest.approx(float(ds["audit.plant.E_out"]), rel=1e-12)
    assert charged - released == pytest.approx(float(ds["audit.plant.dE_stored"]), rel=0, abs=1e-9 * E_in)
    assert {n.label for n in data.nodes if n.kind == "source"} == {"electricity"}
    assert {n.label for n in data.nodes if n.kind == "sink"} == {"heat delivered", "shell loss"}
    heat = ds["audit.connection.heat"].isel(time=-1).values
    links = [lk for lk in data.links if lk.kind == "connection"]
    assert sorted(lk.value for lk in links) == pytest.approx(sorted(np.abs(heat[heat != 0])), rel=1e-15)


def _synthetic() -> xr.Dataset:
    """Two components with every convention of the Sankey at once (values in J):

    a: fuel +100, wall_loss -10, ΔE +4, residual +1, ports out 85 (298.15 K basis);
    b: ports in 85, discharge -90, ΔE -5; a tally ``a.co2`` in kg that is no energy flow;
    connections a.out -> b.in carrying 80 and b.back -> a.ret carrying -2 (below T0).
    """
    t = np.array([0.0, 3600.0])
    ramp = lambda v: ("time", np.array([0.0, v]), {"units": "J"})
    data = {
        "audit.a.fuel": ramp(100.0), "audit.a.fuel_exergy": ramp(95.0),
        "audit.a.wall_loss": ramp(-10.0), "audit.a.wall_loss_exergy": ramp(-3.0),
        "audit.a.co2": ("time", np.array([0.0, 7.0]), {"units": "kg"}),
        "audit.b.discharge": ramp(-90.0), "audit.b.discharge_exergy": ramp(-20.0),
        "audit.E_in": ("component", np.array([100.0, 85.0])),
        "audit.E_out": ("component", np.array([95.0, 90.0])),
        "audit.dE_stored": ("component", np.array([4.0, -5.0])),
        "audit.exergy.destruction": ("component", np.array([50.0, 30.0])),
        "audit.connection.heat": (("time", "connection"), np.array([[0.0, 0.0], [80.0, -2.0]])),
        "b.T_deficit": ("time", np.array([3.0, 0.0]), {"units": "K", "long_name": "b: how far below the set point"}),
        "b.T": (("time", "b_cell"), np.array([[300.0, 310.0], [305.0, 320.0]]), {"units": "K", "long_name": "b: T"}),
    }
    return xr.Dataset(data, coords={"time": t, "component": ["a", "b"], "connection": ["a.out", "b.back"],
                                    "connection_target": ("connection", ["b.in", "a.ret"])})


def test_sankey_conventions():
    ds = _synthetic()
    data = sankey_data(ds)
    got = sorted((data.nodes[lk.source].id, data.nodes[lk.target].id, lk.kind, lk.value) for lk in data.links)
    want = sorted([
        ("source:fuel", "a", "boundary", 100.0), ("a", "sink:wall_loss", "boundary", 10.0),
        ("b", "sink:discharge", "boundary", 90.0),  # the co2 tally is not an energy flow
        ("a", "b", "connection", 80.0),
        ("a", "b", "connection", 2.0),  # -2 from b to a: a stream below T0, drawn reversed
        ("a", "storage:out", "storage", 4.0), ("storage:in", "b", "storage", 5.0),
        ("a", "residual:out", "residual", 1.0),
        # a's ports send 85 on the 298.15 K basis, its connections 80 + 2 on the T0 basis
        ("a", "datum:out", "datum", 3.0), ("datum:in", "b", "datum", 3.0),
    ])
    assert [g[:3] for g in got] == [w[:3] for w in want]  # (approx takes no nested tuples)
    np.testing.assert_allclose([g[3] for g in got], [w[3] for w in want], rtol=0, atol=1e-12)
    (back,) = [lk for lk in data.links if "reversed" in lk.label]
    assert back.label.startswith("b.back → a.ret") and back.value == 2.0
    for i, n in enumerate(data.nodes):
        if n.kind == "component":
            assert data.net_inflow(i) == pytest.approx(0.0, abs=1e-12)
    traces = {t.label: t for t in temperatures(ds)["b"]}
    assert traces["T_deficit"].difference and not traces["T"].difference
    np.testing.assert_array_equal(traces["T"].low, [300.0, 305.0])
    np.testing.assert_array_equal(traces["T"].high, [310.0, 320.0])


def test_drawn_sankey_flows_left_to_right(ds):
    """The loop pump -> heater is drawn as two off-page connectors of the same value; every
    drawn link then runs left to right and the component nodes still balance."""
    data = sankey_data(ds)
    nodes, links, x, y = drawn_graph(data)
    assert nodes[:len(data.nodes)] == list(data.nodes) and len(links) == len(data.links) + 1
    cut = [n for n in nodes if n.kind == "recycle"]
    assert [n.label for n in cut] == ["↺ from pump", "↺ to heater"]
    assert all(x[lk.source] < x[lk.target] for lk in links)
    assert all(0.0 <= v <= 1.0 for v in (*x, *y))
    for i, n in enumerate(nodes):
        inflow = sum(lk.value for lk in links if lk.target == i)
        outflow = sum(lk.value for lk in links if lk.source == i)
        if n.kind == "component":
            assert inflow == pytest.approx(outflow, rel=1e-12), n.id
    i_from, i_to = (nodes.index(n) for n in cut)
    assert sum(lk.value for lk in links if lk.source == i_from) == sum(lk.value for lk in links if lk.target == i_to)


def test_exergy_bars_are_the_audit(ds):
    assert exergy_destruction(ds) == _by_component(ds, "audit.exergy.destruction")
    assert sum(exergy_destruction(ds).values()) == pytest.approx(float(ds["audit.plant.exergy.destruction"]), rel=1e-9)


def test_pcm_heat_map_is_the_liquid_fraction(ds):
    (bank,) = pcm_banks(ds)
    assert bank.name == "store"
    lf = ds["store.liquid_fraction_channel"]
    assert bank.liquid_fraction.shape == (ds.sizes["time"], 6) == lf.shape
    np.testing.assert_array_equal(bank.liquid_fraction, lf.values)
    np.testing.assert_array_equal(bank.state_of_charge, ds["store.state_of_charge"].values)
    np.testing.assert_allclose(bank.time_h[-1], 6.0)
    assert bank.liquid_fraction.max() > bank.liquid_fraction.min()  # the bank did melt


def test_every_component_with_temperatures_is_plotted(ds):
    expected = {str(v).split(".")[0] for v in ds.data_vars
                if ds[v].attrs.get("units") == "K" and "time" in ds[v].dims}
    traces = temperatures(ds)
    assert set(traces) == expected >= {"heater", "store", "user", "pump"}
    assert {t.variable for ts in traces.values() for t in ts} == {
        str(v) for v in ds.data_vars if ds[v].attrs.get("units") == "K"}
    for ts in traces.values():
        for t in ts:
            assert np.all(t.low <= t.mean + 1e-12) and np.all(t.mean <= t.high + 1e-12)
    assert "outlet.T" in {t.label for t in traces["heater"]}  # port temperatures too


class _Refs(html.parser.HTMLParser):
    """Every tag and its src/href attribute values (script bodies are not parsed as tags)."""

    def __init__(self):
        super().__init__()
        self.tags, self.refs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.refs += [v or "" for k, v in attrs if k in ("src", "href")]


def test_page_is_one_self_contained_file(run, ds):
    _, out, _ = run
    text = (out / "report.html").read_text()
    p = _Refs()
    p.feed(text)
    assert not [r for r in p.refs if r.startswith(("http:", "https:", "//"))]
    scripts = [a for t, a in p.tags if t == "script"]
    assert scripts and not any("src" in a for a in scripts)  # plotly.js inline, no CDN
    assert 'id="energy-sankey"' in text and "Plotly.newPlot" in text
    imgs = [a["src"] for t, a in p.tags if t == "img"]
    assert len(imgs) == 3 and all(s.startswith("data:image/png;base64,") for s in imgs)
    assert "report_small" in text
    for name in (str(v)[4:] for v in ds.data_vars if str(v).startswith("kpi.")):
        assert f"<td>{name}</td>" in text
    assert not [f for f in os.listdir(out) if f.endswith(".part")]  # written atomically


def test_png_option_writes_every_figure(run):
    _, out, output = run
    expected = {"report.html", "exergy_destruction.png", "pcm_store.png", "temperatures.png"}
    try:
        import kaleido  # noqa: F401
    except ImportError:
        assert "interactive only" in output and "kaleido" in output
    else:
        expected.add("energy_sankey.png")
    assert set(os.listdir(out)) == expected
    for name in expected - {"report.html"}:
        data = (out / name).read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_MAGIC), name


def test_output_folder_option(run, tmp_path):
    result = CliRunner().invoke(main, ["report", str(run[0]), "-o", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    assert os.listdir(tmp_path / "rep") == ["report.html"]  # no PNGs without --png


@pytest.mark.parametrize("case", ["missing", "not_netcdf", "not_twin"])
def test_bad_results_file_exit_2(tmp_path, case):
    path = tmp_path / "x.nc"
    if case == "not_netcdf":
        path.write_text("name: not a results file\n")
    elif case == "not_twin":
        xr.Dataset({"a": ("x", [1.0])}).to_netcdf(path, engine="h5netcdf")
    result = CliRunner().invoke(main, ["report", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "x.nc" in result.output
    assert ("no such file" if case == "missing" else "not a twin results file") in result.output
    assert not (tmp_path / "out").exists()


def _chromium() -> str | None:
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_page_renders_in_headless_chromium(run, ds, tmp_path):
    """Plotly builds the Sankey's SVG only when its inlined JavaScript runs offline."""
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium); "
                    "the headless render check needs it")
    page = (run[1] / "report.html").resolve()
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", "--dump-dom",
           page.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    assert 'class="main-svg"' in dom and 'class="sankey"' in dom
    nodes, links, _, _ = drawn_graph(sankey_data(ds))
    assert dom.count('class="sankey-node"') == len(nodes)
    assert dom.count('class="sankey-link"') == len(links)
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,[A-Za-z0-9+/]{100}', dom)) == 3
