"""Centred orthonormal 2D FFT and its inverse on complex tensors (the MRI k-space transform).

k = fftshift(F ifftshift(x)) over the last two axes, with F the unitary DFT, so the DC
coefficient sits at the centre of k-space (index H//2, W//2) and ||k|| = ||x||.

The helpers take complex tensors ``[..., H, W]`` (real images too), not fastMRI's layout
with a trailing real/imaginary axis of 2: a real tensor whose last axis is 2 is refused
(``torch.view_as_complex`` converts one), since it would be transformed over the wrong axes.
"""

from __future__ import annotations

import torch

DIMS = (-2, -1)


def check_layout(t: torch.Tensor, name: str) -> None:
    """Refuse fastMRI's real/imaginary layout (a real tensor whose last axis is 2)."""
    if not t.is_complex() and t.dim() >= 2 and t.shape[-1] == 2:
        raise ValueError(
            f"{name} takes complex tensors [..., H, W]; got a real tensor of shape "
            f"{list(t.shape)} whose last axis is 2 (a real/imaginary pair?): convert it with "
            "torch.view_as_complex"
        )


def fft2c(x: torch.Tensor) -> torch.Tensor:
    """Centred unitary 2D DFT over the last two axes.

    Args:
        x: image(s) ``[..., H, W]``, real or complex.

    Returns:
        k-space ``[..., H, W]`` (complex), k = fftshift(F ifftshift(x)).
    """
    check_layout(x, "fft2c")
    shifted = torch.fft.ifftshift(x, dim=DIMS)
    return torch.fft.fftshift(torch.fft.fft2(shifted, dim=DIMS, norm="ortho"), dim=DIMS)


def ifft2c(k: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`fft2c`: x = fftshift(F^H ifftshift(k)).

    Args:
        k: k-space ``[..., H, W]`` (complex).

    Returns:
        image(s) ``[..., H, W]`` (complex).
    """
    check_layout(k, "ifft2c")
    shifted = torch.fft.ifftshift(k, dim=DIMS)
    return torch.fft.fftshift(torch.fft.ifft2(shifted, dim=DIMS, norm="ortho"), dim=DIMS)


def rss(coil_images: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """Root-sum-of-squares combination over the coil axis: sqrt(sum_c |x_c|^2).

    Args:
        coil_images: ``[..., coils, H, W]`` real or complex.
        dim: the coil axis.

    Returns:
        the magnitude image with the coil axis removed (real).
    """
    check_layout(coil_images, "rss")
    return coil_images.abs().square().sum(dim=dim).sqrt()
