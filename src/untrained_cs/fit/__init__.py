"""The fit engine: gradient descent or Adam on ½||A G(θ) − y||² until convergence."""

from .engine import continue_fit, finish, fit, init_state, resolve_device
from .loop import run_until
from .result import FitDivergedError, FitInterrupted, FitResult
from .schedule import Rates, Schedule
from .selection import STOP_RULES, NoisyStop
from .settings import FitOptions, FitSettings
from .state import FitState
from .step_size import gd_step_size, jacobian_norm
from .stopping import StopRule, StopState

__all__ = [
    "FitDivergedError",
    "FitInterrupted",
    "FitOptions",
    "FitResult",
    "FitSettings",
    "FitState",
    "NoisyStop",
    "Rates",
    "STOP_RULES",
    "Schedule",
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
