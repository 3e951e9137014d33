"""Run-folder pictures: images, side-by-side comparisons, loss curves (Agg backend)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def to_display(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """``[C, H, W]`` / ``[H, W]`` tensor → ``[H, W]`` or ``[H, W, 3]`` array clipped to [0, 1]."""
    a = image.detach().cpu().float().numpy() if isinstance(image, torch.Tensor) else image
    a = np.squeeze(np.asarray(a, dtype=np.float64))
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = np.moveaxis(a, 0, -1)
    if a.ndim == 1:
        a = a[None, :]
    return np.clip(a, 0.0, 1.0)


def save_image(path: Path, image: torch.Tensor | np.ndarray) -> None:
    """Write an image in [0, 1] as an 8-bit PNG at its own resolution."""
    a = to_display(image)
    plt.imsave(path, a, cmap="gray" if a.ndim == 2 else None, vmin=0.0, vmax=1.0)


def comparison(
    path: Path,
    panels: Sequence[tuple[str, np.ndarray | torch.Tensor]],
    error: tuple[str, np.ndarray | torch.Tensor] | None = None,
) -> None:
    """Side-by-side panels (e.g. truth | estimate) and an optional error map with colour bar."""
    count = len(panels) + (error is not None)
    fig, axes = plt.subplots(1, count, figsize=(3.2 * count, 3.4), squeeze=False)
    for ax, (title, img) in zip(axes[0], panels, strict=False):
        a = to_display(img)
        ax.imshow(a, cmap="gray" if a.ndim == 2 else None, vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    if error is not None:
        title, err = error
        e = err.detach().cpu().numpy() if isinstance(err, torch.Tensor) else np.asarray(err)
        e = np.squeeze(e)
        if e.ndim == 3:
            e = e.mean(axis=0)
        ax = axes[0, -1]
        im = ax.imshow(e, cmap="inferno")
        ax.set_title(title, fontsize=10)
        ax.axis("off")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def curves(
    path: Path,
    iterations: np.ndarray,
    series: Mapping[str, np.ndarray],
    best_iteration: int | None = None,
    title: str | None = None,
) -> None:
    """One log–log panel per series against iteration, the oracle-best iteration marked.

    Iteration 0 has no place on a log axis: it is left out when later points exist.
    """
    count = len(series)
    fig, axes = plt.subplots(1, count, figsize=(4.4 * count, 3.4), squeeze=False)
    it = np.asarray(iterations, dtype=float)
    keep = it >= 1 if np.any(it >= 1) else np.ones(len(it), dtype=bool)
    it = np.maximum(it[keep], 1.0)
    for ax, (name, values) in zip(axes[0], series.items(), strict=True):
        v = np.asarray(values, dtype=float)[keep]
        ax.plot(it, v, lw=1.4)
        positive = np.all(v[np.isfinite(v)] > 0)
        ax.set_xscale("log")
        if positive and "psnr" not in name.lower() and "ssim" not in name.lower():
            ax.set_yscale("log")
        if best_iteration is not None:
            ax.axvline(
                max(best_iteration, 1),
                color="tab:red",
                ls="--",
                lw=1,
                label=f"oracle best (it {best_iteration})",
            )
            ax.legend(fontsize=8)
        ax.set_xlabel("iteration")
        ax.set_title(name, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def signals(path: Path, series: Mapping[str, np.ndarray | torch.Tensor], title: str = "") -> None:
    """1D signals on one axis (truth, estimates): the picture of a p-smooth recovery."""
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    for label, x in series.items():
        a = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        ax.plot(np.ravel(a), label=label, linewidth=1.2)
    ax.set_xlabel("index")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
