"""The measurement-noise model, in one place: additive white Gaussian noise.

Real measurements get N(0, σ²) per entry; complex ones circular complex noise of the same
total variance, E|n|² = σ² (σ/√2 per real component). Drawn from an explicit seed.
"""

from __future__ import annotations

import math

import torch


def gaussian_noise(
    shape: tuple[int, ...],
    std: float,
    *,
    complex_: bool,
    seed: int,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """White noise of standard deviation ``std`` (see module docstring), on the CPU."""
    if not (math.isfinite(std) and std >= 0):
        raise ValueError(f"noise std must be finite and >= 0, got {std}")
    g = torch.Generator().manual_seed(int(seed))
    if not complex_:
        return torch.randn(shape, generator=g, dtype=dtype) * std
    parts = torch.randn((*shape, 2), generator=g, dtype=dtype) * (std / math.sqrt(2.0))
    return torch.view_as_complex(parts)


def add_noise(y: torch.Tensor, std: float, seed: int) -> torch.Tensor:
    """``y`` plus white Gaussian noise of standard deviation ``std`` (none when 0)."""
    if std == 0:
        return y
    real_dtype = torch.float64 if y.dtype in (torch.float64, torch.complex128) else torch.float32
    n = gaussian_noise(tuple(y.shape), std, complex_=y.is_complex(), seed=seed, dtype=real_dtype)
    return y + n.to(device=y.device, dtype=y.dtype)


def std_for_snr(signal: torch.Tensor, snr_db: float) -> float:
    """The noise std σ with mean|signal|² / σ² = 10^{snr/10}."""
    if not math.isfinite(snr_db):
        raise ValueError(f"snr must be a finite number of dB, got {snr_db}")
    power = float(signal.abs().square().mean())
    return math.sqrt(power / 10.0 ** (snr_db / 10.0))
