"""Property tests over the whole operator registry, and the operators' own guarantees."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft
import torch

from untrained_cs.operators import (
    OPERATORS,
    GaussianOperator,
    MaskOperator,
    StructuredOperator,
    dot_test,
    linearity_test,
    make_operator,
    norm_ratio,
    vjp_test,
)
from untrained_cs.operators.transforms import dct, idct

SPECS = sorted(OPERATORS)
#: every registered operator with each option set its entry asks the tests to build
CASES = [
    pytest.param(name, options, id=name + "".join(f"-{k}={v}" for k, v in options.items()))
    for name in SPECS
    for options in OPERATORS[name].test_options
]


def build(name, ratio, seed, options=None):
    spec = OPERATORS[name]
    return make_operator(name, spec.test_shape, ratio, seed, options)


@pytest.mark.parametrize("name, options", CASES)
def test_adjoint(name, options, device):
    op = build(name, 0.5, 3, options).to(device)
    assert dot_test(op, rtol=OPERATORS[name].rtol).passed


@pytest.mark.parametrize("name, options", CASES)
def test_linearity(name, options, device):
    op = build(name, 0.4, 5, options).to(device)
    assert linearity_test(op, rtol=max(OPERATORS[name].rtol, 1e-6)).passed


@pytest.mark.parametrize("name, options", CASES)
def test_autograd_vjp_equals_adjoint(name, options, device):
    op = build(name, 0.5, 7, options).to(device)
    assert vjp_test(op, rtol=max(OPERATORS[name].rtol, 1e-6)).passed


@pytest.mark.parametrize("name", [n for n in SPECS if OPERATORS[n].norm_factor is not None])
def test_norm_in_expectation(name):
    spec = OPERATORS[name]
    ratio = 0.5
    mean = norm_ratio(lambda s: spec.build(spec.test_shape, ratio, s), n_draws=400)
    assert mean == pytest.approx(spec.norm_factor(ratio), rel=0.1)


@pytest.mark.parametrize("name, options", CASES)
def test_independent_draws_batch_like_single_ones(name, options):
    spec = OPERATORS[name]
    many = build(name, 0.5, [11, 12, 13], options)
    x = torch.randn(3, *spec.test_shape)
    y = many(x)
    for b, s in enumerate([11, 12, 13]):
        single = build(name, 0.5, s, options)
        torch.testing.assert_close(y[b : b + 1], single(x[b : b + 1]))


def test_shape_mismatch_names_operator_and_shapes():
    op = GaussianOperator((1, 8, 8), 16)
    with pytest.raises(
        ValueError, match=r"GaussianOperator input expects \[B, 1, 8, 8\], got \[1, 1, 4, 4\]"
    ):
        op(torch.zeros(1, 1, 4, 4))


def test_bad_ratio_is_rejected():
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="ratio"):
            make_operator("gaussian", (1, 4, 4), bad)


def test_gaussian_entries_have_variance_one_over_m():
    op = GaussianOperator((1, 64, 64), 256, seed=0)
    assert op.matrix.var().item() == pytest.approx(1 / 256, rel=0.02)


def test_gaussian_bf16_stores_half_and_tracks_fp32():
    a32 = GaussianOperator((1, 32, 32), 200, seed=4)
    a16 = GaussianOperator((1, 32, 32), 200, seed=4, dtype=torch.bfloat16)
    assert a16.matrix.element_size() == 2
    x = torch.rand(1, 1, 32, 32)
    rel = (a16(x) - a32(x)).norm() / a32(x).norm()
    assert rel < 1e-2 and a16(x).dtype == torch.float32


def test_dct_matches_scipy_and_inverts():
    for n in (1, 2, 7, 16, 33):
        x = torch.randn(3, n, dtype=torch.float64)
        ref = scipy.fft.dct(x.numpy(), norm="ortho", axis=-1)
        np.testing.assert_allclose(dct(x).numpy(), ref, atol=1e-12)
        torch.testing.assert_close(idct(dct(x)), x)


def test_structured_is_linear_memory_and_handles_large_images():
    op = StructuredOperator((1, 512, 512), 512 * 512 // 8, seed=0)
    stored = sum(b.numel() for b in op.buffers())
    assert stored <= 2 * op.n  # O(n): signs and row indices only
    x = torch.rand(1, 1, 512, 512)
    y = op(x)
    assert y.shape == (1, op.m)
    # orthonormal rows: A A^T = (n/m) I on the kept rows, so A^T A x has the energy of y
    assert op.adjoint(y).norm().item() ** 2 == pytest.approx(
        y.norm().item() ** 2 * op.n / op.m, rel=1e-4
    )


def test_structured_draws_can_be_selected_for_a_shrinking_batch():
    many = StructuredOperator((1, 6, 5), 12, seed=[4, 5, 6])
    x = torch.randn(2, 1, 6, 5)
    y = many.select([2, 0])(x)  # draw 2 measures x[0], draw 0 measures x[1]
    torch.testing.assert_close(y[:1], StructuredOperator((1, 6, 5), 12, seed=6)(x[:1]))
    torch.testing.assert_close(y[1:], StructuredOperator((1, 6, 5), 12, seed=4)(x[1:]))
    single = StructuredOperator((1, 6, 5), 12, seed=4)
    assert single.select([0, 1]) is single


def test_mask_keeps_fraction_and_zero_fills():
    op = MaskOperator((1, 10, 10), 0.3, seed=2)
    assert op.m == 30
    x = torch.rand(1, 1, 10, 10)
    back = op.adjoint(op(x))
    mask = torch.zeros(op.n).index_fill(0, op.kept[0], 1.0).reshape(1, *op.in_shape)
    torch.testing.assert_close(back, x * mask)
    assert int(mask.sum()) == 30


def test_gaussian_rows_pad_smaller_draws_with_zero_rows():
    padded = GaussianOperator((1, 6, 6), 20, seed=[3, 4], rows=[12, 20])
    x = torch.randn(2, 1, 6, 6)
    y = padded(x)
    small = GaussianOperator((1, 6, 6), 12, seed=3)
    torch.testing.assert_close(y[0, :12], small(x[:1])[0])
    assert torch.equal(y[0, 12:], torch.zeros(8))
    torch.testing.assert_close(y[1], GaussianOperator((1, 6, 6), 20, seed=4)(x[1:])[0])
    with pytest.raises(ValueError, match="rows"):
        GaussianOperator((1, 6, 6), 20, seed=[3, 4], rows=[25, 2])


def test_batched_gaussian_adjoint_and_vjp():
    """Independent draws run through one batched product (row vector times matrix)."""
    op = GaussianOperator((1, 5, 7), 9, seed=[1, 2, 3], dtype=torch.float64)
    assert dot_test(op, rtol=1e-12).passed
    assert vjp_test(op, rtol=1e-12).passed
    x = torch.randn(3, 1, 5, 7, dtype=torch.float64)
    ref = torch.stack([op.matrix[b] @ x[b].reshape(-1) for b in range(3)])
    torch.testing.assert_close(op(x), ref)
