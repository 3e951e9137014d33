"""What a fit returns: the estimate, the logged history and how and why it stopped."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..metrics import psnr_from_mse

# Iterations logged before the first check (those below ``check_every``), so that the
# log-axis curves show the start of a fit; history only, the stopping rule never sees them.
EARLY_LOGS = (1, 2, 5, 10, 20)


@functools.cache  # asked at every iteration of the loop
def early_logs(check_every: int) -> tuple[int, ...]:
    """A member's own iterations logged before its first check: :data:`EARLY_LOGS` below
    ``check_every``."""
    return tuple(e for e in EARLY_LOGS if e < check_every)


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
        config: the settings used (optimizer, initial lr, rule, schedule), for the record.
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
    #: per member, the loop iteration of its own iteration 0 when it waited in a queue
    #: (``history["iteration"]`` counts the loop's iterations); None: every member at 0
    start: list[int] | None = None

    def member_history(self, member: int) -> dict[str, np.ndarray]:
        """The history of one member (``[T, 1]`` columns), counted in its own iterations,
        up to its stop: with a queue, only the rows from its start at its own log points
        (the others repeat its values)."""
        h = self.history
        iterations = h["iteration"]
        keep = np.ones(len(iterations), dtype=bool)
        if self.start is not None:
            iterations = iterations - self.start[member]
            every = int(self.config["rule"]["check_every"])
            early = np.isin(iterations, early_logs(every))
            stop = iterations == self.stop_iteration[member]
            keep = (iterations >= 0) & ((iterations % every == 0) | early | stop)
        if self.stop_reason[member]:  # after its stop a member's entries repeat the last
            keep &= iterations <= self.stop_iteration[member]
        rows = np.flatnonzero(keep)
        out = {k: v[rows, member : member + 1] if v.ndim == 2 else v[rows]
               for k, v in h.items() if k != "iteration"}  # fmt: skip
        out["iteration"] = iterations[rows]
        return out

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


def oracle_best(
    history: dict[str, np.ndarray], start: np.ndarray | None = None
) -> tuple[list[int], list[float]] | None:
    """The logged iteration of lowest true MSE per member (its own count, from ``start``),
    and its PSNR."""
    if "mse" not in history:
        return None
    mse = np.where(np.isfinite(history["mse"]), history["mse"], math.inf)
    idx = np.argmin(mse, axis=0)  # the first of equal rows: a repeated row is never chosen
    offset = np.zeros(mse.shape[1], dtype=np.int64) if start is None else start
    its = [int(history["iteration"][i] - offset[b]) for b, i in enumerate(idx)]
    best = [float(psnr_from_mse(mse[i, b])) for b, i in enumerate(idx)]
    return its, best
