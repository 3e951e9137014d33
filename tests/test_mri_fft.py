"""Centred orthonormal FFT: unitary, inverse, equal to NumPy's centred FFT; RSS."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from untrained_cs.mri import fft2c, ifft2c, rss, simulated_maps


def _numpy_fft2c(x: np.ndarray) -> np.ndarray:
    axes = (-2, -1)
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x, axes=axes), norm="ortho"), axes=axes)


def test_fft2c_equals_numpy_centred_fft_even_and_odd():
    g = torch.Generator().manual_seed(0)
    for shape in ((3, 8, 6), (2, 7, 9)):
        x = torch.complex(
            torch.randn(*shape, generator=g, dtype=torch.float64),
            torch.randn(*shape, generator=g, dtype=torch.float64),
        )
        np.testing.assert_allclose(fft2c(x).numpy(), _numpy_fft2c(x.numpy()), atol=1e-12)
        np.testing.assert_allclose(
            ifft2c(x).numpy(),
            np.fft.fftshift(
                np.fft.ifft2(np.fft.ifftshift(x.numpy(), axes=(-2, -1)), norm="ortho"),
                axes=(-2, -1),
            ),
            atol=1e-12,
        )


def test_fft2c_is_unitary_and_inverted():
    x = torch.randn(2, 16, 10, dtype=torch.complex128)
    k = fft2c(x)
    assert torch.allclose(k.norm(), x.norm())
    torch.testing.assert_close(ifft2c(k), x)
    torch.testing.assert_close(fft2c(ifft2c(x)), x)
    # <F x, y> = <x, F^H y>
    y = torch.randn(2, 16, 10, dtype=torch.complex128)
    lhs = (k.conj() * y).sum()
    rhs = (x.conj() * ifft2c(y)).sum()
    torch.testing.assert_close(lhs, rhs)


def test_dc_sits_at_the_centre():
    x = torch.ones(1, 8, 6, dtype=torch.complex64)
    k = fft2c(x)
    assert k.abs().argmax().item() == 4 * 6 + 3
    assert abs(k[0, 4, 3].item() - (48**0.5)) < 1e-4


def test_simulated_maps_are_normalised_and_rss_recovers_the_image():
    maps = simulated_maps(8, 20, 24)
    assert maps.shape == (8, 20, 24) and maps.dtype == torch.complex64
    torch.testing.assert_close(maps.abs().square().sum(0), torch.ones(20, 24))
    image = torch.rand(20, 24)
    torch.testing.assert_close(rss(maps * image), image, atol=1e-5, rtol=1e-5)


def test_rss_equals_numpy_in_float64():
    g = np.random.default_rng(3)
    z = g.standard_normal((2, 4, 5, 6)) + 1j * g.standard_normal((2, 4, 5, 6))
    ref = np.sqrt((np.abs(z) ** 2).sum(axis=-3))
    np.testing.assert_allclose(rss(torch.from_numpy(z)).numpy(), ref, atol=1e-12)


def test_fastmri_real_imaginary_layout_is_refused():
    """A real [..., H, W, 2] tensor (fastMRI's layout) would be transformed over the wrong
    axes: every helper refuses it, naming the conversion."""
    pairs = torch.randn(3, 8, 6, 2)
    for fn in (fft2c, ifft2c, rss):
        with pytest.raises(ValueError, match=r"last axis is 2 .*view_as_complex"):
            fn(pairs)
    k = fft2c(torch.view_as_complex(pairs))
    assert k.shape == (3, 8, 6) and k.is_complex()
