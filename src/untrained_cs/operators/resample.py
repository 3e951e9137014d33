"""Downsampling (super-resolution): each spatial axis reduced by an integer factor.

A = D_1 ⊗ … ⊗ D_d acts on the spatial axes of ``[C, *spatial]`` signals (every channel
alike); each D_i is a small dense (n_i / f) × n_i matrix, so the adjoint is exact by
construction (its transpose). Two anti-aliasing kernels:

* ``box``: the mean of each block of f samples (area averaging);
* ``bicubic``: Keys' cubic kernel (a = -1/2) stretched by f, as anti-aliased image resizers
  use when shrinking; samples beyond the edge are mirrored (half-sample symmetric), and each
  row sums to 1.
"""

from __future__ import annotations

import torch

from .base import Operator, Shape, shape_str

KERNELS = ("box", "bicubic")


def cubic(t: torch.Tensor, a: float = -0.5) -> torch.Tensor:
    """Keys' cubic convolution kernel at ``t`` (support |t| < 2)."""
    t = t.abs()
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return torch.where(t <= 1, near, torch.where(t < 2, far, torch.zeros_like(t)))


def _mirror(index: torch.Tensor, n: int) -> torch.Tensor:
    """Half-sample symmetric reflection of integer indices into [0, n)."""
    period = 2 * n
    i = torch.remainder(index, period)
    return torch.where(i < n, i, period - 1 - i)


def resampling_matrix(n: int, factor: int, kernel: str = "box") -> torch.Tensor:
    """The (n / factor) × n matrix that downsamples one axis of length n (float64)."""
    if kernel not in KERNELS:
        raise ValueError(f"downsampling kernel must be one of {', '.join(KERNELS)}, got {kernel!r}")
    out = n // factor
    mat = torch.zeros(out, n, dtype=torch.float64)
    if kernel == "box":
        rows = torch.arange(out).repeat_interleave(factor)
        mat[rows, torch.arange(out * factor)] = 1.0 / factor
        return mat
    centre = (torch.arange(out, dtype=torch.float64) + 0.5) * factor - 0.5  # input coordinate
    reach = 2 * factor
    taps = torch.arange(-reach, reach + 1, dtype=torch.float64)
    index = torch.floor(centre)[:, None] + taps[None, :]  # [out, taps]
    weights = cubic((index - centre[:, None]) / factor)
    cols = _mirror(index.long(), n)
    mat.scatter_add_(1, cols, weights)
    return mat / mat.sum(dim=1, keepdim=True)


class DownsampleOperator(Operator):
    """y = D x: every spatial axis of ``[C, *spatial]`` reduced by ``factor`` (see module).

    Args:
        in_shape: ``[C, *spatial]`` (an image ``[C, H, W]``, a volume ``[C, D, H, W]``, a
            signal ``[1, n]``).
        factor: the integer reduction of each spatial axis; it must divide each of them.
        kernel: ``"box"`` or ``"bicubic"``.
    """

    def __init__(self, in_shape: Shape, factor: int = 2, kernel: str = "box") -> None:
        in_shape = tuple(int(s) for s in in_shape)
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
            raise ValueError(f"downsampling factor must be an integer >= 1, got {factor!r}")
        spatial = in_shape[1:]
        bad = [s for s in spatial if s % factor]
        if not spatial or bad:
            raise ValueError(
                f"downsampling factor {factor} does not divide the size {shape_str(in_shape)}"
            )
        super().__init__(in_shape, (in_shape[0], *(s // factor for s in spatial)))
        self.factor, self.kernel = factor, kernel
        for axis, n in enumerate(spatial):
            self.register_buffer(f"axis{axis}", resampling_matrix(n, factor, kernel).float())

    def _matrices(self) -> list[torch.Tensor]:
        return [getattr(self, f"axis{a}") for a in range(len(self.in_shape) - 1)]

    def _resample(self, t: torch.Tensor, transpose: bool) -> torch.Tensor:
        for axis, mat in enumerate(self._matrices()):
            mat = mat.to(t.dtype)
            moved = t.movedim(axis + 2, -1)
            moved = moved @ (mat if transpose else mat.T)
            t = moved.movedim(-1, axis + 2)
        return t

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        return self._resample(x, transpose=False)

    def rmatvec(self, y: torch.Tensor) -> torch.Tensor:
        return self._resample(y, transpose=True)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, factor={self.factor}, kernel={self.kernel!r}"
