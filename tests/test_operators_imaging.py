"""The imaging operators (identity, downsampling, blur): what each computes, checked against
independent implementations, and their one-line errors. Adjointness, linearity and the VJP
are checked for every registered operator in test_operators.py."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal
import torch
from PIL import Image

from untrained_cs.operators import make_operator
from untrained_cs.operators.blur import BlurOperator, gaussian_kernel
from untrained_cs.operators.registry import parse_operator
from untrained_cs.operators.resample import DownsampleOperator, resampling_matrix


def test_identity_observes_the_signal():
    op = make_operator("identity", (3, 5, 4))
    x = torch.rand(2, 3, 5, 4)
    assert op.m == op.n == 60 and torch.equal(op(x), x) and torch.equal(op.adjoint(x), x)


@pytest.mark.parametrize("factor", [2, 4])
def test_downsampling_matches_pil_box_and_bicubic(factor):
    """Box: PIL's BOX everywhere; bicubic: PIL's anti-aliased BICUBIC away from the edges
    (PIL shortens its kernel at the edge, this operator mirrors the signal there)."""
    x = np.random.default_rng(0).random((32, 48)).astype(np.float32)
    size = (48 // factor, 32 // factor)
    for kernel, pil, margin in (("box", Image.BOX, 0), ("bicubic", Image.BICUBIC, 2)):
        ours = DownsampleOperator((1, 32, 48), factor, kernel)(torch.from_numpy(x)[None, None])
        ref = np.asarray(Image.fromarray(x, mode="F").resize(size, pil))
        inner = (slice(margin, ref.shape[0] - margin), slice(margin, ref.shape[1] - margin))
        np.testing.assert_allclose(ours[0, 0].numpy()[inner], ref[inner], atol=1e-6)


def test_downsampling_keeps_constants_and_works_on_volumes_and_colour():
    for kernel in ("box", "bicubic"):
        assert torch.allclose(
            resampling_matrix(12, 3, kernel).sum(1), torch.ones(4, dtype=torch.float64)
        )
    op = make_operator("downsample", (3, 8, 12, 16), options={"factor": 4, "kernel": "bicubic"})
    assert op.out_shape == (3, 2, 3, 4)
    y = op(torch.full((1, 3, 8, 12, 16), 0.7))
    torch.testing.assert_close(y, torch.full_like(y, 0.7))


def test_blur_matches_scipy_for_both_boundaries():
    x = np.random.default_rng(1).random((2, 20, 17))
    k = gaussian_kernel(1.2, 2).numpy()
    circ = BlurOperator((2, 20, 17), sigma=1.2)(torch.from_numpy(x)[None])[0].numpy()
    valid = BlurOperator((2, 20, 17), sigma=1.2, boundary="valid")(torch.from_numpy(x)[None])[0]
    for c in range(2):
        ref = scipy.ndimage.convolve(x[c], k, mode="wrap")
        np.testing.assert_allclose(circ[c], ref, atol=1e-12)
        ref_valid = scipy.signal.convolve(x[c], k, mode="valid")
        np.testing.assert_allclose(valid[c].numpy(), ref_valid, atol=1e-12)


def test_blur_with_an_asymmetric_kernel_is_a_convolution():
    """A given kernel (not symmetric) is convolved, not correlated, in both boundaries."""
    kernel = torch.tensor([[0.0, 1.0, 2.0], [0.5, 0.0, 0.0]], dtype=torch.float64)
    x = torch.rand(1, 1, 9, 8, dtype=torch.float64)
    circ = BlurOperator((1, 9, 8), kernel=kernel)(x)[0, 0].numpy()
    valid = BlurOperator((1, 9, 8), kernel=kernel, boundary="valid")(x)[0, 0].numpy()
    np.testing.assert_allclose(
        valid, scipy.signal.convolve(x[0, 0].numpy(), kernel.numpy(), "valid")
    )
    # scipy.ndimage.convolve centres the kernel at its middle index, as the circular blur does
    np.testing.assert_allclose(
        circ, scipy.ndimage.convolve(x[0, 0].numpy(), kernel.numpy(), mode="wrap")
    )


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda: DownsampleOperator((1, 30, 32), 4),
            r"factor 4 does not divide the size \[1, 30, 32\]",
        ),
        (
            lambda: BlurOperator((1, 8, 8), torch.ones(9, 9)),
            r"kernel \[9, 9\] is larger than the signal",
        ),
        (lambda: BlurOperator((1, 8, 8), boundary="reflect"), "boundary must be one of"),
        (lambda: BlurOperator((1, 8, 8), torch.ones(3)), "kernel has 1 axes but the signal has 2"),
        (lambda: parse_operator("downsample:factor=2.5"), "factor must be an integer, got .2.5."),
        (lambda: parse_operator("downsample:kernel=lanczos"), "kernel must be one of box, bicubic"),
        (lambda: parse_operator("blur:width=3"), "has no option width"),
        (lambda: parse_operator("blur:sigma"), "not of the form key=value"),
        (lambda: parse_operator("sharpen"), "unknown operator 'sharpen'"),
    ],
)
def test_bad_operator_settings_are_one_line_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_operator_text_names_options():
    assert parse_operator("downsample:factor=4, kernel=bicubic") == (
        "downsample",
        {"factor": 4, "kernel": "bicubic"},
    )
    assert parse_operator("blur") == ("blur", {"sigma": 1.5, "boundary": "circular"})
    assert parse_operator("gaussian") == ("gaussian", {})


def test_a_colour_mask_hides_whole_pixels():
    """Every channel is observed at the same positions; grey masks are as before."""
    op = make_operator("mask", (3, 6, 5), 0.4, seed=1)
    x = torch.rand(1, 3, 6, 5)
    seen = op.adjoint(op(x))[0] != 0
    assert op.m == 3 * 12 and torch.equal(seen[0], seen[1]) and torch.equal(seen[0], seen[2])
    grey = make_operator("mask", (1, 6, 5), 0.4, seed=1)
    assert grey.m == 12 and torch.equal(grey.kept[0], op.kept[0, :12])
