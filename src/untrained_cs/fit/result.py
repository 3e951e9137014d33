"""What a fit returns: the estimate, the logged history and how and why it stopped."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..metrics import psnr_from_mse


class FitDivergedError(RuntimeError):
    """The fit kept diverging after the allowed number of step reductions."""


class FitInterrupted(RuntimeError):
    """A fit was stopped on request before it finished; ``state`` can be saved and resumed."""

    def __init__(self, state: Any, message: str) -> None:
        super().__init__(message)
        self.state = state


@dataclass
class FitResult:
    """Outcome of :func:`~untrained_cs.fit.fit` for B independent members.

    Attributes:
        estimate: G(θ̂) on the CPU, ``[B, *signal_shape]``.
        history: ``iteration`` [T]; ``loss``, ``lr`` [T, B]; with the truth also ``mse`` and
            ``psnr`` [T, B]; ``compute_batch`` [T]: the members computed at that iteration
            (stopped members leave the batch; their entries repeat their final values).
            Logged every ``check_every`` iterations and at the end.
        converged, stop_reason, stop_iteration: per member.
        best_iteration, best_psnr: the oracle-best logged iteration by true MSE (None
            without the truth) — what early stopping could have achieved at best.
        seconds, device: wall time of the fit and where it ran.
        config: the settings used (optimizer, lr, rule), for the record.
        generator: the fit's working copy of the generator, at the estimate (on the fit's
            device), or None; the caller's generator is never modified.
    """

    estimate: torch.Tensor
    history: dict[str, np.ndarray]
    converged: list[bool]
    stop_reason: list[str]
    stop_iteration: list[int]
    best_iteration: list[int] | None
    best_psnr: list[float] | None
    seconds: float
    device: str
    config: dict[str, Any] = field(default_factory=dict)
    generator: torch.nn.Module | None = field(default=None, repr=False, compare=False)
    #: with the hold-out rule: the iteration of the returned iterate, per member
    selected_iteration: list[int] | None = None
    #: the rule that chose the estimate: "loss_floor" (convergence), "discrepancy", "holdout"
    stop_rule: str = "loss_floor"

    @property
    def batch(self) -> int:
        return self.estimate.shape[0]

    @property
    def final_loss(self) -> np.ndarray:
        return self.history["loss"][-1]

    def summary(self, member: int = 0) -> dict[str, Any]:
        """Scalars of one member, ready for JSON."""
        h = self.history
        out: dict[str, Any] = {
            "loss": float(h["loss"][-1, member]),
            "iterations": int(self.stop_iteration[member]),
            "converged": bool(self.converged[member]),
            "stop_reason": self.stop_reason[member],
            "seconds": round(self.seconds, 3),
            "device": self.device,
        }
        if "mse" in h:
            out["mse"] = float(h["mse"][-1, member])
            out["psnr"] = float(h["psnr"][-1, member])
        out["stop_rule"] = "converge" if self.stop_rule == "loss_floor" else self.stop_rule
        if self.selected_iteration is not None:
            out["selected_iteration"] = int(self.selected_iteration[member])
        if self.best_iteration is not None and self.best_psnr is not None:
            out["best_iteration"] = int(self.best_iteration[member])
            out["best_psnr"] = float(self.best_psnr[member])
        return out


def oracle_best(history: dict[str, np.ndarray]) -> tuple[list[int], list[float]] | None:
    """The logged iteration of lowest true MSE per member, and its PSNR."""
    if "mse" not in history:
        return None
    mse = np.where(np.isfinite(history["mse"]), history["mse"], math.inf)
    idx = np.argmin(mse, axis=0)
    its = [int(history["iteration"][i]) for i in idx]
    best = [float(psnr_from_mse(mse[i, b])) for b, i in enumerate(idx)]
    return its, best
