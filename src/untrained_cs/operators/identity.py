"""The identity (denoising): y = x + noise, the whole signal observed once."""

from __future__ import annotations

import torch

from .base import Operator, Shape


class IdentityOperator(Operator):
    """A = I on signals of ``in_shape``: y has the signal's own shape (denoising).

    The output is the input itself (no copy); callers never modify measurements in place.
    """

    def __init__(self, in_shape: Shape) -> None:
        super().__init__(in_shape, in_shape)

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def rmatvec(self, y: torch.Tensor) -> torch.Tensor:
        return y
