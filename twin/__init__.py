"""twin: a physics-based, differentiable digital twin of industrial energy systems.

Importing ``twin`` switches JAX to float64 (see :mod:`twin._config`).
"""

from twin import _config  # noqa: F401  (x64 and compilation cache before anything traces)

__version__ = "0.1.0"
