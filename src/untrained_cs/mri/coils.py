"""Simulated smooth coil sensitivity maps for multi-coil MRI.

Coil c sits on a circle around the field of view at angle 2πc/C; its magnitude is a wide
Gaussian bump centred there and its phase a smooth linear ramp plus a constant. The maps are
then normalised so that sum_c |S_c|^2 = 1 at every pixel: the root-sum-of-squares of the coil
images S_c x is exactly |x|, and ||S x|| = ||x|| (the multi-coil operator keeps norms).
"""

from __future__ import annotations

import math

import torch


def simulated_maps(
    coils: int, height: int, width: int, width_fraction: float = 0.6, radius: float = 1.2
) -> torch.Tensor:
    """Deterministic smooth sensitivities ``[coils, H, W]`` (complex64), sum_c |S_c|^2 = 1.

    Args:
        coils: number of coils C >= 1 (C = 1 gives the constant map 1).
        height, width: image size.
        width_fraction: std of each Gaussian bump, relative to the half field of view.
        radius: distance of the coil centres from the image centre (half field of view = 1).

    Returns:
        complex64 tensor ``[coils, H, W]``.
    """
    if coils < 1 or height < 1 or width < 1:
        raise ValueError(f"simulated_maps needs coils, H, W >= 1, got {coils}, {height}, {width}")
    yy = torch.linspace(-1.0, 1.0, height, dtype=torch.float64)[:, None]
    xx = torch.linspace(-1.0, 1.0, width, dtype=torch.float64)[None, :]
    maps = []
    for c in range(coils):
        angle = 2.0 * math.pi * c / coils
        cy, cx = radius * math.sin(angle), radius * math.cos(angle)
        dist2 = (yy - cy) ** 2 + (xx - cx) ** 2
        mag = torch.exp(-dist2 / (2.0 * width_fraction**2))
        phase = angle + 0.5 * (xx * math.cos(angle) + yy * math.sin(angle))
        maps.append(torch.polar(mag, phase))
    s = torch.stack(maps)
    s = s / s.abs().square().sum(0, keepdim=True).sqrt()
    return s.to(torch.complex64)


def check_maps(maps: torch.Tensor, coils: int, height: int, width: int) -> None:
    """Raise ``ValueError`` naming both shapes if ``maps`` is not ``[coils, H, W]`` complex."""
    if tuple(maps.shape) != (coils, height, width):
        raise ValueError(
            f"sensitivity maps have shape {list(maps.shape)}, "
            f"but the k-space needs [{coils}, {height}, {width}]"
        )
    if not bool(torch.isfinite(torch.view_as_real(maps.to(torch.complex128))).all()):
        raise ValueError("sensitivity maps contain NaN or inf")
