"""Convolution kernels u for the fixed (circulant) convolutions U: triangular and Gaussian.

Kernels are centred at index 0 and wrap around (U is then a symmetric circulant matrix),
normalised to unit l2 norm. 2D kernels are separable outer products.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

KERNELS = ("triangular", "gaussian")


def _circular_distance(n: int) -> torch.Tensor:
    j = torch.arange(n, dtype=torch.float64)
    return torch.minimum(j, n - j)


def triangular_kernel(n: int, width: float) -> torch.Tensor:
    """u_j = max(0, 1 - d(j)/width), d the circular distance to 0; unit norm, float64."""
    if width <= 0:
        raise ValueError(f"kernel width must be > 0, got {width}")
    u = (1.0 - _circular_distance(n) / width).clamp_min(0.0)
    return u / u.norm()


def gaussian_kernel(n: int, width: float) -> torch.Tensor:
    """u_j = exp(-d(j)^2 / (2 width^2)), d the circular distance to 0; unit norm, float64."""
    if width <= 0:
        raise ValueError(f"kernel width must be > 0, got {width}")
    u = torch.exp(-(_circular_distance(n) ** 2) / (2.0 * width**2))
    return u / u.norm()


def make_kernel(kind: str, shape: int | Sequence[int], width: float) -> torch.Tensor:
    """A 1D kernel of length n, or a separable 2D kernel of shape (H, W); unit norm."""
    build = {"triangular": triangular_kernel, "gaussian": gaussian_kernel}.get(kind)
    if build is None:
        raise ValueError(f"unknown kernel {kind!r}; choose from {KERNELS}")
    dims = [int(shape)] if isinstance(shape, int) else [int(s) for s in shape]
    u = build(dims[0], width)
    for d in dims[1:]:
        u = torch.outer(u.reshape(-1), build(d, width)).reshape(*u.shape, d)
    return u / u.norm()


def kernel_spectrum(u: torch.Tensor) -> torch.Tensor:
    """Real FFT of the kernel over all its dims (the eigenvalues of the circulant U)."""
    return torch.fft.rfftn(u)


def circulant_norm(u: torch.Tensor) -> float:
    """Spectral norm ||U|| of the circulant matrix of u: max |FFT(u)|."""
    return float(torch.fft.fftn(u).abs().max())
