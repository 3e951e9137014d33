"""The linear generator G(c) = J c of Section 3 (Theorem 1), for a given wide J."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .base import Generator


class LinearGenerator(Generator):
    """G(c) = J c with J in R^{n x N} fixed (a buffer) and c trained, started from 0.

    Gradient descent from c = 0 stays in the row space of A J and reaches the minimum-norm
    solution (A J)^+ y. ``batch`` independent members share J.

    Args:
        J: the ``[n, N]`` matrix (N >= n for the over-parameterised regime).
        out_shape: shape of one output signal (default ``(1, n)``).
        batch: number of independent members.
    """

    J: torch.Tensor

    def __init__(
        self, J: torch.Tensor, out_shape: Sequence[int] | None = None, batch: int = 1
    ) -> None:
        if J.dim() != 2:
            raise ValueError(f"LinearGenerator needs a 2D matrix J, got shape {tuple(J.shape)}")
        n = J.shape[0]
        super().__init__(out_shape or (1, n), list(range(batch)))
        if self.n != n:
            raise ValueError(
                f"LinearGenerator out_shape {self.out_shape} has {self.n} entries, J has {n} rows"
            )
        self.register_buffer("J", J)
        self.weight = nn.Parameter(torch.zeros(self.batch, J.shape[1], dtype=J.dtype))

    def forward(self) -> torch.Tensor:
        return (self.weight @ self.J.T).reshape(self.batch, *self.out_shape)
