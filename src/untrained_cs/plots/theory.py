"""Figures of the theory tools (Figures 2–4, Theorem 1 and 2/3 curves); Agg backend.

Each function takes the data dict of the matching experiment (``untrained_cs.experiments``)
and writes one PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def figure2(path: Path, data: dict[str, Any]) -> None:
    """The chosen basis functions, one panel each, and a p-smooth signal's energy."""
    funcs = data["functions"]
    fig, axes = plt.subplots(1, len(funcs) + 1, figsize=(3.0 * (len(funcs) + 1), 2.6))
    labels = zip(data["positions"], data["frequencies"], strict=True)
    for ax, (q, freq), f in zip(axes, labels, funcs, strict=False):
        ax.plot(f, lw=1.2)
        name = f"w_{q} of eq (10)" if data.get("numbering") == "eq10" else f"function {q}"
        ax.set_title(f"{name} (frequency {freq})")
        ax.set_xlabel("j")
    energy = np.asarray(data["energy"])[: min(len(data["energy"]), 4 * data["p"])]
    axes[-1].semilogy(np.maximum(energy, 1e-16), ".", ms=4)
    axes[-1].set_title(f"{data['p']}-smooth signal: energy")
    axes[-1].set_xlabel("basis column (frequency order)")
    _save(fig, path)


def figure3(path: Path, data: dict[str, Any]) -> None:
    """Kernels and dual kernels (centred) and their eq (11) weights σ_i² on log–log axes."""
    fig, (left, dual, right) = plt.subplots(1, 3, figsize=(14, 3.6))
    for k in data["kernels"]:
        for ax, key in ((left, "kernel"), (dual, "dual_kernel")):
            u = np.fft.fftshift(np.asarray(k[key]))
            centre = len(u) // 2
            half = min(centre, 60)
            ax.plot(np.arange(-half, half), u[centre - half : centre + half], label=k["label"])
        s2 = np.asarray(k["sigma"]) ** 2
        lab = f"{k['label']}: γ={k['gamma']:.3f}"
        right.loglog(np.arange(1, len(s2) + 1), s2, label=lab)
    left.set_title("kernel u (centred)")
    left.legend(fontsize=8)
    dual.set_title("dual kernel: first row of Σ(U)")
    right.set_title("weights σ_i² (eq 11), descending")
    right.set_xlabel("i")
    right.legend(fontsize=8)
    _save(fig, path)


def weights(path: Path, data: dict[str, Any]) -> None:
    """One or more kernels' weights plus the Monte-Carlo deviation over k (if any)."""
    mc = data.get("monte_carlo")
    if not mc:
        figure3(path, data)
        return
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    for k in data["kernels"]:
        u = np.fft.fftshift(np.asarray(k["kernel"]))
        axes[0].plot(u, label=k["label"])
        s2 = np.asarray(k["sigma"]) ** 2
        axes[1].loglog(np.arange(1, len(s2) + 1), s2, label=f"{k['label']}: γ={k['gamma']:.3f}")
    axes[0].set_title("kernel u (centred)")
    axes[1].set_title("weights σ_i² (eq 11)")
    axes[1].legend(fontsize=8)
    axes[2].loglog(mc["channels"], mc["deviation"], "o-")
    axes[2].set_title(f"Monte-Carlo E[JJᵀ] vs Σ(U), n={mc['n']}")
    axes[2].set_xlabel("channels k")
    axes[2].set_ylabel("‖Σ_MC − Σ‖₂ / ‖Σ‖₂")
    _save(fig, path)


def figure4(path: Path, data: dict[str, Any]) -> None:
    """Singular values of the Jacobian at each snapshot iteration (log scale)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for it, snap in zip(data["iterations"], data["snapshots"], strict=True):
        s = np.asarray(snap["sigma"])
        ax.semilogy(np.arange(1, len(s) + 1), s, label=f"iteration {it}")
    ax.set_xlabel("i")
    ax.set_ylabel("σ_i(J_G)")
    ax.set_title(f"{data['layers']}-layer deep decoder, n={data['n']}, k={data['channels']}")
    ax.legend()
    _save(fig, path)


def theorem_curve(path: Path, data: dict[str, Any], bounds: list[str], title: str) -> None:
    """Measured error and the bound(s) over m (log y)."""
    fig, (ax, rax) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax.semilogy(data["m"], data["error"], "o-", label="measured ‖x̂ − x*‖²")
    for b in bounds:
        ax.semilogy(data["m"], data[b], "s--", label=f"{b} (no constant)")
    ax.set_xlabel("m")
    ax.set_title(title)
    ax.legend(fontsize=8)
    rax.semilogy(data["m"], data["ratio"], "o-")
    rax.set_xlabel("m")
    rax.set_title(f"measured / {bounds[0]}")
    _save(fig, path)


def theorem1(path: Path, data: dict[str, Any]) -> None:
    """Theorem 1's curve: measured error of the linear generator against eqs (7) and (8)."""
    theorem_curve(path, data, ["bound7", "bound8"], "Theorem 1 (linear J)")


def theorem2(path: Path, data: dict[str, Any]) -> None:
    """Theorems 2/3's curve: measured error of ReLU(UC)v fitted by GD against eq (13)."""
    theorem_curve(path, data, ["bound13"], "Theorems 2/3 (ReLU(UC)v, GD)")
