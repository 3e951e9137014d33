"""The fit engine: gradient descent or Adam on ½||A G(θ) − y||² until convergence."""

from .engine import fit, resolve_device
from .result import FitDivergedError, FitResult
from .step_size import gd_step_size, jacobian_norm
from .stopping import StopRule

__all__ = [
    "FitDivergedError",
    "FitResult",
    "StopRule",
    "fit",
    "gd_step_size",
    "jacobian_norm",
    "resolve_device",
]
