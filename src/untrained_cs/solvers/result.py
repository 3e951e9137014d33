"""What every iterative solver returns: the estimate and how the iteration ended."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SolveResult:
    """The outcome of one batched solve.

    Attributes:
        x: the estimate ``[B, *in_shape]``.
        iterations: iterations run (the batch stops together, when every member has).
        converged: whether every member met the tolerance before the iteration cap.
        residual: per member ``[B]``, the quantity the tolerance was tested on (relative
            normal-equation residual for least squares, relative change of x otherwise).
    """

    x: torch.Tensor
    iterations: int
    converged: bool
    residual: torch.Tensor
