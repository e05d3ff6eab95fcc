"""Results of a run as one self-describing xarray Dataset, written atomically as NetCDF4.

Layout (names are ``component.quantity``; every variable has ``units`` and ``long_name``):

* coordinate ``time`` [s] since the start of the run;
* component states on their own dimensions (``recuperator_cell``, ``pcm_bank_node``, ...);
* signals (temperatures, heat flows, firing rate) and the stream on every connection;
* ``E_stored`` per component and the cumulative boundary flows and tallies
  (``audit.furnace.fuel`` [J], ``audit.furnace.co2`` [kg]);
* the first-law audit per component on the ``component`` dimension, and for the plant;
* solver statistics and provenance (verbatim scenario text, its sha256, package and
  library versions) as attributes.

Files are written to a temporary name in the target folder and renamed into place, so a
crash or a full disk never leaves a half-written file at the final path.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from importlib import metadata
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
import xarray as xr

from twin.audit import Audit
from twin.core.plant import Plant
from twin.core.solve import Solution

_LIBS = ("jax", "jaxlib", "diffrax", "equinox", "numpy", "xarray", "h5netcdf", "pydantic", "pint")


def _versions() -> dict[str, str]:
    out = {}
    for lib in ("twin", *_LIBS):
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "unknown"
    return out


def _dims(component: str, dims: tuple[str, ...]) -> tuple[str, ...]:
    return ("time", *(f"{component}_{d}" for d in dims))


def _state_vars(plant: Plant, ys) -> dict:
    out = {}
    for name, comp in plant.components.items():
        x = ys["components"][name]
        if isinstance(x, eqx.Module):
            fields = {k: getattr(x, k) for k in comp.state_info}
        elif comp.state_info:  # a bare array is the first declared state (the others unused)
            fields = {next(iter(comp.state_info)): x}
        else:
            continue
        for k, arr in fields.items():
            arr = np.asarray(arr)
            units, long_name, dims = comp.state_info[k]
            if arr.ndim != 1 + len(dims) or 0 in arr.shape[1:]:
                continue  # unused state (e.g. the hold-up of a quasi-steady side)
            out[f"{name}.{k}"] = xr.Variable(
                _dims(name, dims), arr, {"units": units, "long_name": f"{name}: {long_name} (state)"}
            )
    return out


def signal_info(plant: Plant, key: str) -> tuple[str, str, tuple[str, ...]]:
    """``(units, long_name, dims)`` of the signal ``key`` (``"component.quantity"``)."""
    name, _, rest = key.partition(".")
    comp = plant.components[name]
    if rest in comp.signal_info:
        units, long_name, dims = comp.signal_info[rest]
    elif rest == "E_stored":
        units, long_name, dims = "J", "energy stored relative to 298.15 K", ()
    elif rest == "X_stored":
        units, long_name, dims = "J", "exergy stored relative to the dead state T0", ()
    elif rest.endswith(".m_flow"):
        units, long_name, dims = "kg/s", f"mass flow leaving {name}.{rest[:-7]}", ()
    elif rest.endswith(".T"):
        units, long_name, dims = "K", f"temperature leaving {name}.{rest[:-2]}", ()
    else:
        raise KeyError(f"signal {key} has no units declared")
    return units, f"{name}: {long_name}", tuple(dims)


def signal_units(plant: Plant, scalar_only: bool = True) -> dict[str, str]:
    """``{signal: units}`` of every (scalar) signal the plant saves, found by tracing its
    :meth:`~twin.core.plant.Plant.signals` once (no compile)."""
    shapes = jax.eval_shape(plant.signals, 0.0, plant.initial_state())
    return {k: signal_info(plant, k)[0] for k, v in shapes.items() if not scalar_only or v.shape == ()}


def _signal_vars(plant: Plant, signals: dict[str, np.ndarray]) -> dict:
    out = {}
    for key, arr in signals.items():
        units, long_name, dims = signal_info(plant, key)
        out[key] = xr.Variable(_dims(key.partition(".")[0], dims), np.asarray(arr),
                               {"units": units, "long_name": long_name})
    return out


def _connection_vars(plant: Plant, ys) -> dict:
    """Cumulative heat and exergy carried by each connection, on a ``connection`` dimension.

    A connection is named by its outlet port (``furnace.exhaust``); the coordinate
    ``connection_target`` names the inlet port it feeds. Heat is ``∫ m (h - h(T0)) dt``
    (enthalpy relative to the dead state), exergy ``∫ m ex dt``: the links of the energy
    and exergy Sankey diagrams between components.
    """
    pairs = [(f"{sc}.{sp}", f"{c}.{i}") for (c, i), (sc, sp) in plant.wiring.source_of]
    if not pairs:
        return {}
    dims = ("time", "connection")
    out = {}
    for q, long_name in (("heat", "cumulative enthalpy above the dead state carried by the connection"),
                         ("exergy", "cumulative exergy carried by the connection")):
        arr = np.stack([np.asarray(ys["connections"][src][q]) for src, _ in pairs], axis=-1)
        out[f"audit.connection.{q}"] = xr.Variable(dims, arr, {"units": "J", "long_name": long_name})
    return out


def _audit_vars(plant: Plant, ys, report: Audit) -> dict:
    out = {}
    for name, comp in plant.components.items():
        for k in comp.flow_names:
            out[f"audit.{name}.{k}"] = xr.Variable(
                ("time",), np.asarray(ys["audit"][name][k]),
                {"units": "J", "long_name": f"{name}: cumulative boundary energy flow '{k}' (into the component)"},
            )
            out[f"audit.{name}.{k}_exergy"] = xr.Variable(
                ("time",), np.asarray(ys["audit"][name][f"{k}_exergy"]),
                {"units": "J", "long_name": f"{name}: cumulative exergy of boundary flow '{k}' (into the component)"},
            )
        for k in comp.tally_names:
            rate = comp.tally_units.get(k, "kg/s")
            units = {"kg/s": "kg", "W": "J"}.get(rate, f"({rate}) s")
            out[f"audit.{name}.{k}"] = xr.Variable(
                ("time",), np.asarray(ys["audit"][name][k]),
                {"units": units, "long_name": f"{name}: cumulative '{k}'"},
            )
    out.update(_connection_vars(plant, ys))
    names = list(report.components)
    for field, units, long_name in (
        ("E_in", "J", "energy entering over the run"),
        ("E_out", "J", "energy leaving over the run"),
        ("dE_stored", "J", "change of stored energy over the run"),
        ("closure", "1", "first-law closure |E_in - E_out - dE_stored| / E_in"),
    ):
        out[f"audit.{field}"] = xr.Variable(
            ("component",), np.array([getattr(report.components[n], field) for n in names]),
            {"units": units, "long_name": long_name},
        )
        out[f"audit.plant.{field}"] = xr.Variable(
            (), np.float64(getattr(report.plant, field)), {"units": units, "long_name": f"plant: {long_name}"}
        )
    for field, units, long_name in (
        ("X_in", "J", "exergy entering through ports over the run"),
        ("X_out", "J", "exergy leaving through ports over the run"),
        ("dX_stored", "J", "change of stored exergy over the run"),
        ("destruction", "J", "exergy destroyed inside (T0 S_gen) over the run"),
        ("throughput", "J", "exergy supplied (ports, incoming flows, stored exergy released)"),
    ):
        out[f"audit.exergy.{field}"] = xr.Variable(
            ("component",), np.array([getattr(report.exergy[n], field) for n in names]),
            {"units": units, "long_name": long_name, "dead_state_temperature_K": report.T0},
        )
        if field not in ("X_in", "X_out"):
            out[f"audit.plant.exergy.{field}"] = xr.Variable(
                (), np.float64(getattr(report.plant_exergy, field)),
                {"units": units, "long_name": f"plant: {long_name}", "dead_state_temperature_K": report.T0},
            )
    return out


def to_dataset(plant: Plant, sol: Solution, report: Audit, *, provenance: dict | None = None) -> xr.Dataset:
    """Assemble the results Dataset of one run."""
    data = {**_state_vars(plant, sol.ys), **_signal_vars(plant, sol.signals), **_audit_vars(plant, sol.ys, report)}
    ds = xr.Dataset(data, coords={
        "time": xr.Variable(("time",), sol.ts, {"units": "s", "long_name": "time since the start of the run",
                                                "standard_name": "time", "axis": "T"}),
        "component": xr.Variable(("component",), np.array(list(report.components), dtype=object),
                                 {"long_name": "component name"}),
    })
    pairs = [(f"{sc}.{sp}", f"{c}.{i}") for (c, i), (sc, sp) in plant.wiring.source_of]
    if pairs:
        ds = ds.assign_coords(
            connection=xr.Variable(("connection",), np.array([a for a, _ in pairs], dtype=object),
                                   {"long_name": "outlet port feeding the connection"}),
            connection_target=xr.Variable(("connection",), np.array([b for _, b in pairs], dtype=object),
                                          {"long_name": "inlet port the connection feeds"}),
        )
    attrs = {
        "Conventions": "CF-1.10",
        "title": "twin simulation results",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "solver_success": int(sol.success),
        "solver_message": sol.message,
        "solver_t_reached_s": sol.t_reached,
        # the method that produced these results (the scenario's is ``solver_method``), and why
        # another was used: a stiff run of an explicit method is solved again (twin.core.solve)
        "solver_method_used": sol.method or None,
        "solver_retry": sol.retry,
        **{f"solver_{k}": v for k, v in sol.stats.items()},
        "energy_closure": report.plant.closure,
        "dead_state_temperature_K": report.T0,
        "second_law_violations": "; ".join(report.second_law_violations()),
    }
    attrs.update({f"version_{k}": v for k, v in _versions().items()})
    attrs.update(provenance or {})
    ds.attrs.update({k: (int(v) if isinstance(v, bool) else v) for k, v in attrs.items() if v is not None})
    return ds


def _engine() -> str:
    """netCDF4 (the netCDF-C reference library) when installed: it wrote a 168-variable
    flagship results file 4-5x faster than h5netcdf (sweeps write one file per variant);
    both write the same NetCDF4/HDF5 format."""
    try:
        import netCDF4  # noqa: F401
    except ImportError:
        return "h5netcdf"
    return "netcdf4"


def _atomically(path: str | Path, write) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place with
    the permissions a plain ``open`` would give (``mkstemp`` makes files private). A failure
    (a full disk, a permission) leaves no file at ``path`` and removes the temporary one.
    Ctrl-C during the write lets it finish, then raises :class:`twin.interrupt.Interrupted`."""
    from twin.interrupt import deferred

    path = Path(path)
    with deferred(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        try:
            os.chmod(tmp, 0o666 & ~umask)  # results are shared files
            write(tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


def write_atomic(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` as NetCDF4 to ``path`` via a temporary file and a rename."""
    engine = _engine()
    return _atomically(path, lambda tmp: ds.to_netcdf(
        tmp, engine=engine, **({"invalid_netcdf": False} if engine == "h5netcdf" else {})))


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and a rename (reports, tables)."""
    return _atomically(path, lambda tmp: Path(tmp).write_bytes(data))
