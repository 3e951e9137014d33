"""The measurement-noise model, in one place: additive white Gaussian noise.

Real measurements get N(0, σ²) per entry; complex ones circular complex noise of the same
total variance, E|n|² = σ² (σ/√2 per real component). Drawn from an explicit seed.
"""

from __future__ import annotations

import math
from typing import Any

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


def measured_entries(op: Any, seed: int = 7) -> torch.Tensor:
    """Bool ``[count, *out_shape]``: the measurement entries A can make nonzero.

    Probed with a random input, so structurally zero entries (unsampled k-space, the
    zero-padded rows of a batched Gaussian) are False.
    """
    shape = (max(1, int(getattr(op, "count", 1))), *op.in_shape)
    device = torch.device("cpu")
    if isinstance(op, torch.nn.Module):
        device = next((b.device for b in op.buffers()), device)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    with torch.no_grad():
        return op(x.to(device)) != 0


def real_dof(measured: torch.Tensor, complex_: bool) -> torch.Tensor:
    """Real degrees of freedom per member of a bool entry mask (a complex entry counts 2)."""
    return measured.reshape(measured.shape[0], -1).sum(1).double() * (2.0 if complex_ else 1.0)


def variance_per_dof(std: float, complex_: bool) -> float:
    """The noise variance per real degree of freedom (σ² real; σ²/2 per complex part)."""
    return std**2 / (2.0 if complex_ else 1.0)


def holdout_split(candidates: torch.Tensor, fraction: float, seed: int) -> torch.Tensor:
    """Bool mask like ``candidates``: a seeded random ``fraction`` of its True entries.

    Each member (leading dimension) draws its own entries; at least one is held out.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"hold-out fraction must lie in (0, 1), got {fraction}")
    g = torch.Generator().manual_seed(int(seed))
    held = torch.zeros_like(candidates, dtype=torch.bool)
    for b in range(candidates.shape[0]):
        idx = torch.nonzero(candidates[b].reshape(-1).cpu()).flatten()
        if idx.numel() < 2:
            raise ValueError("too few measurements to hold any out")
        pick = idx[
            torch.randperm(idx.numel(), generator=g)[: max(1, round(fraction * idx.numel()))]
        ]
        flat = held[b].reshape(-1)
        flat[pick.to(flat.device)] = True
    return held
