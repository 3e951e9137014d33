"""What a method produced on a problem: the :class:`Record` every run returns (estimate,
scores, history), written by :mod:`untrained_cs.writer` and stored by the sweeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .fit import FitResult


@dataclass
class Record:
    """What one method produced on one problem.

    Attributes:
        problem, method: their specs as dicts (the method resolved: no unset defaults).
        key: the stable hash of both (the sweep store's key).
        estimate: in the truth's space (an image, a signal, an MRI magnitude).
        metrics: psnr, ssim, mse, nmse, rel_error and, for fits, loss, iterations,
            converged, stop_reason, best_iteration, best_psnr; seconds, device.
        history: iteration, loss, lr, mse, psnr per logged iteration (fits only).
        fit: the engine's result (fits only); extra: method-specific facts (solver weight).
    """

    problem: dict[str, Any]
    method: dict[str, Any]
    key: str
    estimate: torch.Tensor
    metrics: dict[str, Any]
    history: dict[str, np.ndarray] | None = None
    fit: FitResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)
