"""The fit engine: gradient descent or Adam on ½||A G(θ) − y||² until convergence."""

from .engine import continue_fit, finish, fit, init_state, resolve_device
from .loop import run_until
from .result import FitDivergedError, FitInterrupted, FitResult
from .selection import STOP_RULES, NoisyStop
from .state import FitState
from .step_size import gd_step_size, jacobian_norm
from .stopping import StopRule, StopState

__all__ = [
    "FitDivergedError",
    "FitInterrupted",
    "FitResult",
    "FitState",
    "NoisyStop",
    "STOP_RULES",
    "StopRule",
    "StopState",
    "continue_fit",
    "finish",
    "fit",
    "gd_step_size",
    "init_state",
    "jacobian_norm",
    "resolve_device",
    "run_until",
]
