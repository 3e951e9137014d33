"""The measurement-operator interface: a linear map A with its adjoint, on leading batches."""

from __future__ import annotations

import math
from typing import Protocol

import torch
from torch import nn

Shape = tuple[int, ...]


class LinearMap(Protocol):
    """What the property checks need of an operator (an :class:`Operator` or a user's own)."""

    in_shape: Shape
    out_shape: Shape

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...

    def adjoint(self, y: torch.Tensor) -> torch.Tensor: ...


def shape_str(shape: Shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


class Operator(nn.Module):
    """A linear operator A: R^{in_shape} -> R^{out_shape} (or C^{out_shape}).

    ``forward(x)`` computes A x and ``adjoint(y)`` computes A^T y (A^H y, real part, for
    real-to-complex operators, which are R-linear). Both work on a leading batch dimension:
    ``x`` is ``[B, *in_shape]`` and ``y`` is ``[B, *out_shape]``. An operator may hold
    ``count`` independent draws (e.g. B different Gaussian matrices): then element b of the
    batch is measured by draw b, and B must equal ``count``.

    All tensors an operator needs are buffers, so ``.to(device)`` moves it.
    """

    #: True when A maps real inputs to complex outputs (adjoint tests treat A as R-linear).
    complex_output: bool = False

    def __init__(self, in_shape: Shape, out_shape: Shape, count: int = 1) -> None:
        super().__init__()
        self.in_shape: Shape = tuple(int(s) for s in in_shape)
        self.out_shape: Shape = tuple(int(s) for s in out_shape)
        self.count = int(count)

    @property
    def n(self) -> int:
        """Input dimension (number of unknowns)."""
        return math.prod(self.in_shape)

    @property
    def m(self) -> int:
        """Output dimension (number of measurements)."""
        return math.prod(self.out_shape)

    @property
    def name(self) -> str:
        return type(self).__name__

    def _check(self, t: torch.Tensor, shape: Shape, what: str) -> None:
        if tuple(t.shape[1:]) != shape or t.dim() != len(shape) + 1:
            raise ValueError(
                f"{self.name} {what} expects [B, {shape_str(shape)[1:-1]}], "
                f"got {shape_str(tuple(t.shape))}"
            )
        if self.count > 1 and t.shape[0] != self.count:
            raise ValueError(
                f"{self.name} holds {self.count} independent draws and expects a batch of "
                f"{self.count}, got {t.shape[0]}"
            )

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ``ValueError`` naming the operator and both shapes if ``x`` does not fit."""
        self._check(x, self.in_shape, "input")

    def check_output(self, y: torch.Tensor) -> None:
        """Raise ``ValueError`` if ``y`` is not a batch of measurements of this operator."""
        self._check(y, self.out_shape, "measurements")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return self.matvec(x)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        self.check_output(y)
        return self.rmatvec(y)

    # Subclasses implement these two on already-checked batches.
    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def rmatvec(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"in_shape={self.in_shape}, out_shape={self.out_shape}, count={self.count}"
