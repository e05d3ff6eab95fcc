"""Batched solves: many variants of one plant structure in one compiled, vmapped computation.

How a variant's values reach the plant
--------------------------------------
A sweep varies scenario parameters by path, and the scenario loader turns file values into
the plant's array leaves (units, schedules shared by several components, layer tables).
Loading a scenario costs about 0.1 s, so loading 10,000 variants would take longer than
solving them on a GPU. Instead :func:`plan` loads a handful of *probe* variants (each axis
at its lowest and highest value, the base, and a check variant) and learns, per array leaf,
the affine map ``leaf(v) = offset + Σ_j v_j slope_j`` from the axis values to the leaf. Unit
conversions (``kW/K`` -> W/K, ``degC`` -> K) and schedule look-ups are affine, so this is
exact to rounding (one ulp of the leaf). The map is then *verified*: a third level of every
axis with three or more levels and one variant with every axis moved at once are loaded and
compared with the prediction (to 1e-12 relative). A path whose effect is not affine, that
changes the plant's structure (``recuperator.cells``), or that changes something outside the
plant (solver settings, the KPI boundary, pinch streams) fails the check, and the sweep
falls back to loading every variant, grouped by structure: slower, never wrong.

Validation: the range ends of every axis are loaded (and so validated) like a file; the
values between them are inside the validated interval. A range end that fails validation
makes the sweep validate every distinct value of that axis, and the variants holding an
invalid value are marked failed with the loader's message (file, field, accepted range)
without being run.

Solving
-------
One compiled function per structure solves a chunk of B lanes with ``jax.vmap`` over the
batched leaves (the rest are shared), diffrax with ``throw=False`` so every lane reports its
own status, and returns per lane the saved trajectory (states and signals at the sweep's
output times), the solver result and step counts, and the stored energy and exergy at the
start and at the last saved time (so the audit needs no further device work). Chunks are
padded to B so a short last chunk reuses the executable. :data:`COMPILE_COUNT` counts
compilations so tests can prove there is one per structure. With several local devices the
lanes are sharded over them (a 1-D mesh over the batch axis).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Sequence
from pathlib import Path

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from twin.core.solve import SolverConfig, _integrate, jump_times
from twin.scenario.build import Scenario, load_scenario
from twin.scenario.errors import ScenarioError
from twin.sweep.spec import Variants

COMPILE_COUNT = 0
LAST_COMPILE: dict[str, float] = {}
_COMPILED: dict = {}

#: relative tolerance of the affine-map verification in float64 (a leaf is rounded once by the
#: loader); in float32 (``TWIN_X64=0``, benchmarking) 128 ulp of float32
AFFINE_RTOL = 1e-12


def _affine_rtol(dtype) -> float:
    return max(AFFINE_RTOL, 128 * float(np.finfo(dtype).eps)) if np.issubdtype(dtype, np.floating) else 0.0


@dataclasses.dataclass
class Group:
    """Variants of one plant structure, and how to make their array leaves.

    ``index`` are the variant numbers; leaves ``batched`` (positions in the flattened array
    leaves of the plant) vary between variants, the others are ``shared``. A lane's leaf is
    ``offset + values @ slope`` (affine plan) or ``explicit[k][row]`` (loaded variants).
    """

    index: np.ndarray
    base: Scenario
    treedef: object
    static: object
    shared: list
    batched: tuple[int, ...]
    offset: list | None = None
    slope: list | None = None
    explicit: list | None = None
    scenarios: dict[int, Scenario] | None = None  # loaded variants (fallback path)
    times_batched: bool = False  # a schedule's breakpoints vary: jump times per lane
    how: str = "affine"

    def leaves(self, variants: Variants, rows: np.ndarray) -> list[np.ndarray]:
        """The batched leaves of variants ``rows`` (variant numbers), each ``(len(rows), ...)``."""
        if self.explicit is not None:
            pos = np.searchsorted(self.index, rows)
            return [e[pos] for e in self.explicit]
        V = variants.values[rows]
        return [o[None] + np.tensordot(V, s, axes=(1, 0)) for o, s in zip(self.offset, self.slope)]

    def plant(self, variants: Variants, row: int):
        """The plant of variant ``row`` (host arrays)."""
        leaves = list(self.shared)
        for i, a in zip(self.batched, self.leaves(variants, np.asarray([row]))):
            leaves[i] = a[0]
        return eqx.combine(jax.tree_util.tree_unflatten(self.treedef, leaves), self.static)

    def scenario(self, variants: Variants, row: int) -> Scenario:
        """The scenario of variant ``row``, for post-processing (KPIs, checks, provenance)."""
        if self.scenarios is not None:
            return self.scenarios[row]
        return dataclasses.replace(self.base, plant=self.plant(variants, row),
                                   overrides=(*self.base.overrides, *variants.overrides(row)))


@dataclasses.dataclass
class Plan:
    """Every variant either in a :class:`Group` or in ``invalid`` (variant -> message)."""

    base: Scenario
    variants: Variants
    groups: list[Group]
    invalid: dict[int, str]
    note: str = ""


def split_plant(plant):
    """The plant's array leaves (host copies), their treedef and the static rest."""
    dyn, static = eqx.partition(plant, eqx.is_array)
    leaves, treedef = jax.tree_util.tree_flatten(dyn)
    return [np.asarray(x) for x in leaves], treedef, static


def plant_structure(scenario: Scenario):
    """What must match for two scenarios to share one compiled solve."""
    leaves, treedef, static = split_plant(scenario.plant)
    return (treedef, jax.tree_util.tree_structure(scenario.plant),
            tuple((x.shape, x.dtype.str) for x in leaves))


def same_values(a, b) -> bool:
    """Deep equality of scenario parts (arrays by value, callables skipped)."""
    if isinstance(a, (np.ndarray, jax.Array)) or isinstance(b, (np.ndarray, jax.Array)):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(np.asarray(a), np.asarray(b)))
    if isinstance(a, eqx.Module):
        la, ta = jax.tree_util.tree_flatten(a)
        lb, tb = jax.tree_util.tree_flatten(b)
        return ta == tb and all(same_values(x, y) for x, y in zip(la, lb))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            same_values(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same_values(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_values(a[k], b[k]) for k in a)
    if callable(a):
        return True
    return a == b


def outside_plant(sc: Scenario):
    """The parts of a scenario that are not plant parameters (solver, horizon, KPI boundary)."""
    return (sc.solver, sc.duration, sc.output_interval, sc.kpi_config, sc.pinch, sc.checks)


def _load(path, overrides):
    try:
        return load_scenario(path, list(overrides)), None
    except ScenarioError as exc:
        return None, exc


def plan(path: str | Path, variants: Variants, base_overrides: Sequence[str] = (), *,
         force_load: bool = False) -> Plan:
    """Group the variants by structure and learn how their values enter the plant.

    Raises :class:`~twin.scenario.errors.ScenarioError` if the base scenario (the file with
    ``base_overrides``) is invalid.
    """
    base = load_scenario(path, list(base_overrides))
    n, d = variants.values.shape
    invalid: dict[int, str] = {}
    ok = np.ones(n, dtype=bool)

    def with_(j, v):
        return [*base_overrides, f"{variants.axes[j].path}={variants.axes[j].text(v)}"]

    # 1. range ends of each axis; if one is invalid, judge every distinct value of that axis
    probes: list[dict[float, Scenario]] = []
    for j, axis in enumerate(variants.axes):
        col = variants.values[:, j]
        uniq = np.unique(col)
        loaded: dict[float, Scenario] = {}
        bad: dict[float, str] = {}
        for v in {uniq[0], uniq[-1]}:
            sc, err = _load(path, with_(j, v))
            (loaded.__setitem__(v, sc) if sc else bad.__setitem__(v, err))
        if bad:
            for v in uniq[1:-1]:
                sc, err = _load(path, with_(j, v))
                (loaded.__setitem__(v, sc) if sc else bad.__setitem__(v, err))
            if not loaded:  # no value of this axis loads: the sweep itself is wrong
                raise next(iter(bad.values()))
            for v, err in bad.items():
                for i in np.flatnonzero(col == v):
                    invalid[int(i)] = str(err)
                    ok[i] = False
        probes.append(loaded)

    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return Plan(base, variants, [], invalid, "every variant is invalid")
    note = ""
    if not force_load:
        group, note = _affine(path, base, base_overrides, variants, probes, rows)
        if group is not None:
            return Plan(base, variants, [group], invalid, "affine")
    return Plan(base, variants, _load_all(path, base_overrides, variants, rows, invalid), invalid,
                note or "every variant loaded")


def _affine(path, base, base_overrides, variants, probes, rows):
    """The affine group, or (None, why not)."""
    ref = plant_structure(base)
    leaves0, treedef, static = split_plant(base.plant)
    d = len(variants.axes)
    slope = [np.zeros((d, *x.shape)) for x in leaves0]
    shift = [np.zeros(x.shape) for x in leaves0]  # Σ_j (L_j(a_j) - L_base - a_j D_j)
    first, at_first = [], []  # per axis: its lowest valid value a_j and the leaves there
    for j, loaded in enumerate(probes):
        valid = sorted(v for v in loaded)
        live = variants.values[rows, j]
        if not valid or live.min() < valid[0] or live.max() > valid[-1]:
            return None, f"{variants.axes[j].path}: range ends not loadable"
        for sc in loaded.values():
            if plant_structure(sc) != ref:
                return None, f"{variants.axes[j].path} changes the plant's structure"
            if not same_values(outside_plant(sc), outside_plant(base)):
                return None, f"{variants.axes[j].path} changes more than the plant (solver, KPI boundary or pinch)"
        a = valid[0]
        La = split_plant(loaded[a].plant)[0]
        first.append(a)
        at_first.append(La)
        if len(valid) > 1:
            b = valid[-1]
            Lb = split_plant(loaded[b].plant)[0]
            for k in range(len(leaves0)):
                slope[k][j] = (Lb[k] - La[k]) / (b - a)
        for k in range(len(leaves0)):
            shift[k] = shift[k] + La[k] - leaves0[k] - a * slope[k][j]
    offset = [x + s for x, s in zip(leaves0, shift)]
    group = Group(index=rows, base=base, treedef=treedef, static=static, shared=leaves0, batched=(),
                  offset=offset, slope=slope)

    # 2. verify: a middle level of each axis (the others at the base), and one variant with
    #    every axis moved at once
    checks = []
    for j in range(d):
        live = np.unique(variants.values[rows, j])
        if live.size >= 3:
            v = live[live.size // 2]
            pred = [la + (v - first[j]) * s[j] for la, s in zip(at_first[j], slope)]
            checks.append(([*base_overrides, f"{variants.axes[j].path}={variants.axes[j].text(v)}"], pred))
    far = rows[np.argmax(np.abs(variants.values[rows] - variants.values[rows].mean(0)).sum(1))]
    pred = [o + np.tensordot(variants.values[far], s, axes=(0, 0)) for o, s in zip(offset, slope)]
    checks.append(([*base_overrides, *variants.overrides(far)], pred))
    for overrides, pred in checks:
        sc, err = _load(path, overrides)
        if sc is None:  # a combination the loader rejects: judge every variant on its own
            return None, f"a check variant does not load: {str(err).splitlines()[0]}"
        if plant_structure(sc) != ref or not same_values(outside_plant(sc), outside_plant(base)):
            return None, "the variants differ in more than affine parameter values"
        got = split_plant(sc.plant)[0]
        for g, p, b0 in zip(got, pred, leaves0):
            scale = np.maximum(np.abs(g), np.abs(b0))
            if not np.all(np.abs(g - p) <= _affine_rtol(g.dtype) * scale):
                return None, "a parameter enters the plant non-linearly"
    batched = tuple(k for k in range(len(leaves0)) if np.any(slope[k] != 0))
    group.batched = batched
    group.offset = [offset[k] for k in batched]
    group.slope = [slope[k] for k in batched]
    group.times_batched = _times_batched(base.plant, batched)
    return group, "affine"


def _times_batched(plant, batched: tuple[int, ...]) -> bool:
    dyn = eqx.filter(plant, eqx.is_array)
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(dyn)[0]]
    return any(paths[k].endswith(".times") for k in batched)


def _load_all(path, base_overrides, variants, rows, invalid) -> list[Group]:
    """Fallback: load every variant, group by structure, stack the leaves that differ."""
    by_structure: dict = {}
    for i in rows:
        sc, err = _load(path, [*base_overrides, *variants.overrides(int(i))])
        if sc is None:
            invalid[int(i)] = str(err)
            continue
        by_structure.setdefault((plant_structure(sc), _outside_key(sc)), []).append((int(i), sc))
    groups = []
    for members in by_structure.values():
        idx = np.array([i for i, _ in members])
        splits = [split_plant(sc.plant) for _, sc in members]
        leaves0, treedef, static = splits[0]
        batched = tuple(k for k in range(len(leaves0))
                        if any(not np.array_equal(s[0][k], leaves0[k]) for s in splits[1:]))
        explicit = [np.stack([s[0][k] for s in splits]) for k in batched]
        groups.append(Group(index=idx, base=members[0][1], treedef=treedef, static=static, shared=leaves0,
                            batched=batched, explicit=explicit, scenarios=dict(members),
                            times_batched=_times_batched(members[0][1].plant, batched), how="loaded"))
    return groups


def _outside_key(sc: Scenario):
    c = sc.solver
    return (c, sc.duration, sc.output_interval)


# ------------------------------------------------------------------ the batched solve
def _lanes(shared, batched, jt, ts, *, treedef, static, index, cfg, jt_batched):
    def one(lane_leaves, lane_jt):
        leaves = list(shared)
        for i, a in zip(index, lane_leaves):
            leaves[i] = a
        plant = eqx.combine(jax.tree_util.tree_unflatten(treedef, leaves), static)
        y0 = plant.initial_state()
        sol_ts, ys, sig, result, stats = _integrate(plant, y0, ts, lane_jt, cfg)
        n_ok = jnp.sum(jnp.isfinite(sol_ts))
        last = jnp.maximum(n_ok - 1, 0)
        y1 = jax.tree_util.tree_map(lambda a: a[last], ys)
        stored = (plant.stored_energy(y0), plant.stored_energy(y1),
                  plant.stored_exergy(y0), plant.stored_exergy(y1))
        return dict(ts=sol_ts, ys=ys, signals=sig, y0=y0, result=getattr(result, "_value", result),
                    steps=stats["num_steps"], accepted=stats["num_accepted_steps"],
                    rejected=stats["num_rejected_steps"], stored=stored)

    return jax.vmap(one, in_axes=(0, 0 if jt_batched else None))(batched, jt)


def _mesh():
    devices = jax.local_devices()
    if len(devices) < 2:
        return None
    return jax.sharding.Mesh(np.asarray(devices), ("lanes",))


def compiled_lanes(group: Group, B: int, ts, jt, cfg: SolverConfig):
    """The compiled batched solve for ``group`` at chunk size ``B`` (cached per structure)."""
    global COMPILE_COUNT
    shared = [jnp.asarray(x) for x in group.shared]
    batched = [jax.ShapeDtypeStruct((B, *np.shape(group.shared[i])), np.asarray(group.shared[i]).dtype)
               for i in group.batched]
    jt_spec = jax.ShapeDtypeStruct(((B,) if group.times_batched else ()) + tuple(np.shape(jt)[-1:]), jt.dtype)
    key = (group.treedef, jax.tree_util.tree_structure(group.static), group.batched,
           tuple((x.shape, x.dtype.str) for x in group.shared), B, np.shape(ts), jt_spec.shape, cfg,
           len(jax.local_devices()))
    if key in _COMPILED:
        return _COMPILED[key]
    # the static half of the plant is not hashable (dicts): close over it; the compiled
    # executable is cached here, keyed by the structure
    fn = jax.jit(functools.partial(_lanes, treedef=group.treedef, static=group.static, index=group.batched,
                                   cfg=cfg, jt_batched=group.times_batched))
    t0 = time.perf_counter()
    mesh = _mesh()
    if mesh is not None:
        lanes = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("lanes"))
        batched = [jax.ShapeDtypeStruct(b.shape, b.dtype, sharding=lanes) for b in batched]
        if group.times_batched:
            jt_spec = jax.ShapeDtypeStruct(jt_spec.shape, jt_spec.dtype, sharding=lanes)
    lowered = fn.lower(shared, batched, jt_spec, jnp.asarray(ts))
    t1 = time.perf_counter()
    compiled = lowered.compile()
    COMPILE_COUNT += 1
    LAST_COMPILE.update(trace=t1 - t0, compile=time.perf_counter() - t1)
    try:
        mem = compiled.memory_analysis()
        LAST_COMPILE["bytes"] = float(mem.temp_size_in_bytes + mem.output_size_in_bytes
                                      + mem.argument_size_in_bytes)
    except Exception:  # not every backend reports it
        LAST_COMPILE.pop("bytes", None)

    def call(shared_, batched_, jt_, ts_):
        return compiled(shared_, batched_, jt_, ts_)

    entry = (call, shared, mesh)
    _COMPILED[key] = entry
    return entry


@dataclasses.dataclass
class LaneResult:
    """One lane of a solved chunk, as host arrays (see :func:`solve_chunk`)."""

    variant: int
    ts: np.ndarray
    ys: dict
    signals: dict
    y0: dict
    success: bool
    message: str
    t_reached: float
    steps: int
    accepted: int
    rejected: int
    stored: tuple


def output_times(duration: float, interval: float) -> np.ndarray:
    """Saved times of a run: every ``interval`` from 0, and the end. [s]"""
    n_out = int(round(duration / interval))
    ts = np.linspace(0.0, n_out * interval, n_out + 1)
    if ts[-1] < duration * (1 - 1e-12):
        ts = np.append(ts, duration)
    return ts


def lane_jump_times(group: Group, variants: Variants, rows: np.ndarray, t_end: float) -> np.ndarray:
    """Schedule discontinuities: one shared array, or one row per lane (padded past the end)."""
    if not group.times_batched:
        return np.asarray(jump_times(group.base.plant, t_end))
    per = [np.asarray(jump_times(group.plant(variants, int(r)), t_end)) for r in rows]
    width = max(p.size for p in per)
    return np.stack([np.pad(p, (0, width - p.size), constant_values=2.0 * t_end) for p in per])


@dataclasses.dataclass
class Pending:
    """A dispatched chunk: the device is computing it while the host does other work."""

    rows: np.ndarray
    out: dict
    t0: float
    B: int


def dispatch_chunk(group: Group, variants: Variants, rows: np.ndarray, B: int, ts: np.ndarray,
                   cfg: SolverConfig) -> Pending:
    """Start solving variants ``rows`` (at most ``B``; the chunk is padded with the last
    one so every chunk reuses one executable); returns at once (JAX dispatch is async)."""
    rows = np.asarray(rows)
    padded = np.concatenate([rows, np.repeat(rows[-1:], B - rows.size)])
    jt = lane_jump_times(group, variants, padded, float(ts[-1]))
    call, shared, mesh = compiled_lanes(group, B, ts, jnp.asarray(jt), cfg)
    batched = [jnp.asarray(b) for b in group.leaves(variants, padded)]
    jt_arr = jnp.asarray(jt)
    if mesh is not None:
        lanes = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("lanes"))
        batched = [jax.device_put(b, lanes) for b in batched]
        if group.times_batched:
            jt_arr = jax.device_put(jt_arr, lanes)
    t0 = time.perf_counter()
    return Pending(rows, call(shared, batched, jt_arr, jnp.asarray(ts)), t0, B)


def gather_chunk(p: Pending) -> tuple[list[LaneResult], dict]:
    """Wait for a dispatched chunk and split it into lanes (host arrays)."""
    out = jax.tree_util.tree_map(np.asarray, p.out)  # one transfer; blocks until done
    wall = time.perf_counter() - p.t0
    rows = p.rows
    lanes_out = []
    msg = getattr(diffrax.RESULTS, "_index_to_message", {})  # private in equinox: fall back to the code
    for k, r in enumerate(rows):
        take = lambda a, k=k: a[k]  # noqa: E731
        sol_ts = out["ts"][k]
        n_ok = int(np.isfinite(sol_ts).sum())
        code = int(out["result"][k])
        success = code == 0
        message = "successful" if success else (msg[code] if code < len(msg) else f"diffrax result code {code}")
        ys = jax.tree_util.tree_map(lambda a, k=k: a[k][:n_ok], out["ys"])
        if success and not all(np.all(np.isfinite(a)) for a in jax.tree_util.tree_leaves(ys)):
            success, message = False, "non-finite state (NaN or inf) in the solution"
        lanes_out.append(LaneResult(
            variant=int(r), ts=sol_ts[:n_ok], ys=ys,
            signals={n: v[k][:n_ok] for n, v in out["signals"].items()},
            y0=jax.tree_util.tree_map(take, out["y0"]), success=success, message=message,
            t_reached=float(sol_ts[n_ok - 1]) if n_ok else 0.0, steps=int(out["steps"][k]),
            accepted=int(out["accepted"][k]), rejected=int(out["rejected"][k]),
            stored=jax.tree_util.tree_map(take, out["stored"]),
        ))
    steps = out["steps"][: rows.size]
    # lock-step waste: vmapped adaptive steps run until the slowest lane is done
    info = dict(wall=wall, lanes=int(rows.size), B=p.B, max_steps=int(steps.max()),
                mean_steps=float(steps.mean()), lockstep_waste=float(1.0 - steps.mean() / max(steps.max(), 1)))
    return lanes_out, info


def solve_chunk(group: Group, variants: Variants, rows: np.ndarray, B: int, ts: np.ndarray,
                cfg: SolverConfig) -> tuple[list[LaneResult], dict]:
    """:func:`dispatch_chunk` and :func:`gather_chunk` in one call."""
    return gather_chunk(dispatch_chunk(group, variants, rows, B, ts, cfg))
