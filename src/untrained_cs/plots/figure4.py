"""Figure 4's pictures from :func:`untrained_cs.experiments.figure4.data`; Agg backend.

Each picture sets the true Jacobian beside the matrix the published notebook computes
(running sums of the Jacobian's rows; the bare running sum, which holds no network, is
drawn as a reference): the spectra at the snapshots (as the paper's
Figure 4), the leading left singular vectors at the last snapshot against the
lowest-frequency trig functions (as [HS20]'s singular-vector panels), and the trig
alignment over r with the loss curve of the fit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..theory.basis import trig_basis
from .theory import _save, plt

TITLES = {"true": "true Jacobian ∂G/∂C", "running_sum": "notebook: running sum of rows"}


def spectra(path: Path, data: dict[str, Any]) -> None:
    """Singular values at each snapshot (log y), one panel per matrix."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, (key, snaps) in zip(axes, data["matrices"].items(), strict=True):
        for snap in snaps:
            s = np.maximum(np.asarray(snap["spectrum"]), 1e-12)
            ax.semilogy(np.arange(1, len(s) + 1), s, label=f"iteration {snap['iteration']}")
        if key == "running_sum" and "summation_reference" in data:
            ref = np.asarray(data["summation_reference"]["spectrum"])
            ref = ref * snaps[-1]["spectrum"][0] / ref[0]
            ax.semilogy(np.arange(1, len(ref) + 1), ref, ":", color="k", lw=1.0,
                        label="bare running sum (scaled)")  # fmt: skip
        ax.set_xlabel("i")
        ax.set_ylabel("σ_i")
        ax.set_title(TITLES.get(key, key))
        ax.legend(fontsize=8)
    fig.suptitle(f"Figure 4: {data['settings']['layers']}-layer deep decoder, n = {data['n']}")
    _save(fig, path)


def vectors(path: Path, data: dict[str, Any]) -> None:
    """The leading left singular vectors at the last snapshot; dashed: the trig function of
    the same rank (w_0, cos 1, sin 1, …), sign matched."""
    mats = data["matrices"]
    keep = min(len(snaps[-1]["vectors"]) for snaps in mats.values())
    n = data["n"]
    basis = trig_basis(n, columns=keep).numpy()
    fig, axes = plt.subplots(keep, 2, figsize=(11, 1.7 * keep + 0.6), squeeze=False)
    for col, (key, snaps) in enumerate(mats.items()):
        last = snaps[-1]
        for i in range(keep):
            ax = axes[i][col]
            u = np.asarray(last["vectors"][i])
            w = basis[:, i] if basis[:, i] @ u >= 0 else -basis[:, i]
            ax.plot(u, lw=1.1, label=f"u_{i + 1}")
            ax.plot(w, "--", lw=0.9, color="grey", label=f"trig {i + 1}")
            ax.legend(fontsize=7, loc="upper right")
        axes[0][col].set_title(f"{TITLES.get(key, key)}, iteration {last['iteration']}")
        axes[-1][col].set_xlabel("j")
    _save(fig, path)


def alignment(path: Path, data: dict[str, Any]) -> None:
    """Mean cos² of the principal angles to the trig functions over r, and the fit's loss."""
    fig, (ax, lax) = plt.subplots(1, 2, figsize=(11, 3.8))
    styles = {"true": "o-", "running_sum": "s--"}
    for key, snaps in data["matrices"].items():
        for snap in snaps:
            ax.plot(snap["ranks"], snap["alignment"], styles.get(key, "x-"),
                    label=f"{key}, it {snap['iteration']}")  # fmt: skip
    if "summation_reference" in data:
        ref = data["summation_reference"]
        ax.plot(ref["ranks"], ref["alignment"], "k:", marker="^", label="bare running sum")
    ranks = np.asarray(next(iter(data["matrices"].values()))[0]["ranks"])
    ax.plot(ranks, ranks / data["n"], ":", color="grey", label="random subspace (r/n)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("r")
    ax.set_ylabel("mean cos² of principal angles")
    ax.set_title("top-r left singular vectors vs r lowest trig functions")
    ax.legend(fontsize=7)
    loss = np.asarray(data["loss"])
    lax.semilogy(np.arange(1, len(loss) + 1), loss, lw=1.0, label="loss (MSE)")
    lax.axhline(data["noise_energy"], ls=":", color="grey", label="noise energy")
    for t in data["iterations"]:
        lax.axvline(t, lw=0.6, color="k", alpha=0.3)
    lax.set_xlabel("step")
    lax.set_title("fit of the noisy step (snapshots marked)")
    lax.legend(fontsize=8)
    _save(fig, path)


def optimisers(path: Path, data: dict[str, Any], labels: dict[str, str]) -> None:
    """The true Jacobian's spectra at each snapshot and the losses, for both Adam runs
    (``labels``: each run's name in the picture)."""
    runs = {"continuous": data, "restarted": data["restarted"]}
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (name, run) in zip(axes[:2], runs.items(), strict=True):
        for snap in run["matrices"]["true"]:
            spectrum = np.asarray(snap["spectrum"])
            ax.semilogy(np.maximum(spectrum / spectrum[0], 1e-18), label=f"t = {snap['iteration']}")
        ax.set_title(f"true Jacobian: {labels[name]}", fontsize=9)
        ax.set_xlabel("i")
        ax.set_ylabel("σ_i / σ_1")
        ax.legend(fontsize=7)
    for name, run in runs.items():
        axes[2].semilogy(np.arange(1, len(run["loss"]) + 1), run["loss"], label=labels[name])
    for t in data["iterations"]:
        axes[2].axvline(t, color="grey", lw=0.5, ls=":")
    axes[2].set_xscale("log")
    axes[2].set_xlabel("step")
    axes[2].set_title("loss", fontsize=9)
    axes[2].legend(fontsize=7)
    _save(fig, path)


def draw(data: dict[str, Any], folder: Path, labels: dict[str, str] | None = None) -> list[str]:
    """Write the pictures into ``folder`` (with a second, restarted Adam run in ``data``,
    the two runs side by side, named by ``labels``); return their file names."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {
        "figure4_spectra.png": spectra,
        "figure4_vectors.png": vectors,
        "figure4_alignment.png": alignment,
    }
    for name, fn in names.items():
        fn(folder / name, data)
    if "restarted" not in data:
        return list(names)
    names_of = labels or {"continuous": "continuous", "restarted": "restarted"}
    optimisers(folder / "figure4_optimisers.png", data, names_of)
    return [*names, "figure4_optimisers.png"]
