"""Why a run stopped early: the step limit, stiffness, non-finite equations, a collapsed step.

:func:`diagnose` looks at where the solver stopped (time ``t``, state ``y``) and at its step
counts, and evaluates the plant's right-hand side ``f`` there once, compiled with its
Jacobian ``J = ∂f/∂y``:

* **non-finite equations**: ``f(t, y)``, or ``f`` a little ahead (an explicit Euler trial
  ``f(t + δ, y + δ f)`` with ``δ ρ ≤ 1``, so the trial cannot overshoot a stable mode), is
  NaN or inf; the message names the states whose derivatives are not finite;
* **stiff**: an explicit method ran out of steps with its mean step ``h`` at least the time
  constant ``1/ρ`` of the fastest mode (``ρ`` the spectral radius of ``J`` over the
  components' states), and it rejected fewer steps than it accepted. An explicit Runge-Kutta
  method is stable only while ``h |λ|`` stays inside a small region (about 3.5 for Tsit5 on
  the negative real axis [1, sec. IV.2]), so when accuracy would allow longer steps they
  are held at ``h ρ ≈ 1-3.5``: the step count then follows the fastest mode, not the
  solution, which is what stiffness means [1, sec. IV.1]. Steps set by accuracy are shorter
  (``h ρ`` of 0.1-0.2 was measured on a failed run of a non-stiff plant at rtol 1e-8),
  and a run whose step collapsed (most steps rejected) is not stiff but broken;
* **collapsed step**: most steps were rejected: the solution is not smooth there, or the
  equations are not finite just beyond the state reached;
* otherwise the step limit (``solver.max_steps``) was simply too small for the tolerance.

Only failed runs are diagnosed, so the compile of the probe (about a second for a small
plant) is never paid by a run that succeeds.

References
----------
[1] Hairer & Wanner, Solving Ordinary Differential Equations II: Stiff and
    Differential-Algebraic Problems, 2nd ed., Springer 1996.
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

#: ``h ρ`` (mean explicit step times the fastest rate) at or above which an explicit run that
#: ran out of steps is called stiff (module docstring)
STIFF_STEP_RATIO = 1.0
#: Euler trial steps of the look-ahead, relative to ``max(t, 1 s)``; only those with ``δ ρ ≤ 1``
LOOK_AHEAD = (1e-12, 1e-9, 1e-6, 1e-3)
#: at most this many state names in a message
NAMES_SHOWN = 5

_PROBES: dict = {}


@dataclasses.dataclass
class Diagnosis:
    """Why a run stopped: ``kind`` (``"nonfinite"``, ``"stiff"``, ``"collapse"``, ``"max_steps"``
    or ``"other"``), a message for the user, ``h ρ`` (NaN when not computed) and the seconds
    spent compiling the probe."""

    kind: str
    message: str
    step_ratio: float = float("nan")
    compile_time: float = 0.0

    @property
    def stiff(self) -> bool:
        return self.kind == "stiff"


def state_names(y, plant=None) -> list[tuple[str, bool]]:
    """A name per entry of the flattened state ``y`` (the order of ``ravel_pytree``), and
    whether it is a component's state (True) or an audit integral: ``("user.h", True)``,
    ``("pcm_bank.H[3]", True)``, ``("audit user.stream_in", False)``. A component whose
    state is one bare array is named by its ``state_info`` when ``plant`` is given."""
    out = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(y)[0]:
        keys = [str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in path]
        physical = bool(keys) and keys[0] == "components"
        if physical and len(keys) == 2 and plant is not None:
            info = getattr(plant.components.get(keys[1]), "state_info", {})
            keys += list(info)[:1] if len(info) == 1 else []
        base = ".".join(keys[1:]) if physical else " ".join([keys[0], ".".join(keys[1:])]).strip()
        n = int(np.size(leaf))
        out += [(base, physical)] if np.ndim(leaf) == 0 else [(f"{base}[{i}]", physical) for i in range(n)]
    return out


def _probe_fn(plant, t, y, deltas):
    y_flat, unravel = jax.flatten_util.ravel_pytree(y)

    def f(tt, v):
        return jax.flatten_util.ravel_pytree(plant.vector_field(tt, unravel(v)))[0]

    f0 = f(t, y_flat)
    J = jax.jacfwd(lambda v: f(t, v))(y_flat)
    ahead = jax.vmap(lambda d: f(t + d, y_flat + d * f0))(deltas)
    return f0, J, ahead


def probe(plant, t: float, y) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """``(f, J, deltas, f_ahead, compile seconds)`` at ``(t, y)``, compiled once per plant structure."""
    deltas = jnp.asarray(np.asarray(LOOK_AHEAD) * max(abs(t), 1.0))
    t = jnp.asarray(t, dtype=deltas.dtype)
    leaves, treedef = jax.tree_util.tree_flatten((plant, y))
    key = (treedef, tuple((np.shape(x), np.asarray(x).dtype.str) for x in leaves))
    spent = 0.0
    if key not in _PROBES:
        t0 = time.perf_counter()
        _PROBES[key] = eqx.filter_jit(_probe_fn).lower(plant, t, y, deltas).compile()
        spent = time.perf_counter() - t0
    f0, J, ahead = (np.asarray(a) for a in _PROBES[key](plant, t, y, deltas))
    return f0, J, np.asarray(deltas), ahead, spent


def _listed(entries: list[tuple[str, bool]]) -> str:
    """Names of the entries, the components' states first (an audit integral follows them)."""
    physical = [n for n, p in entries if p]
    names = physical or [n for n, _ in entries]
    shown = names[:NAMES_SHOWN]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def diagnose(plant, cfg, raw: dict, t_end: float) -> Diagnosis:
    """Why the run described by ``raw`` (from :func:`twin.core.solve._run`) stopped before
    ``t_end`` [s]; ``cfg`` is its :class:`~twin.core.solve.SolverConfig`."""
    from twin.core.solve import IMPLICIT, STIFF_RETRY_METHOD

    if raw.get("nonfinite") is not None:
        t_bad, y_bad = raw["nonfinite"]
        flat = jax.flatten_util.ravel_pytree(y_bad)[0]
        bad = [e for e, ok in zip(state_names(y_bad, plant), np.isfinite(np.asarray(flat))) if not ok]
        return Diagnosis("nonfinite", f"non-finite state (NaN or inf) at t = {t_bad:.6g} s in {_listed(bad)}: "
                                      "an input or a parameter takes a component outside the range its model "
                                      "holds for")
    t, y = raw["t_stop"], raw["y_stop"]
    steps, accepted, rejected = raw["steps"], raw["accepted"], raw["rejected"]
    result = raw["result"]
    if y is None or not np.isfinite(t):
        return Diagnosis("other", diffrax.RESULTS[result] or "the solver failed")
    f0, J, deltas, ahead, spent = probe(plant, t, y)
    entries = state_names(y, plant)
    keep = np.array([p for _, p in entries], dtype=bool)
    Jp = J[np.ix_(keep, keep)]
    rho = float(np.max(np.abs(np.linalg.eigvals(Jp)))) if Jp.size and np.all(np.isfinite(Jp)) else float("nan")
    usable = deltas * (rho if np.isfinite(rho) else 0.0) <= 1.0
    if not np.all(np.isfinite(f0)) or not np.all(np.isfinite(ahead[usable])):
        where = "at" if not np.all(np.isfinite(f0)) else "just after"
        row = f0 if where == "at" else ahead[usable][np.argmax(~np.isfinite(ahead[usable]).all(axis=1))]
        bad = [e for e, v in zip(entries, row) if not np.isfinite(v)]
        return Diagnosis("nonfinite", f"the plant's equations give NaN or inf {where} t = {t:.6g} s, in the "
                                      f"derivatives of {_listed(bad)}: an input or a parameter takes a component "
                                      "outside the range its model holds for", compile_time=spent)
    h = t / max(accepted, 1)
    ratio = h * rho if np.isfinite(rho) else float("nan")
    max_steps = result == diffrax.RESULTS.max_steps_reached
    if rejected > accepted:
        return Diagnosis("collapse", f"the step size collapsed at t = {t:.6g} s ({rejected} of {steps} steps "
                                     "rejected): the solution is not smooth there, or the equations are not finite "
                                     "just beyond it", ratio, spent)
    if max_steps and cfg.method not in IMPLICIT and ratio >= STIFF_STEP_RATIO:
        return Diagnosis("stiff", f"the plant is stiff for the explicit method {cfg.method}: its {steps} steps "
                                  f"(mean {h:.3g} s) were held at the stability limit of the fastest mode (time "
                                  f"constant {1 / rho:.3g} s, step x rate = {ratio:.2g}); an implicit method "
                                  f"(solver.method: {STIFF_RETRY_METHOD}) takes steps set by accuracy instead", ratio, spent)
    if max_steps:
        return Diagnosis("max_steps", f"the solver took its maximum of {steps} steps (solver.max_steps) before "
                                      f"the end ({t_end:.6g} s): raise solver.max_steps, or loosen solver.rtol and "
                                      "solver.atol", ratio, spent)
    return Diagnosis("other", diffrax.RESULTS[result] or "the solver failed", ratio, spent)
