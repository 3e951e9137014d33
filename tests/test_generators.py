"""Generator shapes, parameter counts, seeding, batching and torch.func compatibility."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call, stack_module_state, vmap

from untrained_cs.generators import (
    DeepDecoder,
    DeepImagePrior,
    LinearGenerator,
    TwoLayerGenerator,
    make_kernel,
    size_schedule,
)
from untrained_cs.generators.layers import (
    channel_norm,
    interpolation_matrix,
    resize_separable,
    upsample,
)


@pytest.mark.parametrize("shape", [(1, 64, 64), (3, 37, 53), (1, 320, 320), (1, 256), (2, 100)])
def test_deep_decoder_output_shapes(shape):
    g = DeepDecoder(shape, channels=8, layers=4 if len(shape) == 3 else 3)
    out = g()
    assert out.shape == (1, *shape)
    assert out.min() >= 0 and out.max() <= 1  # sigmoid output


def test_size_schedule_doubles_or_grows_geometrically():
    assert size_schedule((64, 64), 5) == [(4, 4), (8, 8), (16, 16), (32, 32), (64, 64)]
    sizes = size_schedule((37, 53), 5)
    assert sizes[-1] == (37, 53)
    assert all(
        a <= b
        for s, t in zip(sizes[:-1], sizes[1:], strict=True)
        for a, b in zip(s, t, strict=True)
    )


def test_deep_decoder_too_small_output_is_rejected():
    with pytest.raises(ValueError, match="at least 32 per dimension"):
        DeepDecoder((1, 16, 16), layers=5)


def test_volume_deep_decoder_grows_few_slices_geometrically_and_trilinearly():
    g = DeepDecoder((1, 10, 64, 64), channels=8, layers=5, seed=[0, 1])
    assert g.sizes == [(2, 4, 4), (3, 8, 8), (4, 16, 16), (7, 32, 32), (10, 64, 64)]
    out = g()
    assert out.shape == (2, 1, 10, 64, 64) and out.min() >= 0 and out.max() <= 1
    assert g.num_parameters() == DeepDecoder((1, 64, 64), channels=8, layers=5).num_parameters()
    # the per-axis matrix resize of the CPU path is trilinear interpolation
    x = torch.randn(2, 3, 3, 8, 8)
    mats = [interpolation_matrix(a, b, "bilinear").T for a, b in ((3, 5), (8, 16), (8, 16))]
    torch.testing.assert_close(resize_separable(x, mats), upsample(x, (5, 16, 16), "bilinear"))
    with pytest.raises(ValueError, match="at least 32 per in-plane dimension"):
        DeepDecoder((1, 10, 16, 16), layers=5)


def test_deep_decoder_parameter_count():
    k, d, c = 64, 5, 1
    g = DeepDecoder((c, 64, 64), channels=k, layers=d)
    assert g.num_parameters() == d * k * k + c * k + 2 * d * k
    g = DeepDecoder((c, 64, 64), channels=[8, 16, 16, 32, 32], layers=5, affine=False)
    assert g.num_parameters() == 8 * 16 + 16 * 16 + 16 * 32 + 32 * 32 + 32 * 32 + 32


def test_fixed_kernel_variant_with_fixed_output_combination():
    g = DeepDecoder(
        (1, 512), channels=16, layers=4, upsample="fixed", kernel=("triangular", 4.0), head="fixed"
    )
    out = g()
    assert out.shape == (1, 1, 512)
    assert g.num_parameters() == 4 * 16 * 16 + 2 * 3 * 16  # no head weights, 3 normed layers


def test_members_equal_single_generators():
    many = DeepDecoder((1, 32, 32), channels=8, layers=3, seed=[5, 6, 7])
    for b, s in enumerate([5, 6, 7]):
        single = DeepDecoder((1, 32, 32), channels=8, layers=3, seed=s)
        torch.testing.assert_close(many()[b : b + 1], single())


def test_seeded_and_distinct():
    a, b = DeepDecoder((1, 32, 32), 8, 3, seed=1), DeepDecoder((1, 32, 32), 8, 3, seed=1)
    c = DeepDecoder((1, 32, 32), 8, 3, seed=2)
    assert torch.equal(a(), b())
    assert not torch.allclose(a(), c())


def _vmap_matches(make):
    models = [make(s) for s in range(3)]
    params, buffers = stack_module_state(models)
    base = make(0)
    out = vmap(lambda p, b: functional_call(base, (p, b), ()))(params, buffers)
    for i, m in enumerate(models):
        torch.testing.assert_close(out[i], m(), atol=1e-4, rtol=1e-4)


def test_vmap_functional_call_deep_decoder():
    _vmap_matches(lambda s: DeepDecoder((1, 32, 32), channels=8, layers=3, seed=s))


def test_vmap_functional_call_two_layer_and_dip():
    _vmap_matches(lambda s: TwoLayerGenerator((1, 64), channels=16, seed=s))
    _vmap_matches(lambda s: DeepImagePrior((1, 33, 33), seed=s))


def test_two_layer_matches_dense_circulant_formula():
    n, k = 24, 6
    g = TwoLayerGenerator((1, n), channels=k, kernel=("gaussian", 2.0), seed=3)
    u = g.kernel
    U = torch.stack([torch.roll(u, i) for i in range(n)], dim=1)  # U[:, i] = u shifted by i
    C = g.weight.detach()[0].double().T  # [n, k]
    v = g.v.double()
    ref = torch.relu(U @ C) @ v
    torch.testing.assert_close(g()[0, 0].double(), ref, atol=1e-5, rtol=1e-5)


def test_two_layer_2d_and_theorem3_init():
    g = TwoLayerGenerator((1, 16, 16), channels=8, kernel=("triangular", 3.0))
    assert g().shape == (1, 1, 16, 16)
    y = torch.randn(1, 40) * 3
    g.prepare(y, None)
    assert g.weight.std().item() == pytest.approx(g.theorem3_scale(y).item(), rel=1e-5)


def test_linear_generator_and_dip_shapes():
    J = torch.randn(10, 40)
    g = LinearGenerator(J, batch=2)
    assert g().shape == (2, 1, 10) and g.num_parameters() == 40
    assert DeepImagePrior((1, 40, 40))().shape == (1, 1, 40, 40)
    with pytest.raises(ValueError, match="at least 33"):
        DeepImagePrior((1, 32, 32))


def test_kernels_unit_norm_and_symmetric():
    for kind in ("triangular", "gaussian"):
        u = make_kernel(kind, 30, 4.0)
        assert u.norm().item() == pytest.approx(1.0)
        torch.testing.assert_close(u[1:], u[1:].flip(0))
        assert make_kernel(kind, (8, 10), 2.0).shape == (8, 10)


def test_channel_norm_matches_formula_and_derivatives():
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = (x - mean).pow(2).mean(dim=(2, 3), keepdim=True)
    ref = (x - mean) / torch.sqrt(var + 1e-5) * w[..., None, None] + b[..., None, None]
    torch.testing.assert_close(channel_norm(x, w, b), ref)
    assert torch.autograd.gradcheck(channel_norm, (x, w, b))
    assert torch.autograd.gradcheck(
        channel_norm,
        (x, w, b),
        check_forward_ad=True,
        check_backward_ad=False,
        check_undefined_grad=False,
        check_batched_grad=False,
    )


@pytest.mark.parametrize("spatial", [(24,), (6, 10)])
def test_circular_convolution_adjoint_path_matches_autograd_path(spatial):
    """The written-out adjoint (used on large tensors) against autograd through the FFTs:
    values, VJP, JVP, second derivatives and vmap, on a non-symmetric kernel."""
    from torch.func import jvp, vjp

    from untrained_cs.generators.layers import _CircularConvolution, _spectral_multiply

    dims = tuple(range(len(spatial)))
    kernel_fft = torch.fft.rfftn(torch.randn(spatial, dtype=torch.float64), dim=dims)
    x = torch.randn(3, 4, *spatial, dtype=torch.float64, requires_grad=True)
    t = torch.randn_like(x)

    def fast(z):
        return _CircularConvolution.apply(z, kernel_fft)

    def plain(z):
        return _spectral_multiply(z, kernel_fft)

    torch.testing.assert_close(fast(x), plain(x))
    torch.testing.assert_close(vjp(fast, x)[1](t)[0], vjp(plain, x)[1](t)[0])
    torch.testing.assert_close(jvp(fast, (x,), (t,))[1], jvp(plain, (x,), (t,))[1])
    torch.testing.assert_close(vmap(fast)(x[None].expand(2, *x.shape))[1], plain(x))
    assert torch.autograd.gradcheck(fast, (x,))
    assert torch.autograd.gradgradcheck(fast, (x,))


def test_circular_convolve_dispatches_to_the_adjoint_path_on_large_tensors():
    from untrained_cs.generators import layers

    n = layers.ADJOINT_CONVOLVE_MIN // 64
    kernel_fft = torch.fft.rfft(make_kernel("triangular", (n,), 8.0).double())
    x = torch.randn(1, 64, n, dtype=torch.float64, requires_grad=True)
    out = layers.circular_convolve(x, kernel_fft)
    assert type(out.grad_fn).__name__ == "_CircularConvolutionBackward"
    small = layers.circular_convolve(x[:, :8], kernel_fft)
    assert type(small.grad_fn).__name__ != "_CircularConvolutionBackward"
    (grad,) = torch.autograd.grad(out[:, :8].sum(), x)
    (ref,) = torch.autograd.grad(small.sum(), x)
    torch.testing.assert_close(grad, ref)


def test_two_layer_dense_circulant_equals_the_fft_convolution():
    from untrained_cs.generators.layers import circular_convolve, combine_channels
    from untrained_cs.generators.two_layer import DENSE_MAX_N, TwoLayerGenerator

    short = TwoLayerGenerator((1, DENSE_MAX_N), channels=16, seed=[0, 1])
    assert short.circulant_t is not None
    fft = combine_channels(torch.relu(circular_convolve(short.weight, short.kernel_fft)), short.v)
    assert torch.allclose(short(), fft, atol=1e-5)
    assert TwoLayerGenerator((1, 2 * DENSE_MAX_N), channels=16).circulant_t is None
