"""Blur (deblurring): a convolution of every channel with one kernel.

Two boundaries:

* ``circular``: the signal wraps around; A is diagonal in the Fourier basis, applied by
  real FFTs over the spatial axes, and Aᵀ multiplies by the conjugate transfer function;
* ``valid``: only the outputs whose kernel window lies inside the signal are kept (the
  output is smaller by the kernel's size minus one on each axis); Aᵀ is the transposed
  convolution.

The kernel is given (e.g. read from a file) or a Gaussian of standard deviation ``sigma``
samples, truncated at 3σ and normalised to sum 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from .base import Operator, Shape, shape_str

BOUNDARIES = ("circular", "valid")
_CONV: dict[int, Callable[..., torch.Tensor]] = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T: dict[int, Callable[..., torch.Tensor]] = {
    1: F.conv_transpose1d,
    2: F.conv_transpose2d,
    3: F.conv_transpose3d,
}


def gaussian_kernel(sigma: float, ndim: int) -> torch.Tensor:
    """A normalised ``ndim``-dimensional Gaussian of std ``sigma``, truncated at 3σ (float64)."""
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"blur sigma must be a finite number > 0, got {sigma}")
    half = max(1, math.ceil(3 * sigma))
    t = torch.arange(-half, half + 1, dtype=torch.float64)
    g = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = g
    for _ in range(ndim - 1):
        kernel = kernel[..., None] * g
    return kernel / kernel.sum()


class BlurOperator(Operator):
    """y = k ⊛ x for every channel of ``[C, *spatial]`` signals (see module docstring).

    Args:
        in_shape: ``[C, *spatial]`` with 1 to 3 spatial axes.
        kernel: the kernel, one axis per spatial axis, no larger than the signal; None for
            a Gaussian of ``sigma``.
        sigma: the Gaussian's standard deviation in samples (when no kernel is given).
        boundary: ``"circular"`` or ``"valid"``.
    """

    kernel: torch.Tensor
    transfer: torch.Tensor

    def __init__(
        self,
        in_shape: Shape,
        kernel: torch.Tensor | None = None,
        sigma: float = 1.5,
        boundary: str = "circular",
    ) -> None:
        in_shape = tuple(int(s) for s in in_shape)
        spatial = in_shape[1:]
        if not 1 <= len(spatial) <= 3:
            raise ValueError(f"blur needs 1 to 3 spatial axes, got {shape_str(in_shape)}")
        if boundary not in BOUNDARIES:
            raise ValueError(
                f"blur boundary must be one of {', '.join(BOUNDARIES)}, got {boundary!r}"
            )
        k = gaussian_kernel(sigma, len(spatial)) if kernel is None else _checked(kernel, spatial)
        if any(ks > s for ks, s in zip(k.shape, spatial, strict=True)):
            raise ValueError(
                f"blur kernel {shape_str(tuple(k.shape))} is larger than the signal "
                f"{shape_str(in_shape)}"
            )
        out = (
            spatial
            if boundary == "circular"
            else tuple(s - ks + 1 for s, ks in zip(spatial, k.shape, strict=True))
        )
        super().__init__(in_shape, (in_shape[0], *out))
        self.boundary = boundary
        self.register_buffer("kernel", k.float())
        if boundary == "circular":
            self.register_buffer("transfer", _transfer(k, spatial))

    @property
    def _dims(self) -> tuple[int, ...]:
        return tuple(range(2, len(self.in_shape) + 1))

    def _fourier(self, t: torch.Tensor, conjugate: bool) -> torch.Tensor:
        spatial = self.in_shape[1:]
        h = self.transfer.conj() if conjugate else self.transfer
        h = h.to(torch.complex128 if t.dtype == torch.float64 else torch.complex64)
        spectrum = torch.fft.rfftn(t, dim=self._dims) * h
        return torch.fft.irfftn(spectrum, s=spatial, dim=self._dims).to(t.dtype)

    def _depthwise(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``t`` as ``[B·C, 1, *spatial]`` and the kernel as a convolution weight."""
        weight = self.kernel.flip(list(range(self.kernel.dim()))).to(t.dtype)
        return t.reshape(-1, 1, *t.shape[2:]), weight[None, None]

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        if self.boundary == "circular":
            return self._fourier(x, conjugate=False)
        flat, weight = self._depthwise(x)
        out = _CONV[len(self.in_shape) - 1](flat, weight)
        return out.reshape(x.shape[0], *self.out_shape)

    def rmatvec(self, y: torch.Tensor) -> torch.Tensor:
        if self.boundary == "circular":
            return self._fourier(y, conjugate=True)
        flat, weight = self._depthwise(y)
        out = _CONV_T[len(self.in_shape) - 1](flat, weight)
        return out.reshape(y.shape[0], *self.in_shape)

    def extra_repr(self) -> str:
        size = "x".join(str(s) for s in self.kernel.shape)
        return f"{super().extra_repr()}, kernel={size}, boundary={self.boundary!r}"


def _checked(kernel: torch.Tensor, spatial: Shape) -> torch.Tensor:
    """A given kernel as float64, with one axis per spatial axis and finite entries."""
    k = torch.as_tensor(kernel, dtype=torch.float64)
    if k.dim() != len(spatial):
        raise ValueError(
            f"blur kernel has {k.dim()} axes but the signal has {len(spatial)} spatial axes"
        )
    if not bool(torch.isfinite(k).all()) or not bool(k.abs().sum() > 0):
        raise ValueError("blur kernel must be finite and not all zero")
    return k


def _transfer(kernel: torch.Tensor, spatial: Shape) -> torch.Tensor:
    """The kernel's real-FFT transfer function on the signal's grid, centred at index 0."""
    padded = torch.zeros(spatial, dtype=torch.float64)
    padded[tuple(slice(0, s) for s in kernel.shape)] = kernel
    shifts = tuple(-(s // 2) for s in kernel.shape)
    centred = torch.roll(padded, shifts, dims=tuple(range(len(spatial))))
    return torch.fft.rfftn(centred)  # complex128; cast to the input's precision when applied
