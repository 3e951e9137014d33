"""Figure 3: kernels and their eq (11) weights (log–log), with the cross-checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..generators.kernels import KERNELS, make_kernel
from ..generators.two_layer import TwoLayerGenerator
from ..theory.jacobian import gram_matrix
from ..theory.spectrum import DECAY_FLOOR, decay_profile
from ..theory.weights import (
    eigenvector_alignment,
    explicit_eigenvalues,
    explicit_sigma,
    fit_gamma,
    kernel_weights,
    sigma_first_row,
    spectral_deviation,
)
from .claims import Claim, check
from .experiment import Experiment, Tool, check_fields, setting

Kernels = Sequence[tuple[torch.Tensor, str]]
TITLE = "Figure 3: triangular kernels and their eq (11) weights"


@dataclass(frozen=True)
class Figure3Settings:
    """Settings of Figure 3 (`untrained-cs theory weights`, `reproduce fig3`)."""

    n: int = setting(300, "signal length", "Figure 3's caption: 'a generator network of "
                     "output dimension n = 300'", low=1)  # fmt: skip
    kernel: str = setting("triangular", "the kernel's shape", "Figure 3's caption: "
                          "'Triangular kernels' (Section 4: the original deep decoder's)",
                          choices=KERNELS)  # fmt: skip
    widths: tuple[float, ...] = setting(
        (1.0, 10.0, 30.0),
        "kernel half-widths (u_j > 0 for circular distance < w); sigma/gamma in the JSON "
        "are for the first",
        "the paper's Figure 3 shows half-widths 1, 10 and 30 at n = 300 (its published "
        "notebook's kernels)",
        flag="--width", low=0.0, open_low=True,
    )  # fmt: skip
    mc_channels: tuple[int, ...] = setting(
        (64, 256, 1024), "channel counts k of the Monte-Carlo E[JJᵀ] check (none: skip)",
        "Section 4: Σ(U) is its limit as k grows", low=1, empty=True,
    )  # fmt: skip
    mc_n: int = setting(64, "signal length of the Monte-Carlo check", low=1)
    mc_draws: int = setting(2, "random C per k of the Monte-Carlo check", low=1)
    ranks: tuple[int, ...] = setting((1, 5, 11, 21), "ranks r of the eigenvector-alignment "
                                     "check", low=1)  # fmt: skip
    explicit_max_n: int = setting(2048, "the dense n×n checks (explicit Σ(U) eigenvalues, "
                                  "alignment) run up to this n", low=1)  # fmt: skip
    kernel_file: str | None = setting(
        None, "a length-n kernel (.npy), normalised to unit norm, instead of the named "
        "kernel (n is its length; n, kernel and width are then ignored)", "",
    )  # fmt: skip

    def __post_init__(self) -> None:
        check_fields(self)
        if self.kernel_file is None and self.n < 2:
            raise ValueError(f"n must be >= 2 (a kernel of length n), got {self.n}")


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


def monte_carlo_sigma(
    u: torch.Tensor, channels: int, draws: int = 2, seed: int = 0, chunk_size: int | None = None
) -> torch.Tensor:
    r"""Monte-Carlo E[J_G(C) J_G(C)^T] of the two-layer generator with kernel u, ``[n, n]``.

    ``draws`` random C (each with k = ``channels`` channels) are one batched
    :class:`~untrained_cs.generators.TwoLayerGenerator`; each member's J J^T is formed
    matrix-free (:func:`~untrained_cs.theory.jacobian.gram_matrix`) and the members are
    averaged. ``chunk_size`` rows go through one vmapped product (default: ~2^22 parameter
    values per chunk, so memory stays bounded for large k).
    """
    if u.dim() != 1 or u.numel() < 2:
        raise ValueError(f"kernel must be a 1D tensor of length n >= 2, got {tuple(u.shape)}")
    if draws < 1:
        raise ValueError(f"monte_carlo_sigma needs draws >= 1, got {draws}")
    gen = TwoLayerGenerator(
        out_shape=(1, u.numel()),
        channels=channels,
        kernel=u.to(torch.float32),
        seed=[seed + d for d in range(draws)],
        theorem3_xi=None,
    )
    if chunk_size is None:
        chunk_size = max(1, min(64, 2**22 // (channels * u.numel() * draws)))
    return gram_matrix(gen, chunk_size=chunk_size).to(torch.float64).mean(dim=0)


def monte_carlo_check(
    u: torch.Tensor, channels: Sequence[int], draws: int, seed: int = 0
) -> dict[str, list]:
    """Relative spectral deviation of the Monte-Carlo E[J Jᵀ] from Σ(U), for each k."""
    reference = explicit_sigma(u)
    devs = [
        spectral_deviation(monte_carlo_sigma(u, int(k), draws=draws, seed=seed), reference)
        for k in channels
    ]
    return {"channels": [int(k) for k in channels], "draws": [draws] * len(devs), "deviation": devs}


def weights_data(
    kernels: Kernels, mc_kernel: torch.Tensor | None, settings: Figure3Settings, seed: int = 0
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
    s, dense = settings, settings.explicit_max_n
    reports = [kernel_report(u, label, explicit=u.numel() <= dense) for u, label in kernels]
    first = kernels[0][0]
    data: dict[str, Any] = {
        "n": first.numel(), "sigma": reports[0]["sigma"], "gamma": reports[0]["gamma"],
        "kernels": reports, "monte_carlo": None, "scale_note": SCALE_NOTE,
    }  # fmt: skip
    if mc_kernel is not None and s.mc_channels:
        mc = monte_carlo_check(mc_kernel, s.mc_channels, s.mc_draws, seed)
        data["monte_carlo"] = {"n": mc_kernel.numel(), **mc}
    if first.numel() <= dense:
        kept = [r for r in s.ranks if r <= first.numel()]
        data["alignment"] = {str(r): v for r, v in eigenvector_alignment(first, kept).items()}
    return data


def weights(settings: Figure3Settings, seed: int = 0) -> dict[str, Any]:
    """The tool's data: :func:`weights_data` for the named kernel at each width (length n;
    the Monte-Carlo check on the first width at the smaller length ``mc_n``), or for the
    kernel of ``kernel_file`` (:func:`load_kernel`; the Monte-Carlo check's too)."""
    s = settings
    if s.kernel_file is not None:
        u = load_kernel(Path(s.kernel_file))
        return weights_data([(u, f"file {Path(s.kernel_file).name}")], u, s, seed)
    kernels = [(make_kernel(s.kernel, s.n, w), f"{s.kernel} w={w:g}") for w in s.widths]
    small = make_kernel(s.kernel, s.mc_n, s.widths[0]) if s.mc_channels else None
    return weights_data(kernels, small, s, seed)


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


#: the share of the weights' energy counted as "low frequency": the lowest 10 % of them
LOW_SHARE = 0.1


def data(settings: Figure3Settings, seed: int = 0) -> dict[str, Any]:
    """Figure 3's numbers: :func:`weights`, with each kernel's decay fits and low share."""
    d = weights(settings, seed)
    for k in d["kernels"]:
        k.update(decay_fits(np.asarray(k["sigma"]), k["start"], k["stop"]))
        k["low_share"] = low_frequency_share(np.asarray(k["sigma_by_frequency"]))
        k["full_range"] = decay_profile(k["sigma"])
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
    """Figure 3's picture in ``folder``."""
    from ..plots.theory import figure3

    figure3(folder / "fig3.png", data)
    return ["fig3.png"]


def draw(path: Path, data: dict[str, Any]) -> None:
    """The tool's picture: each kernel's weights (:func:`untrained_cs.plots.theory.weights`)."""
    from ..plots.theory import weights as weights_plot

    weights_plot(path, data)


def claims(data: dict[str, Any]) -> list[Claim]:
    """Wider kernels, lower frequencies; geometric decay; eq (11) = Σ(U)'s eigenvalues; the
    Monte-Carlo E[JJᵀ] approaching Σ(U)."""
    ks = data["kernels"]
    shares = [k["low_share"] for k in ks]
    widths = "/".join(f"{w:g}" for w in data["widths"])
    geo = [k["r2_geometric"] for k in ks]
    power = [k["r2_power"] for k in ks]
    decaying = [g for g in geo if np.isfinite(g)]
    eig = max(k.get("explicit_eig_rel_error", float("nan")) for k in ks)
    # kernels whose weights fall at least a decade (the narrowest kernel's are flat)
    full = [(k["label"], k["full_range"]) for k in ks if k["full_range"]["decades"] >= 1]
    full_r2 = [f["r2_geometric"] for _, f in full]
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
            "the weights decay geometrically, σ_i² = γ^i, over the whole range where they "
            "fall (not only the knee)",
            min(full_r2, default=None),
            bool(full_r2) and min(full_r2) >= 0.95,
            "log σ_i² fitted against i from i = 1 to the last σ_i² above "
            f"{DECAY_FLOOR:g}·σ_1²: "
            + "; ".join(
                f"{label}: {f['count']} of {data['n']} weights, γ = {f['rate']:.4f}, R² "
                f"{f['r2_geometric']:.3f} over "
                f"{f['decades']:.1f} decades (power law R² {f['r2_power']:.3f}; curvature "
                f"c = {f['curvature']:.2e}, t = {f['curvature_t']:.1f}: "
                f"{'slower' if f['curvature'] > 0 else 'faster'} than geometric)"
                for label, f in full
            )
            + " (geometric: R² >= 0.95, as the knee's row)",
        ),
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


def summary(settings: Figure3Settings, data: dict[str, Any]) -> str:
    """The tool's one line."""
    gammas = ", ".join(f"{r['label']}: γ={r['gamma']:.4f}" for r in data["kernels"])
    mc = data["monte_carlo"]
    tail = f"; MC deviation {mc['deviation'][-1]:.3f} at k={mc['channels'][-1]}" if mc else ""
    return f"weights {gammas}{tail}"


def memory(settings: Figure3Settings) -> dict[str, int]:
    """The dense Σ(U) and its eigen-check, and the Monte-Carlo Jacobians (float64)."""
    s = settings
    n = load_kernel(Path(s.kernel_file)).numel() if s.kernel_file is not None else s.n
    k = max(s.mc_channels, default=0)
    return {"Σ(U)": 4 * 8 * n**2, "Monte-Carlo Jacobians": 2 * 8 * s.mc_n**2 * k}


TOOL = Tool(
    help="Figure 3: eq (11) kernel weights, γ, cross-checks",
    settings_type=Figure3Settings, data=weights, plot=draw, summary=summary, memory=memory,
)  # fmt: skip
#: the paper's own setting costs seconds; smoke skips the largest Monte-Carlo k
SETTINGS = {
    "smoke": Figure3Settings(mc_channels=(16, 64), mc_n=32),
    "cpu": Figure3Settings(),
    "paper": Figure3Settings(),
}
EXPERIMENT = Experiment(TITLE, Figure3Settings, SETTINGS, data, plot, claims, tool=TOOL)
