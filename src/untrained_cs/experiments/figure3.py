"""Figure 3: kernels and their eq (11) weights (log–log), with the cross-checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..generators.kernels import make_kernel
from ..theory.weights import (
    eigenvector_alignment,
    explicit_eigenvalues,
    explicit_sigma,
    fit_gamma,
    kernel_weights,
    monte_carlo_sigma,
    spectral_deviation,
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
        **fit_gamma(sigma),
    }
    if explicit:
        evals = explicit_eigenvalues(u)
        s2 = sigma.square()
        out["explicit_eig_rel_error"] = float((evals - s2).abs().max() / s2.max())
    return out


def monte_carlo_check(
    u: torch.Tensor, channels: Sequence[int], draws: int = 2, seed: int = 0
) -> dict[str, list]:
    """Relative spectral deviation of the Monte-Carlo E[J Jᵀ] from Σ(U), for each k."""
    reference = explicit_sigma(u)
    devs = [
        spectral_deviation(monte_carlo_sigma(u, int(k), draws=draws, seed=seed), reference)
        for k in channels
    ]
    return {"channels": [int(k) for k in channels], "draws": [draws] * len(devs), "deviation": devs}


def figure3_data(
    n: int = 300,
    widths: Sequence[float] = (4.0, 8.0, 16.0),
    kernel: str = "triangular",
    mc_channels: Sequence[int] = (64, 256, 1024),
    mc_n: int = 64,
    mc_draws: int = 2,
    ranks: Sequence[int] = (1, 5, 11, 21),
    seed: int = 0,
) -> dict[str, Any]:
    """Weights for several kernel widths at length n, plus MC and alignment checks.

    The Monte-Carlo check runs on the first width at the (smaller) length ``mc_n``.
    """
    kernels = [kernel_report(make_kernel(kernel, n, w), f"{kernel} w={w:g}") for w in widths]
    small = make_kernel(kernel, mc_n, widths[0])
    return {
        "n": n,
        "widths": [float(w) for w in widths],
        "kernels": kernels,
        "monte_carlo": {"n": mc_n, "width": float(widths[0]), **monte_carlo_check(
            small, mc_channels, mc_draws, seed)} if mc_channels else None,
        "alignment": {
            str(r): v for r, v in eigenvector_alignment(make_kernel(kernel, n, widths[0]),
                                                        list(ranks)).items()
        },
    }  # fmt: skip
