"""Process-wide JAX settings for twin, applied once on import.

* float64 everywhere (DESIGN lesson 7: float32 broke energy closure at 1e-5). Only for
  benchmarking float32 on a GPU, ``TWIN_X64=0`` leaves JAX's default (float32) in place;
  twin's checks (closure 1e-6) are not expected to pass then.
* Equinox runtime errors become NaN instead of host callbacks (``EQX_ON_ERROR=nan``):
  solves run with ``throw=False`` and report their status themselves, and without
  callbacks the persistent compilation cache works (DESIGN lesson 5).
* A persistent compilation cache under ``$TWIN_CACHE_DIR`` (default
  ``~/.cache/twin/jax``) roughly halves the first call in a new process. Set
  ``TWIN_CACHE_DIR=off`` to disable it.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("EQX_ON_ERROR", "nan")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", os.environ.get("TWIN_X64", "1").lower() not in {"0", "off", "false"})


def _enable_compilation_cache() -> None:
    cache = os.environ.get("TWIN_CACHE_DIR", str(Path.home() / ".cache" / "twin" / "jax"))
    if cache.lower() in {"", "off", "0", "none"}:
        return
    try:
        Path(cache).mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", cache)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


_enable_compilation_cache()
