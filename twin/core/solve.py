"""Integrate a plant with diffrax: one compile per plant structure, status instead of throws.

Default solver (measured, see benchmarks/RESULTS.md and DESIGN.md): with the tiny fluid
hold-ups quasi-steady the plant is non-stiff, and explicit Tsit5 with a PI step-size
controller (pcoeff 0.4, icoeff 0.3) beats the implicit methods several-fold. Kvaerno3/5 stay
selectable for plants with fast dynamic states. Schedule breakpoints go to
``ClipStepSizeController(jump_ts=...)`` so the solver steps onto each discontinuity.

Compiled solvers are cached per plant *structure* (static fields, array shapes, solver
configuration): a changed parameter value (``--set``, a sweep, calibration) reuses the
compiled executable. :data:`COMPILE_COUNT` counts compilations so tests can prove it.

A run that stops early keeps what it computed: the outputs up to there and the state where
the solver stopped, with a status saying why (:mod:`twin.core.faults` diagnoses it). A run of
an explicit method that the diagnosis finds stiff (its steps held at the stability limit of
the fastest mode) is solved once more with :data:`STIFF_RETRY_METHOD`, and the results say so.
"""

from __future__ import annotations

import dataclasses
import math
import time

import diffrax
import equinox as eqx
import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np

from twin.core.plant import Plant

SOLVERS = {
    "tsit5": diffrax.Tsit5,
    "dopri5": diffrax.Dopri5,
    "dopri8": diffrax.Dopri8,
    "bosh3": diffrax.Bosh3,
    "kvaerno3": diffrax.Kvaerno3,
    "kvaerno5": diffrax.Kvaerno5,
}
IMPLICIT = {"kvaerno3", "kvaerno5"}
#: the implicit method a stiff run of an explicit one is retried with. On a hold-up of
#: 0.1 kg fed at 2 kg/s (time constant 0.05 s, 2 h run) Kvaerno5 took 74 steps and Kvaerno3
#: 583 where Tsit5 needs about 40,000
STIFF_RETRY_METHOD = "kvaerno5"

COMPILE_COUNT = 0
LAST_COMPILE: dict[str, float] = {}  # seconds spent tracing and compiling, last compile
_COMPILED: dict = {}


@dataclasses.dataclass(frozen=True)
class SolverConfig:
    """Numerical settings (static: each distinct value compiles once).

    Parameters
    ----------
    method : One of :data:`SOLVERS`.
    rtol, atol : Relative and absolute tolerance of the step-size controller. [-], [state units]
    max_steps : Upper bound on solver steps (also sets gradient checkpoints).
    pcoeff, icoeff : PI controller coefficients (Hairer/Söderlind; diffrax PIDController).
    dtmax : Largest step, or None. [s]
    dt0 : First step tried. [s]
    """

    method: str = "tsit5"
    rtol: float = 1e-6
    atol: float = 1e-6
    max_steps: int = 200_000
    pcoeff: float = 0.4
    icoeff: float = 0.3
    dtmax: float | None = None
    dt0: float = 1.0

    def __post_init__(self):
        if self.method not in SOLVERS:
            raise ValueError(f"unknown solver {self.method!r}; accepted: {', '.join(SOLVERS)}")


@dataclasses.dataclass
class Solution:
    """What a run produced, as host (numpy) arrays.

    ``ts`` are the output times reached; on a failure they are the output times before the
    solver stopped, then the time it stopped at (``t_reached``), and everything computed up
    to there is kept. ``method`` is the solver that produced the results; ``retry`` is empty,
    or says why the first method's run was replaced (a stiff run of an explicit method,
    solved again with :data:`STIFF_RETRY_METHOD`) and how that first run ended.
    """

    ts: np.ndarray
    ys: dict
    signals: dict[str, np.ndarray]
    y_final: dict
    success: bool
    message: str
    t_reached: float
    stats: dict[str, float]
    method: str = ""
    retry: str = ""


def solve_flat(field, y0, ts, jump_ts, cfg: SolverConfig, norm, save, args=None, adjoint=None,
               t1: bool = False):
    """diffrax.diffeqsolve with twin's solver, PI controller, schedule jumps and status
    handling: ``field(t, y, args)`` on the state ``y`` (a flat vector, or a tuple of them),
    the step-size ``norm`` on it, and ``save(t, y, args)`` at ``ts`` and, with ``t1``, once
    more where the solve ended (the end of the run, or where the solver stopped)."""
    solver = SOLVERS[cfg.method]()
    if cfg.method in IMPLICIT:
        solver = SOLVERS[cfg.method](root_finder=diffrax.VeryChord(rtol=cfg.rtol, atol=cfg.atol))
    pid = diffrax.PIDController(rtol=cfg.rtol, atol=cfg.atol, pcoeff=cfg.pcoeff, icoeff=cfg.icoeff,
                                dtmax=cfg.dtmax, norm=norm)
    controller = diffrax.ClipStepSizeController(pid, jump_ts=jump_ts)
    return diffrax.diffeqsolve(
        # an explicit first step skips diffrax's initial step estimate (two more traced copies
        # of the right-hand side); the PI controller adapts from it within a few steps
        diffrax.ODETerm(field), solver, ts[0], ts[-1], cfg.dt0, y0, args=args,
        saveat=diffrax.SaveAt(ts=ts, t1=t1, fn=save), stepsize_controller=controller,
        max_steps=cfg.max_steps, throw=False, adjoint=adjoint or diffrax.RecursiveCheckpointAdjoint(),
    )


def _integrate(plant: Plant, y0, ts, jump_ts, cfg: SolverConfig, adjoint=None, stop: bool = False):
    """Solve from ``ts[0]`` to ``ts[-1]``, saving states and signals at ``ts``.

    ``adjoint``: how diffrax differentiates the solve (default: reverse mode with recursive
    checkpointing; :class:`diffrax.ForwardMode` for jvp/jacfwd). ``stop``: save once more
    where the solve ended, in the row after the last output time reached (on success the
    end of the run, again; on a failure the time and state where the solver stopped).
    """
    # The solver sees one flat vector, not the plant's pytree of ~50 small arrays: every
    # Runge-Kutta stage then costs a handful of vector operations instead of a handful per
    # leaf, which on a CPU (where each operation has a fixed dispatch cost) was 5x faster.
    y0_flat, unravel = jax.flatten_util.ravel_pytree(y0)

    def field(t, y, p):
        return jax.flatten_util.ravel_pytree(p.vector_field(t, unravel(y)))[0]

    def save(t, y, p):
        yt = unravel(y)
        return yt, p.signals(t, yt)

    sol = solve_flat(field, y0_flat, ts, jump_ts, cfg, physical_rms_norm(y0, y0_flat.size), save,
                     args=plant, adjoint=adjoint, t1=stop)
    ys, sig = sol.ys
    return sol.ts, ys, sig, sol.result, sol.stats


def physical_rms_norm(y0, size: int):
    """RMS norm over the components' states only, for the step-size controller.

    The audit integrals (enthalpy, exergy, tallies, costs) are outputs, not dynamics: the
    state error drives theirs, and counting them in an RMS norm would dilute the error of
    the physical states as more of them are added (a run's accuracy must not depend on how
    much is being audited). First-law closure is exact whatever the step (see
    :mod:`twin.audit`).
    """
    # the order of jax.flatten_util.ravel_pytree: leaves in tree_flatten order, each raveled
    mask_tree = {k: jax.tree_util.tree_map(lambda a, k=k: (k == "components", np.size(a)), v,
                                           is_leaf=lambda a: hasattr(a, "shape"))
                 for k, v in y0.items()}
    leaves = jax.tree_util.tree_leaves(mask_tree, is_leaf=lambda a: isinstance(a, tuple))
    mask = np.concatenate([np.full(size, float(phys)) for phys, size in leaves] or [np.zeros(0)])
    assert mask.size == size, "the mask must follow ravel_pytree's order"
    n = max(float(mask.sum()), 1.0)

    keep = mask > 0

    def norm(err):
        # select, not multiply: an audit entry that overflowed on a far too long trial step
        # must not turn into 0 * inf = nan; a non-finite error rejects the step and shrinks it
        value = jnp.sqrt(jnp.sum(jnp.where(keep, err, 0.0) ** 2) / n)
        return jnp.where(jnp.isnan(value), jnp.inf, value)

    return norm


def _structure_key(plant, y0, ts, jump_ts, cfg):
    leaves, treedef = jax.tree_util.tree_flatten((plant, y0))
    shapes = tuple((np.shape(x), np.asarray(x).dtype.str) for x in leaves)
    return (treedef, shapes, np.shape(ts), np.shape(jump_ts), cfg)


def compiled_solver(plant: Plant, y0, ts, jump_ts, cfg: SolverConfig):
    """The compiled integrator for this plant structure, and the compile time spent now. [s]"""
    global COMPILE_COUNT
    key = _structure_key(plant, y0, ts, jump_ts, cfg)
    if key in _COMPILED:
        return _COMPILED[key], 0.0
    t0 = time.perf_counter()
    lowered = eqx.filter_jit(_integrate).lower(plant, y0, ts, jump_ts, cfg, stop=True)
    t1 = time.perf_counter()
    fn = lowered.compile()
    COMPILE_COUNT += 1
    _COMPILED[key] = fn
    LAST_COMPILE.update(trace=t1 - t0, compile=time.perf_counter() - t1)
    return fn, time.perf_counter() - t0


def jump_times(plant: Plant, t1: float) -> np.ndarray:
    """All schedule discontinuities inside (0, t1), from every schedule in the plant. [s]"""
    from twin.core.schedule import Schedule

    found = [np.zeros(0)]
    for leaf in jax.tree_util.tree_leaves(plant, is_leaf=lambda x: isinstance(x, Schedule)):
        if isinstance(leaf, Schedule):
            found.append(leaf.jump_times(0.0, t1))
    jt = np.unique(np.concatenate(found))
    return jt if jt.size else np.asarray([t1 * 2.0])  # keep the array shape non-empty


def output_times(duration: float, output_interval: float) -> np.ndarray:
    """Every ``output_interval`` from 0, and ``duration`` itself if the last falls short. [s]"""
    n_out = int(round(duration / output_interval))
    ts = np.linspace(0.0, n_out * output_interval, n_out + 1)
    if ts[-1] < duration * (1 - 1e-12):
        ts = np.append(ts, duration)
    return ts


def simulate(plant: Plant, duration: float, output_interval: float, cfg: SolverConfig | None = None,
             y0=None, *, retry_stiff: bool = True) -> Solution:
    """Run ``plant`` from t = 0 to ``duration``, saving every ``output_interval``. [s]

    A run that stops early is diagnosed (:func:`twin.core.faults.diagnose`): its message says
    why (the step limit, non-finite equations, a collapsed step) and where. With
    ``retry_stiff``, a run of an explicit method found stiff is solved again, once, with
    :data:`STIFF_RETRY_METHOD`; the results that got further are returned, and
    :attr:`Solution.retry` records what happened (wall and compile times add up both runs).
    """
    from twin.core import faults

    cfg = cfg or SolverConfig()
    ts = jnp.asarray(output_times(duration, output_interval))
    jt = jnp.asarray(jump_times(plant, float(ts[-1])))
    y0 = plant.initial_state() if y0 is None else y0
    sol, raw = _run(plant, y0, ts, jt, cfg)
    if sol.success:
        return sol
    found = faults.diagnose(plant, cfg, raw, float(ts[-1]))
    sol.message = found.message
    sol.stats["compile_time"] += found.compile_time
    if not (retry_stiff and found.stiff and cfg.method not in IMPLICIT):
        return sol
    first, cfg2 = sol, dataclasses.replace(cfg, method=STIFF_RETRY_METHOD)
    second, raw2 = _run(plant, y0, ts, jt, cfg2)
    if not second.success:
        again = faults.diagnose(plant, cfg2, raw2, float(ts[-1]))
        second.message = again.message
        second.stats["compile_time"] += again.compile_time
    outcome = "successful" if second.success else f"it stopped at t = {second.t_reached:.6g} s too: {second.message}"
    note = (f"{cfg.method} stopped at t = {first.t_reached:.6g} s after {first.stats['num_steps']} steps: "
            f"{found.message}; solved again with {STIFF_RETRY_METHOD}: {outcome}")
    best = second if (second.success or second.t_reached >= first.t_reached) else first
    best.retry = note
    best.stats["wall_time"] = first.stats["wall_time"] + second.stats["wall_time"]
    best.stats["compile_time"] = first.stats["compile_time"] + second.stats["compile_time"]
    best.stats["first_attempt_steps"] = first.stats["num_steps"]
    return best


def _run(plant: Plant, y0, ts, jt, cfg: SolverConfig) -> tuple[Solution, dict]:
    """One solve: the :class:`Solution` and what a diagnosis needs (host arrays)."""
    fn, t_compile = compiled_solver(plant, y0, ts, jt, cfg)
    t0 = time.perf_counter()
    sol_ts, ys, sig, result, stats = fn(plant, y0, ts, jt, cfg, stop=True)
    jax.block_until_ready(ys)
    wall = time.perf_counter() - t0
    sol_ts = np.asarray(sol_ts)
    success = bool(result == diffrax.RESULTS.successful)
    message = "successful" if success else diffrax.RESULTS[result]
    # rows: the output times reached, then where the solve ended (_integrate's ``stop``)
    n_ok = int(np.isfinite(sol_ts).sum()) - 1
    ys_all = jax.tree_util.tree_map(np.asarray, ys)
    sig_all = {k: np.asarray(v) for k, v in sig.items()}
    t_stop = float(sol_ts[n_ok]) if n_ok >= 0 else math.nan
    y_stop = jax.tree_util.tree_map(lambda a: a[n_ok], ys_all) if n_ok >= 0 else None
    n_keep = n_ok + 1 if not success and n_ok >= 1 and t_stop > sol_ts[n_ok - 1] else n_ok
    # on a failure the state where the solver stopped, between two output times, ends the trajectory
    ys_np = jax.tree_util.tree_map(lambda a: a[:max(n_keep, 0)], ys_all)
    sig_np = {k: v[:max(n_keep, 0)] for k, v in sig_all.items()}
    out_ts = sol_ts[:max(n_keep, 0)]
    # a value that is not finite (an audit integral can overflow or turn NaN without
    # stopping the solver: the step-size norm ignores them) ends the usable trajectory
    bad = np.zeros(out_ts.size, dtype=bool)
    for a in jax.tree_util.tree_leaves(ys_np):
        bad |= ~np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1)
    raw = {"result": result, "t_stop": t_stop, "y_stop": y_stop,
           "steps": int(stats["num_steps"]), "accepted": int(stats["num_accepted_steps"]),
           "rejected": int(stats["num_rejected_steps"]), "nonfinite": None}
    if bad.any():
        k = int(np.argmax(bad))
        raw["nonfinite"] = (float(out_ts[k]), jax.tree_util.tree_map(lambda a: a[k], ys_np))
        ys_np = jax.tree_util.tree_map(lambda a: a[:k], ys_np)
        sig_np = {n: v[:k] for n, v in sig_np.items()}
        out_ts = out_ts[:k]
        success = False
        message = f"non-finite state (NaN or inf) at t = {raw['nonfinite'][0]:.6g} s"
    y_final = jax.tree_util.tree_map(lambda a: a[-1], ys_np) if out_ts.size else None
    st = {"num_steps": raw["steps"], "num_accepted_steps": raw["accepted"], "num_rejected_steps": raw["rejected"],
          "wall_time": wall, "compile_time": t_compile}
    t_reached = float(out_ts[-1]) if out_ts.size else 0.0
    return Solution(ts=out_ts, ys=ys_np, signals=sig_np, y_final=y_final, success=success, message=message,
                    t_reached=t_reached, stats=st, method=cfg.method), raw
