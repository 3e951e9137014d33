"""Figure 5's pictures: MSE against iteration (log–log) and the reconstructions; Agg backend.

Both take the data dict of :mod:`untrained_cs.experiments.figure5`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

LABELS = {"zero_filled": "zero-filled", "l1_wavelet": "ℓ1-wavelet", "tv": "TV"}


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _positive(it: list[int], values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Points with iteration >= 1 and a finite positive value (a log–log axis holds no 0)."""
    x, v = np.asarray(it, dtype=float), np.asarray(values, dtype=float)
    keep = (x >= 1) & np.isfinite(v) & (v > 0)
    return x[keep], v[keep]


def curves(path: Path, data: dict[str, Any]) -> None:
    """Per acceleration: the true MSE (and the fit loss, right axis) against iteration on
    log–log axes, the oracle-best iteration marked and zero-filling's MSE as a line."""
    runs = data["runs"]
    fig, axes = plt.subplots(1, len(runs), figsize=(5.2 * len(runs), 3.8), squeeze=False)
    for ax, r in zip(axes[0], runs, strict=True):
        ax.loglog(*_positive(r["iteration"], r["mse"]), lw=1.4, label="MSE of the RSS image")
        zf = r["baselines"]["zero_filled"]["psnr"]
        ax.axhline(10 ** (-zf / 10), color="tab:gray", ls=":", lw=1.2, label="zero-filled")
        ax.axvline(max(r["best_iteration"], 1), color="tab:red", ls="--", lw=1,
                   label=f"best: it {r['best_iteration']} ({r['best_psnr']:.2f} dB)")  # fmt: skip
        loss_ax = ax.twinx()
        loss_ax.loglog(*_positive(r["iteration"], r["loss"]), color="tab:orange", lw=1,
                       alpha=0.6)  # fmt: skip
        loss_ax.set_ylabel("fit loss ½‖AG(θ) − y‖²", color="tab:orange", fontsize=9)
        ax.set_xlabel("iteration")
        ax.set_ylabel("MSE / max²")
        ax.set_title(f"{r['acceleration']:g}x: {r['parameters']} parameters, "
                     f"{r['measurements']} measurements", fontsize=9)  # fmt: skip
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    fig.suptitle(f"{data['layers']} x {data['channels']} deep decoder (2ch), lr {data['lr']:g}",
                 fontsize=10)  # fmt: skip
    _save(fig, path)


def panel(path: Path, run: dict[str, Any]) -> None:
    """Target | zero-filled | decoder (converged) | best baseline, with their PSNRs."""
    images = run["images"]
    target = np.asarray(images["target"])
    top = float(target.max()) or 1.0
    psnr = {k: v["psnr"] for k, v in run["baselines"].items()}
    psnr["deep_decoder"] = run["final_psnr"]
    order = ["target", "zero_filled", "deep_decoder", *[k for k in images if k not in
             ("target", "zero_filled", "deep_decoder")]]  # fmt: skip
    fig, axes = plt.subplots(1, len(order), figsize=(3.2 * len(order), 3.5), squeeze=False)
    for ax, key in zip(axes[0], order, strict=True):
        ax.imshow(np.asarray(images[key]) / top, cmap="gray", vmin=0, vmax=1)
        name = "deep decoder (final iterate)" if key == "deep_decoder" else LABELS.get(key, key)
        ax.set_title(name if key == "target" else f"{name}: {psnr[key]:.2f} dB", fontsize=9)
        ax.axis("off")
    fig.suptitle(f"{run['acceleration']:g}x undersampled k-space", fontsize=10)
    _save(fig, path)
