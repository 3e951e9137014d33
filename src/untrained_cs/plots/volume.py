"""Volume pictures: a slice montage (truth | estimates | |error|) and a mosaic of all slices.

Volumes are ``[1, D, H, W]`` (or ``[D, H, W]``) in [0, 1]; slices are the first spatial axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

#: the montage shows at most this many slices, evenly spaced through the volume
MONTAGE_SLICES = 5

Volume = torch.Tensor | np.ndarray


def _slices(volume: Volume) -> np.ndarray:
    """``[1, D, H, W]`` / ``[D, H, W]`` → a ``[D, H, W]`` float array."""
    a = volume.detach().cpu().double().numpy() if isinstance(volume, torch.Tensor) else volume
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 4:
        a = a[0]
    if a.ndim != 3:
        raise ValueError(f"a volume is [1, D, H, W] or [D, H, W], got shape {a.shape}")
    return a


def shown_slices(depth: int, count: int = MONTAGE_SLICES) -> list[int]:
    """Up to ``count`` slice indices evenly spaced over ``depth`` slices, first and last
    included."""
    if depth <= count:
        return list(range(depth))
    return sorted({round(i * (depth - 1) / (count - 1)) for i in range(count)})


def montage(
    path: Path,
    columns: Sequence[tuple[str, Volume]],
    error: tuple[str, Volume] | None = None,
    title: str = "",
) -> None:
    """One row per shown slice: the ``columns`` (truth, estimates) in grey on [0, 1], then
    the ``error`` magnitude on one colour scale for every row (with its colour bar)."""
    vols = [(name, _slices(v)) for name, v in columns]
    err = None if error is None else (error[0], np.abs(_slices(error[1])))
    depth = vols[0][1].shape[0]
    rows = shown_slices(depth)
    count = len(vols) + (err is not None)
    h, w = vols[0][1].shape[1:]
    side = 2.4
    fig, axes = plt.subplots(
        len(rows), count, figsize=(side * count + 0.6, side * len(rows) * h / w + 0.5),
        squeeze=False, layout="constrained",
    )  # fmt: skip
    top = float(err[1][rows].max()) if err is not None else 1.0
    image = None
    for r, z in enumerate(rows):
        for c, (name, vol) in enumerate(vols):
            axes[r, c].imshow(vol[z], cmap="gray", vmin=0.0, vmax=1.0)
            axes[r, c].set_title(name if r == 0 else "", fontsize=9)
        if err is not None:
            image = axes[r, -1].imshow(err[1][z], cmap="inferno", vmin=0.0, vmax=max(top, 1e-12))
            axes[r, -1].set_title(err[0] if r == 0 else "", fontsize=9)
        axes[r, 0].set_ylabel(f"slice {z}", fontsize=9)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    if image is not None:
        fig.colorbar(image, ax=list(axes[:, -1]), shrink=0.6)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def mosaic(path: Path, volume: Volume) -> None:
    """Every slice of a volume in [0, 1], tiled row by row into one 8-bit grey PNG at its
    own resolution (gaps of 2 pixels)."""
    vol = np.clip(_slices(volume), 0.0, 1.0)
    depth, h, w = vol.shape
    cols = int(np.ceil(np.sqrt(depth)))
    rows = int(np.ceil(depth / cols))
    gap = 2
    canvas = np.zeros((rows * (h + gap) - gap, cols * (w + gap) - gap))
    for z in range(depth):
        r, c = divmod(z, cols)
        canvas[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = vol[z]
    plt.imsave(path, canvas, cmap="gray", vmin=0.0, vmax=1.0)
