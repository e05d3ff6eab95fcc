"""Integrate a plant with diffrax: one compile per plant structure, status instead of throws.

Default solver (measured, see benchmarks/RESULTS.md and DESIGN.md): with the tiny fluid
hold-ups quasi-steady the plant is non-stiff, and explicit Tsit5 with a PI step-size
controller (pcoeff 0.4, icoeff 0.3) beats the implicit methods several-fold. Kvaerno3/5 stay
selectable for plants with fast dynamic states. Schedule breakpoints go to
``ClipStepSizeController(jump_ts=...)`` so the solver steps onto each discontinuity.

Compiled solvers are cached per plant *structure* (static fields, array shapes, solver
configuration): a changed parameter value (``--set``, a sweep, calibration) reuses the
compiled executable. :data:`COMPILE_COUNT` counts compilations so tests can prove it.
"""

from __future__ import annotations

import dataclasses
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

    ``ts`` are the output times reached; on a failure they stop where the solver stopped and
    everything computed up to there is kept.
    """

    ts: np.ndarray
    ys: dict
    signals: dict[str, np.ndarray]
    y_final: dict
    success: bool
    message: str
    t_reached: float
    stats: dict[str, float]


def solve_flat(field, y0, ts, jump_ts, cfg: SolverConfig, norm, save, args=None, adjoint=None):
    """diffrax.diffeqsolve with twin's solver, PI controller, schedule jumps and status
    handling: ``field(t, y, args)`` on the state ``y`` (a flat vector, or a tuple of them),
    the step-size ``norm`` on it, and ``save(t, y, args)`` at ``ts``."""
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
        saveat=diffrax.SaveAt(ts=ts, fn=save), stepsize_controller=controller,
        max_steps=cfg.max_steps, throw=False, adjoint=adjoint or diffrax.RecursiveCheckpointAdjoint(),
    )


def _integrate(plant: Plant, y0, ts, jump_ts, cfg: SolverConfig, adjoint=None):
    """Solve from ``ts[0]`` to ``ts[-1]``, saving states and signals at ``ts``.

    ``adjoint``: how diffrax differentiates the solve (default: reverse mode with recursive
    checkpointing; :class:`diffrax.ForwardMode` for jvp/jacfwd).
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
                     args=plant, adjoint=adjoint)
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
    lowered = eqx.filter_jit(_integrate).lower(plant, y0, ts, jump_ts, cfg)
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


def simulate(plant: Plant, duration: float, output_interval: float, cfg: SolverConfig | None = None,
             y0=None) -> Solution:
    """Run ``plant`` from t = 0 to ``duration``, saving every ``output_interval``. [s]"""
    cfg = cfg or SolverConfig()
    n_out = int(round(duration / output_interval))
    ts = np.linspace(0.0, n_out * output_interval, n_out + 1)
    if ts[-1] < duration * (1 - 1e-12):
        ts = np.append(ts, duration)
    ts = jnp.asarray(ts)
    jt = jnp.asarray(jump_times(plant, float(ts[-1])))
    y0 = plant.initial_state() if y0 is None else y0
    fn, t_compile = compiled_solver(plant, y0, ts, jt, cfg)
    t0 = time.perf_counter()
    sol_ts, ys, sig, result, stats = fn(plant, y0, ts, jt, cfg)
    jax.block_until_ready(ys)
    wall = time.perf_counter() - t0
    sol_ts = np.asarray(sol_ts)
    ok_rows = np.isfinite(sol_ts)
    n_ok = int(ok_rows.sum())
    success = bool(result == diffrax.RESULTS.successful)
    message = "successful" if success else diffrax.RESULTS[result]
    ys_np = jax.tree_util.tree_map(lambda a: np.asarray(a)[:n_ok], ys)
    sig_np = {k: np.asarray(v)[:n_ok] for k, v in sig.items()}
    y_final = jax.tree_util.tree_map(lambda a: a[-1], ys_np) if n_ok else None
    if success:
        finite = all(np.all(np.isfinite(a)) for a in jax.tree_util.tree_leaves(ys_np))
        if not finite:
            success, message = False, "non-finite state (NaN or inf) in the solution"
    st = {k: int(np.asarray(stats[k])) for k in ("num_steps", "num_accepted_steps", "num_rejected_steps")}
    st.update(wall_time=wall, compile_time=t_compile)
    return Solution(
        ts=sol_ts[:n_ok], ys=ys_np, signals=sig_np, y_final=y_final, success=success,
        message=message, t_reached=float(sol_ts[n_ok - 1]) if n_ok else 0.0, stats=st,
    )
