"""Theorem 1: the min-norm estimate, gradient descent's limit, and the bound (7)."""

from __future__ import annotations

import pytest
import torch

from untrained_cs.experiments import theorem1, theorem2
from untrained_cs.experiments.theorem1 import Theorem1Settings, gd_estimate
from untrained_cs.experiments.theorem2 import Theorem2Settings
from untrained_cs.theory.basis import trig_basis
from untrained_cs.theory.linear_theorem import (
    geometric_spectrum,
    min_norm_estimate,
    signal_in_span,
    spectral_generator_matrix,
    theorem1_bound,
)


def test_generator_matrix_has_the_chosen_spectrum() -> None:
    sigma = geometric_spectrum(16, 0.8)
    jmat = spectral_generator_matrix(sigma, 40, seed=2)
    assert torch.allclose(torch.linalg.svdvals(jmat), sigma, rtol=1e-10)
    u, _, _ = torch.linalg.svd(jmat, full_matrices=False)
    w = trig_basis(16)
    assert torch.allclose((u.T @ w).abs(), torch.eye(16, dtype=torch.float64), atol=1e-8)


def test_min_norm_equals_gradient_descent_limit() -> None:
    sigma = geometric_spectrum(16, 0.8)
    jmat = spectral_generator_matrix(sigma, 32, seed=0)
    g = torch.Generator().manual_seed(1)
    a = torch.randn(2, 6, 16, generator=g, dtype=torch.float64) / 6**0.5
    y = torch.randn(2, 6, generator=g, dtype=torch.float64)
    closed = min_norm_estimate(a, jmat, y)
    gd = gd_estimate(jmat, a, y, iters=20000)
    assert float(((gd - closed).norm(dim=1) / closed.norm(dim=1)).max()) < 1e-8
    assert torch.allclose(((a @ closed.unsqueeze(-1)).squeeze(-1)), y, atol=1e-8)


def test_error_below_bound_and_falls_with_m() -> None:
    settings = Theorem1Settings(n=48, wide=96, gamma=0.8, ms=(6, 18, 30), trials=3, gd_iters=0)
    res = theorem1.data(settings)
    assert all(r < 1 for r in res["ratio"])
    assert res["error"][0] > res["error"][1] > res["error"][2]
    assert res["gd_gap"] == []


def test_bound_uses_tail_after_two_thirds_m() -> None:
    w = trig_basis(9)
    sigma = torch.tensor([1.0, 0.5, 0.25, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], dtype=torch.float64)
    x = signal_in_span(w, 1, seed=0)
    # head = <w_1, x>^2 / 1 = 1; tail = sum_{i > 4} sigma_i^2 (m = 6 -> 2m/3 = 4)
    assert theorem1_bound(x, sigma, w, 6) == pytest.approx(float(sigma[4:].square().sum()))


def test_two_layer_recovery_sets_in_with_m() -> None:
    settings = Theorem2Settings(n=16, channels=64, p=2, ms=(2, 12), trials=2, max_iters=1500)
    res = theorem2.data(settings)
    assert res["error"][1] < res["error"][0]
    assert res["error"][1] < res["bound13"][1]
