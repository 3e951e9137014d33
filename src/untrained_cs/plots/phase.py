"""The phase diagram of :mod:`untrained_cs.experiments.phase`: success over m × p."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .theory import _save  # noqa: E402

#: the lines m = c · p drawn over the diagram
MULTIPLES = (1, 2, 4)


def heatmaps(path: Path, data: dict[str, Any]) -> None:
    """One panel per generator: success rate per (m, p) as coloured squares, log axes."""
    generators = list(dict.fromkeys(c["generator"] for c in data["cells"]))
    fig, axes = plt.subplots(1, len(generators), figsize=(5.2 * len(generators), 4.2),
                             squeeze=False)  # fmt: skip
    for ax, generator in zip(axes[0], generators, strict=True):
        cs = [c for c in data["cells"] if c["generator"] == generator]
        m = np.array([c["m"] for c in cs], dtype=float)
        p = np.array([c["p"] for c in cs], dtype=float)
        art = ax.scatter(m, p, c=[c["success"] for c in cs], cmap="viridis", vmin=0, vmax=1,
                         marker="s", s=260, edgecolors="k", linewidths=0.4)  # fmt: skip
        span = np.array([p.min() / 2, p.max() * 2])
        for c in MULTIPLES:
            ax.plot(c * span, span, "--", lw=0.8, color="grey")
            ax.annotate(f"m = {c}p", (c * span[1] / 2.2, span[1] / 2.2), fontsize=7,
                        color="grey")  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        ax.set_xlim(m.min() / 1.6, m.max() * 1.6)
        ax.set_ylim(p.min() / 1.6, p.max() * 1.6)
        ax.set_xlabel("measurements m")
        ax.set_ylabel("smoothness p")
        ax.set_title(f"{generator}: P(rel. error < {data['threshold']:g}), n = {data['n']}")
        fig.colorbar(art, ax=ax, label="success rate")
    _save(fig, path)
