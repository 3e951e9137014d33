"""Theorem 4 (Section 7): the linearised recursion, the two-layer Jacobian's closed forms, and
the experiment at smoke scale."""

from __future__ import annotations

import numpy as np
import torch

from untrained_cs.experiments import theorem4
from untrained_cs.experiments.claims import PAPER
from untrained_cs.generators.linear import LinearGenerator
from untrained_cs.generators.two_layer import TwoLayerGenerator, circulant
from untrained_cs.operators.gaussian import GaussianOperator
from untrained_cs.theory.jacobian import dense_jacobian, gram_matrix
from untrained_cs.theory.section7 import (
    geometric_rate,
    linearised_residuals,
    pinv_norm,
    two_layer_gram,
    two_layer_pullback,
)


def test_the_linearised_recursion_is_exact_on_a_linear_generator() -> None:
    """On G(c) = W c gradient descent *is* the linearised problem: the residuals of plain GD
    (autograd through the generator) equal (I − η A W Wᵀ Aᵀ)^t r_0 to rounding, and the
    Jacobian the recursion uses is the generator's own."""
    n, N, m, steps = 16, 40, 6, 60
    W = torch.randn(n, N, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    gen = LinearGenerator(W)
    gen.weight.data.normal_(generator=torch.Generator().manual_seed(2))
    op = GaussianOperator((1, n), m, seed=3)
    op.matrix = op.matrix.double()
    y = torch.randn(1, m, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    gram = gram_matrix(gen, op)[0].numpy()
    A = op.matrix[0].numpy()
    assert np.allclose(gram, A @ W.numpy() @ W.numpy().T @ A.T, atol=1e-10)
    eta = 0.9 / np.linalg.eigvalsh(gram)[-1]
    residuals = []
    for _ in range(steps + 1):
        r = op.matvec(gen().reshape(1, -1)) - y
        residuals.append(r[0].detach().numpy().copy())
        gen.zero_grad()
        (0.5 * r.square().sum()).backward()
        with torch.no_grad():
            gen.weight -= eta * gen.weight.grad
    expected = linearised_residuals(gram, residuals[0], eta, steps)
    assert np.abs(np.asarray(residuals) - expected).max() < 1e-10 * np.linalg.norm(residuals[0])
    # and with the linear generator's Jacobian the minimum-norm distance is ‖J†r_0‖
    assert pinv_norm(gram, residuals[0]) > 0


def test_the_two_layer_closed_forms_match_autograd() -> None:
    """(U Uᵀ) ∘ (S diag(v²) Sᵀ) is J_G J_Gᵀ and the pullback is J_Gᵀ g, as dense autograd
    Jacobians of the project's generator compute them."""
    n, k = 12, 10
    gen = TwoLayerGenerator((1, n), channels=k, seed=5, theorem3_xi=None).double()
    J = dense_jacobian(gen)[0].numpy()  # [n, k n], parameters (l, j) = C[j, l]
    U = circulant(gen.kernel).numpy()
    C = gen.weight.detach()[0].numpy().T  # n × k
    v = gen.v.numpy()
    S = (U @ C > 0).astype(float)
    assert np.allclose(two_layer_gram(U, S, v), J @ J.T, atol=1e-12)
    g = np.random.default_rng(0).standard_normal(n)
    assert np.allclose(two_layer_pullback(U, S, v, g), (J.T @ g).reshape(k, n).T, atol=1e-12)


def test_geometric_rate_recovers_a_known_rate() -> None:
    values = 3.0 * 0.9 ** np.arange(200.0)
    fit = geometric_rate(values, floor=1e-6)
    assert abs(fit["rate"] - 0.9) < 1e-12 and fit["r2"] > 1 - 1e-12
    assert 5.9 < fit["decades"] <= 6.0


def test_smoke_run_measures_its_claims_and_draws_its_figure(tmp_path) -> None:
    settings = theorem4.EXPERIMENT.settings("smoke")
    data = theorem4.data(settings, seed=0)
    # the parameter-space linearisation and the closed recursion (eq 39) agree
    assert data["recursion_check"] < 1e-10
    assert data["iterations"] >= 1 and data["notes"]
    rows = theorem4.claims(data)
    assert len(rows) == 5 and all(r.kind == PAPER for r in rows)
    along = data["along"]
    assert along["sigma_iteration"][0] == 0 and along["sigma_iteration"][-1] == data["iterations"]
    assert all(0 <= x < 1 for x in along["sigma_spectrum"])
    assert all(r.measured is not None and r.reason for r in rows)
    assert all(r.paper for r in rows[:4])  # Theorem 4's bounds, beside the measurements
    files = theorem4.plot(data, tmp_path)
    assert files == ["thm4.png"] and (tmp_path / "thm4.png").stat().st_size > 0
