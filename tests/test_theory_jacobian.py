"""Jacobians: dense (chunked) vs per-row backward, Gram matrix, matrix-free top-k, snapshots."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from untrained_cs.experiments.figure4_cs import spectrum_across_iterations
from untrained_cs.generators.deep_decoder import DeepDecoder
from untrained_cs.generators.two_layer import TwoLayerGenerator
from untrained_cs.operators.gaussian import GaussianOperator
from untrained_cs.theory.basis import smooth_signal
from untrained_cs.theory.jacobian import dense_jacobian, gram_matrix, singular_values, top_singular
from untrained_cs.theory.spectrum import relative_change


def _decoder(n: int = 32, seed=0) -> DeepDecoder:
    return DeepDecoder(
        out_shape=(1, n), channels=8, layers=3, upsample="linear", head="fixed", seed=seed
    )


def test_dense_jacobian_matches_row_by_row_backward() -> None:
    gen = _decoder(seed=[0, 1])
    op = GaussianOperator((1, 32), 12, seed=5)
    jac = dense_jacobian(gen, op, chunk_size=5)
    assert jac.shape == (2, 12, gen.num_parameters())
    params = [p for p in gen.parameters() if p.requires_grad]
    out = op(gen())
    for b, i in [(0, 0), (1, 7), (0, 11)]:
        grads = torch.autograd.grad(out[b, i], params, retain_graph=True)
        row = torch.cat([g[b].reshape(-1) for g in grads])
        assert torch.allclose(jac[b, i], row, atol=1e-6)


def test_gram_matrix_equals_dense_product() -> None:
    gen = TwoLayerGenerator(out_shape=(1, 16), channels=6, seed=[0, 1, 2])
    jac = dense_jacobian(gen)
    gram = gram_matrix(gen, chunk_size=7)
    assert torch.allclose(gram, jac @ jac.transpose(1, 2), rtol=1e-4, atol=1e-5)


def test_matrix_free_top10_agrees_with_dense() -> None:
    gen = _decoder(n=64)
    dense = singular_values(dense_jacobian(gen)[0])[:10].numpy()
    sigma, left = top_singular(gen, 10, tol=1e-10)
    assert np.max(np.abs(sigma - dense) / dense) < 1e-4
    assert np.allclose(left.T @ left, np.eye(10), atol=1e-6)


def test_top_singular_checks_k_and_batch() -> None:
    with pytest.raises(ValueError, match="one-member"):
        top_singular(_decoder(seed=[0, 1]), 3)
    with pytest.raises(ValueError, match="1 <= k < rows"):
        top_singular(_decoder(), 32)


def test_spectrum_across_iterations_snapshots_without_moving_the_fit() -> None:
    n = 32
    op = GaussianOperator((1, n), 16, seed=1)
    x = smooth_signal(n, 4, 0).float().reshape(1, 1, n)
    y = op(x)
    res = spectrum_across_iterations(_decoder(), op, y, [0, 3, 20], top=8, ranks=(1, 3))
    plain = _decoder()
    from untrained_cs.fit import fit

    ref = fit(plain, op, y, optimizer="gd", lr=res["lr"], device="cpu", max_iters=20,
              tol=1e-12, loss_floor=1e-30, check_every=1, window=20)  # fmt: skip
    assert res["iterations"] == [0, 3, 20]
    assert res["loss"][-1] == pytest.approx(float(ref.history["loss"][-1, 0]), rel=1e-5)
    first, last = res["snapshots"][0]["sigma"], res["snapshots"][-1]["sigma"]
    assert len(first) == n and all(a >= b for a, b in zip(first, first[1:], strict=False))
    assert 0 < relative_change(first, last, 8) < 1
    assert set(res["snapshots"][0]["alignment"]) == {1, 3}
    assert 0 < res["snapshots"][0]["low_frequency_energy"][3] <= 1 + 1e-9


def test_the_published_running_sum_matrix_is_cumsum_of_the_jacobian_plus_g():
    """Figure 4's notebook never zeroes gradients between rows: row i = g + Σ_{l≤i} J_l."""
    from untrained_cs.generators import DeepDecoder
    from untrained_cs.theory.jacobian import dense_jacobian, running_sum_jacobian, trainable

    gen = DeepDecoder((1, 16), channels=4, layers=2, upsample="linear", seed=3).double()
    names = list(trainable(gen))
    g = {k: torch.randn_like(p, dtype=torch.float64) for k, p in trainable(gen).items()}
    jac = dense_jacobian(gen)[0]  # [16, P], parameters in named order
    flat_g = torch.cat([g[k].reshape(-1) for k in names])
    rs = running_sum_jacobian(gen, g)
    torch.testing.assert_close(rs, torch.cumsum(jac, dim=0) + flat_g, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(rs, jac)  # it is not the Jacobian
    assert all(p.grad is None for p in gen.parameters())  # the module is left as it was
