"""Image-quality metrics on tensors in [0, 1]: MSE, NMSE, PSNR (data range 1), SSIM; and
fastMRI's volume-wise scores (:func:`volume_scores`)."""

from __future__ import annotations

import numpy as np
import torch
from skimage.metrics import structural_similarity


def _flat(x: torch.Tensor) -> torch.Tensor:
    """``[B, ...]`` → ``[B, n]`` (a single unbatched signal is treated as B = 1)."""
    return x.reshape(x.shape[0], -1) if x.dim() > 1 else x.reshape(1, -1)


def mse(estimate: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Mean squared error per batch element: ||x̂ − x||² / n."""
    return (_flat(estimate) - _flat(truth)).abs().pow(2).mean(dim=1)


def nmse(estimate: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Normalised squared error per batch element: ||x̂ − x||² / ||x||²."""
    err = (_flat(estimate) - _flat(truth)).abs().pow(2).sum(dim=1)
    return err / _flat(truth).abs().pow(2).sum(dim=1).clamp_min(1e-30)


def psnr(estimate: torch.Tensor, truth: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per batch element: 10 log10(range² / MSE)."""
    return 10.0 * torch.log10(data_range**2 / mse(estimate, truth).clamp_min(1e-30))


def psnr_from_mse(mse: np.ndarray) -> np.ndarray:
    """PSNR in dB of MSEs already normalised by the data range²: 10 log10(1 / MSE)."""
    return 10.0 * np.log10(1.0 / np.maximum(mse, 1e-30))


#: the metrics :func:`scores` gives; all None without a truth
SCORES = ("psnr", "mse", "nmse", "rel_error", "ssim")


def scores(estimate: torch.Tensor, truth: torch.Tensor | None, data_range: float = 1.0) -> dict:
    """Every metric of one estimate against its truth (same shape): the record's numbers
    (each None when there is no truth: measured data without one).

    psnr and mse use ``data_range`` (mse is of the raw values); nmse = ||x̂ − x||²/||x||²
    and rel_error = ||x̂ − x||/||x||; ssim for 2D images (``[H, W]`` or ``[C, H, W]``).
    """
    if truth is None:
        return dict.fromkeys(SCORES)
    est, tru = estimate.detach().cpu().double()[None], truth.detach().cpu().double()[None]
    if est.shape != tru.shape:
        raise ValueError(f"estimate {list(est.shape[1:])} and truth {list(tru.shape[1:])} differ")
    n = float(nmse(est, tru)[0])
    out = {
        "psnr": float(psnr(est, tru, data_range)[0]),
        "mse": float(mse(est, tru)[0]),
        "nmse": n,
        "rel_error": n**0.5,
    }
    spatial = [s for s in truth.shape if s > 1]
    out["ssim"] = ssim(estimate, truth, data_range) if len(spatial) >= 2 else None
    return out


def ssim(estimate: torch.Tensor, truth: torch.Tensor, data_range: float = 1.0) -> float:
    """Structural similarity (scikit-image) of one image; channels first ``[C, H, W]`` or 2D."""
    a = estimate.detach().cpu().double().numpy()
    b = truth.detach().cpu().double().numpy()
    a, b = np.squeeze(a), np.squeeze(b)
    if a.shape != b.shape:
        raise ValueError(f"ssim needs equal shapes, got {a.shape} and {b.shape}")
    if a.ndim == 3:  # [C, H, W] colour
        return float(structural_similarity(a, b, data_range=data_range, channel_axis=0))
    win = min(7, *(s if s % 2 else s - 1 for s in a.shape))
    return float(structural_similarity(a, b, data_range=data_range, win_size=max(win, 3)))


def volume_scores(estimate: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """fastMRI's scores of a volume ``[slices, H, W]`` (as its evaluation computes them):
    NMSE ||x̂ − x||²/||x||² over the volume, PSNR with the volume's maximum as the data
    range, and SSIM (7 x 7 window) per slice at that range, averaged over the slices."""
    a = estimate.detach().cpu().double().numpy()
    b = target.detach().cpu().double().numpy()
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"volume scores need two [slices, H, W] arrays, got {a.shape}, {b.shape}")
    peak = float(b.max())
    err = float(np.sum((a - b) ** 2))
    mse = err / b.size
    return {
        "nmse": err / max(float(np.sum(b**2)), 1e-30),
        "psnr": float(10.0 * np.log10(peak**2 / max(mse, 1e-30))),
        "ssim": float(
            np.mean([structural_similarity(b[s], a[s], data_range=peak) for s in range(b.shape[0])])
        ),  # fmt: skip
    }
