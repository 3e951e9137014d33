"""Figure 3: kernels and their eq (11) weights (log–log), with the cross-checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..generators.kernels import make_kernel
from ..theory.weights import (
    eigenvector_alignment,
    explicit_eigenvalues,
    explicit_sigma,
    fit_gamma,
    kernel_weights,
    monte_carlo_sigma,
    sigma_first_row,
    spectral_deviation,
)
from .claims import Claim, check

Kernels = Sequence[tuple[torch.Tensor, str]]


@dataclass(frozen=True)
class Figure3Defaults:
    """Settings of Figure 3 (`untrained-cs theory weights`)."""

    #: signal length; Figure 3's caption: "a generator network of output dimension n = 300"
    n: int = 300
    #: Figure 3's caption: "Triangular kernels" (Section 4: the original deep decoder's)
    kernel: str = "triangular"
    #: triangle half-widths (u_j > 0 for circular distance < w); the paper's Figure 3 shows
    #: half-widths 1, 10 and 30 at n = 300 (its published notebook's kernels)
    widths: tuple[float, ...] = (1.0, 10.0, 30.0)
    #: channel counts k of the Monte-Carlo E[J Jᵀ] check (Section 4: Σ(U) is its limit)
    mc_channels: tuple[int, ...] = (64, 256, 1024)
    #: signal length and random draws of C per k for the Monte-Carlo check
    mc_n: int = 64
    mc_draws: int = 2
    #: ranks r of the eigenvector-alignment check
    ranks: tuple[int, ...] = (1, 5, 11, 21)
    #: the dense n×n checks (explicit Σ(U) eigenvalues, alignment) run up to this n
    explicit_max_n: int = 2048


DEFAULTS = Figure3Defaults()
#: how these weights relate to the paper's published notebook (as read there; not re-run here)
SCALE_NOTE = (
    "eq (11) uses g(z) = (1 - arccos(z)/pi) z / 2; the authors' Figure-3 notebook scales g by "
    "1/6, so its weights are these divided by 3 (same shape, same gamma)"
)


def kernel_report(u: torch.Tensor, label: str, explicit: bool = True) -> dict[str, Any]:
    """Eq (11) weights of one kernel, sorted descending, their γ and the Σ(U) eigen-check."""
    sigma_freq = kernel_weights(u)
    sigma = sigma_freq.sort(descending=True).values
    out: dict[str, Any] = {
        "label": label,
        "kernel": u.tolist(),
        "sigma": sigma.tolist(),
        "sigma_by_frequency": sigma_freq.tolist(),
        # Figure 3's second panel: the dual kernel, the first row of Σ(U) = ‖u‖² g(u⊛u/‖u‖²)
        "dual_kernel": sigma_first_row(u).tolist(),
        **fit_gamma(sigma),
    }
    if explicit:
        evals = explicit_eigenvalues(u)
        s2 = sigma.square()
        out["explicit_eig_rel_error"] = float((evals - s2).abs().max() / s2.max())
    return out


def monte_carlo_check(
    u: torch.Tensor, channels: Sequence[int], draws: int = DEFAULTS.mc_draws, seed: int = 0
) -> dict[str, list]:
    """Relative spectral deviation of the Monte-Carlo E[J Jᵀ] from Σ(U), for each k."""
    reference = explicit_sigma(u)
    devs = [
        spectral_deviation(monte_carlo_sigma(u, int(k), draws=draws, seed=seed), reference)
        for k in channels
    ]
    return {"channels": [int(k) for k in channels], "draws": [draws] * len(devs), "deviation": devs}


def weights_data(
    kernels: Kernels,
    mc_kernel: torch.Tensor | None = None,
    mc_channels: Sequence[int] = DEFAULTS.mc_channels,
    mc_draws: int = DEFAULTS.mc_draws,
    seed: int = 0,
    ranks: Sequence[int] = DEFAULTS.ranks,
) -> dict[str, Any]:
    """Weights of the given ``(kernel, label)`` pairs, plus the Monte-Carlo and alignment checks.

    Returns:
        ``n``, ``sigma`` and ``gamma`` of the first kernel, ``kernels`` (one
        :func:`kernel_report` each), ``monte_carlo`` (:func:`monte_carlo_check` on
        ``mc_kernel`` with its length ``n``; None without ``mc_kernel`` or channels) and,
        when n <= ``explicit_max_n``, ``alignment`` (rank → value, of the first kernel).
    """
    if not kernels:
        raise ValueError("weights_data needs at least one kernel")
    dense = DEFAULTS.explicit_max_n
    reports = [kernel_report(u, label, explicit=u.numel() <= dense) for u, label in kernels]
    first = kernels[0][0]
    data: dict[str, Any] = {
        "n": first.numel(), "sigma": reports[0]["sigma"], "gamma": reports[0]["gamma"],
        "kernels": reports, "monte_carlo": None, "scale_note": SCALE_NOTE,
    }  # fmt: skip
    if mc_kernel is not None and mc_channels:
        mc = monte_carlo_check(mc_kernel, mc_channels, mc_draws, seed)
        data["monte_carlo"] = {"n": mc_kernel.numel(), **mc}
    if first.numel() <= dense:
        kept = [r for r in ranks if r <= first.numel()]
        data["alignment"] = {str(r): v for r, v in eigenvector_alignment(first, kept).items()}
    return data


def figure3_data(
    n: int = DEFAULTS.n,
    widths: Sequence[float] = DEFAULTS.widths,
    kernel: str = DEFAULTS.kernel,
    mc_channels: Sequence[int] = DEFAULTS.mc_channels,
    mc_n: int = DEFAULTS.mc_n,
    mc_draws: int = DEFAULTS.mc_draws,
    seed: int = 0,
) -> dict[str, Any]:
    """Figure 3's data: :func:`weights_data` for ``kernel`` at each width, length n.

    The Monte-Carlo check runs on the first width at the (smaller) length ``mc_n``.
    """
    if n < 2:
        raise ValueError(f"figure 3 needs a signal length n >= 2, got {n}")
    kernels = [(make_kernel(kernel, n, w), f"{kernel} w={w:g}") for w in widths]
    small = make_kernel(kernel, mc_n, widths[0]) if mc_channels else None
    return weights_data(kernels, small, mc_channels, mc_draws, seed)


def load_kernel(path: Path) -> torch.Tensor:
    """A 1D kernel of length n >= 2 from a ``.npy`` file, float64, scaled to unit norm."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ValueError(f"--kernel-file {path}: cannot read a .npy array ({reason})") from None
    if not isinstance(arr, np.ndarray):  # an .npz archive
        raise ValueError(f"--kernel-file {path}: an .npz archive; save one kernel with np.save")
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ValueError(f"--kernel-file {path}: holds {arr.dtype} values, not real numbers")
    arr = np.asarray(arr, dtype=np.float64).squeeze()
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(
            f"--kernel-file {path}: need a 1D kernel of length n >= 2, got {arr.shape}"
        )
    if not np.isfinite(arr).all() or not np.any(arr):
        raise ValueError(f"--kernel-file {path}: kernel must be finite and not all zero")
    u = torch.from_numpy(arr)
    return u / u.norm()


def kernel_file_data(
    path: Path,
    mc_channels: Sequence[int] = DEFAULTS.mc_channels,
    mc_draws: int = DEFAULTS.mc_draws,
    seed: int = 0,
) -> dict[str, Any]:
    """:func:`weights_data` for the kernel in ``path`` (:func:`load_kernel`), which is also
    the Monte-Carlo check's kernel (at its own length)."""
    u = load_kernel(path)
    return weights_data([(u, f"file {Path(path).name}")], u, mc_channels, mc_draws, seed)


# --- `untrained-cs reproduce fig3` (see :mod:`.claims`) ---------------------------------

TITLE = "Figure 3: triangular kernels and their eq (11) weights"
#: the paper's own setting costs seconds; smoke skips the largest Monte-Carlo k
SETTINGS = {
    "smoke": replace(DEFAULTS, mc_channels=(16, 64), mc_n=32),
    "cpu": DEFAULTS,
    "paper": DEFAULTS,
}
#: the share of the weights' energy counted as "low frequency": the lowest 10 % of them
LOW_SHARE = 0.1


def data(settings: Figure3Defaults, seed: int = 0) -> dict[str, Any]:
    d = figure3_data(settings.n, settings.widths, settings.kernel, settings.mc_channels,
                     settings.mc_n, settings.mc_draws, seed)  # fmt: skip
    for k in d["kernels"]:
        k.update(decay_fits(np.asarray(k["sigma"]), k["start"], k["stop"]))
        k["low_share"] = low_frequency_share(np.asarray(k["sigma_by_frequency"]))
    return {**d, "widths": list(settings.widths), "notes": [SCALE_NOTE]}


def decay_fits(sigma: np.ndarray, start: int, stop: int) -> dict[str, float]:
    """R² of straight lines through log σ_i² over the fitted range: against i (geometric
    decay, a line on semi-log axes) and against log i (a power law, a line on log–log)."""
    s2 = np.log(np.maximum(np.sort(sigma**2)[::-1][start:stop], 1e-300))
    i = np.arange(start, stop, dtype=float) + 1
    return {"r2_geometric": _r2(i, s2), "r2_power": _r2(np.log(i), s2)}


def _r2(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3:
        return float("nan")
    fit = np.polyval(np.polyfit(x, y, 1), x)
    return float(1 - np.square(y - fit).sum() / max(np.square(y - y.mean()).sum(), 1e-300))


def low_frequency_share(sigma_by_frequency: np.ndarray, share: float = LOW_SHARE) -> float:
    """Σσ² over the lowest ``share`` of frequencies (both signs) over Σσ²."""
    n = len(sigma_by_frequency)
    freq = np.minimum(np.arange(n), n - np.arange(n))
    s2 = sigma_by_frequency**2
    return float(s2[freq <= share * n / 2].sum() / s2.sum())


def plot(data: dict[str, Any], folder: Path) -> list[str]:
    from ..plots.theory import figure3

    figure3(folder / "fig3.png", data)
    return ["fig3.png"]


def claims(data: dict[str, Any]) -> list[Claim]:
    ks = data["kernels"]
    shares = [k["low_share"] for k in ks]
    widths = "/".join(f"{w:g}" for w in data["widths"])
    geo = [k["r2_geometric"] for k in ks]
    power = [k["r2_power"] for k in ks]
    decaying = [g for g in geo if np.isfinite(g)]
    eig = max(k.get("explicit_eig_rel_error", float("nan")) for k in ks)
    rows = [
        check(
            "the wider the kernel, the more the weights are concentrated towards the low "
            "frequencies",
            "/".join(f"{s:.3f}" for s in shares),
            all(a < b for a, b in zip(shares, shares[1:], strict=False)),
            f"share of Σσ² in the lowest {LOW_SHARE:.0%} of frequencies at half-widths {widths}",
        ),  # fmt: skip
        check(
            "the lower singular values decay geometrically, σ_i² = γ^i (a straight line "
            "where the weights fall)",
            min(decaying, default=None),
            bool(decaying) and min(decaying) >= 0.95,
            "R² of log σ_i² against i: " + "/".join(f"{g:.3f}" for g in geo) + "; against "
            "log i (a power law, the caption's 'straight line in the log-log plot'): "
            + "/".join(f"{p:.3f}" for p in power)
            + " (nan: flat weights, nothing decays)",
        ),
        # fmt: skip
        check(
            "σ of eq (11) are the singular values of Σ(U)^{1/2}: its eigenvalues are σ_i²",
            eig,
            eig < 1e-6,
            f"max relative error against the explicit Σ(U) eigenvalues {eig:.1e}",
        ),  # fmt: skip
    ]
    mc = data.get("monte_carlo")
    if mc:
        dev = mc["deviation"]
        rows.append(check(
            "the Jacobian's spectrum is well approximated by values that depend on u only "
            "(E[JJᵀ] → Σ(U) as the channels k grow)", dev[-1],
            all(a > b for a, b in zip(dev, dev[1:], strict=False)),
            "relative spectral deviation at k = " + "/".join(str(k) for k in mc["channels"])
            + ": " + "/".join(f"{d:.3f}" for d in dev),
        ))  # fmt: skip
    return rows
