"""Kernel weights (eq 11) against the explicit Σ(U), Monte-Carlo E[JJᵀ], γ, alignment."""

from __future__ import annotations

import pytest
import torch

from untrained_cs.experiments.figure3 import monte_carlo_sigma
from untrained_cs.generators.kernels import gaussian_kernel, triangular_kernel
from untrained_cs.theory.basis import trig_basis
from untrained_cs.theory.weights import (
    eigenvector_alignment,
    explicit_eigenvalues,
    explicit_sigma,
    fit_gamma,
    kernel_weights,
    sorted_weights,
    spectral_deviation,
)


@pytest.mark.parametrize(
    "u",
    [triangular_kernel(40, 3), triangular_kernel(41, 6), gaussian_kernel(32, 2.0),
     torch.randn(24, generator=torch.Generator().manual_seed(0), dtype=torch.float64)],
)  # fmt: skip
def test_weights_equal_explicit_sigma_eigenvalues(u: torch.Tensor) -> None:
    s2 = sorted_weights(u)[0].square()
    evals = explicit_eigenvalues(u)
    assert float((evals - s2).abs().max() / s2.max()) < 1e-8


def test_trig_basis_diagonalises_sigma() -> None:
    u = triangular_kernel(30, 4)
    w = trig_basis(30)
    d = w.T @ explicit_sigma(u) @ w
    assert torch.allclose(d, torch.diag(kernel_weights(u).square()), atol=1e-10)
    align = eigenvector_alignment(u, [1, 5, 9])
    assert min(align.values()) > 1 - 1e-8


def test_monte_carlo_sigma_within_5_percent_at_large_k() -> None:
    u = triangular_kernel(24, 3)
    mc = monte_carlo_sigma(u, channels=2048, draws=2, seed=0)
    assert spectral_deviation(mc, explicit_sigma(u)) < 0.05
    small = monte_carlo_sigma(u, channels=16, draws=2, seed=0)
    assert spectral_deviation(small, explicit_sigma(u)) > spectral_deviation(mc, explicit_sigma(u))


def test_fit_gamma_recovers_geometric_decay() -> None:
    gamma = 0.8
    sigma = torch.cat([torch.ones(5), gamma ** (torch.arange(1, 60) / 2)]).double()
    assert abs(fit_gamma(sigma, upper=0.9, lower=1e-4)["gamma"] - gamma) < 1e-6


def test_wider_triangle_decays_faster() -> None:
    gammas = [fit_gamma(kernel_weights(triangular_kernel(120, w)))["gamma"] for w in (2, 4, 8)]
    assert gammas[0] > gammas[1] > gammas[2]
    assert all(0 < g < 1 for g in gammas)


def test_bad_kernel_is_named() -> None:
    with pytest.raises(ValueError, match="kernel must be a 1D tensor"):
        kernel_weights(torch.ones(3, 3))


def test_figure3_weights_for_half_widths_1_10_30_equal_the_explicit_sigma_eigenvalues():
    """Figure 3's own kernels (n = 300): eq (11) against the eigenvalues of the dense Σ(U)."""
    from untrained_cs.experiments.figure3 import Figure3Settings, weights

    default = Figure3Settings()
    assert default.widths == (1.0, 10.0, 30.0) and default.n == 300
    data = weights(Figure3Settings(mc_channels=()))
    assert [k["label"] for k in data["kernels"]] == [f"triangular w={w}" for w in (1, 10, 30)]
    for k in data["kernels"]:
        assert k["explicit_eig_rel_error"] < 1e-8
    assert data["kernels"][0]["sigma"] == pytest.approx([0.5**0.5] * 300)  # a delta: flat
    gammas = [k["gamma"] for k in data["kernels"]]
    assert gammas[0] > gammas[1] > gammas[2]  # the wider the kernel, the faster the decay
