"""Figure 1's picture: loss and true error against iteration (log–log), the images beside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..io.images import load_image  # noqa: E402
from .theory import _save  # noqa: E402

#: the paper's colours: the smooth image blue, the texture red
COLOURS = ("tab:blue", "tab:red", "tab:green", "tab:purple")
STYLES = {"deep-decoder": "-", "dip": "--"}


def curves(path: Path, data: dict[str, Any]) -> None:
    """Panel (a) ½‖AG(C_t) − y‖², panel (b) ‖G(C_t) − x*‖², then the images."""
    images = data["images"]
    widths = [3.0, 3.0] + [1.6] * len(images)
    fig, axes = plt.subplots(1, len(widths), figsize=(sum(widths) * 1.45, 3.6),
                             gridspec_kw={"width_ratios": widths})  # fmt: skip
    colour = dict(zip(images, COLOURS, strict=False))
    for run in data["runs"]:
        it = np.maximum(np.asarray(run["iteration"], dtype=float), 1)
        style = STYLES.get(run["generator"], ":")
        label = f"{run['image']}, {'DD' if run['generator'] == 'deep-decoder' else 'DIP'}"
        for ax, key in zip(axes[:2], ("loss", "error"), strict=True):
            ax.loglog(it, np.maximum(run[key], 1e-12), style, color=colour[run["image"]],
                      label=label, lw=1.2)  # fmt: skip
    axes[0].set_title("(a) loss ½‖AG(C_t) − y‖²")
    axes[1].set_title("(b) ‖G(C_t) − x*‖²")
    for ax in axes[:2]:
        ax.set_xlabel("iteration t")
        ax.legend(fontsize=7)
    for ax, name in zip(axes[2:], images, strict=True):
        ax.imshow(load_image(name, data["size"])[0].numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(name, color=colour[name])
        ax.axis("off")
    _save(fig, path)
