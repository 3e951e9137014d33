"""MRI data: the default slice, simulation with noise, and the fastMRI .h5 reader."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch

from untrained_cs.mri import fft2c, ifft2c, rss, simulated_maps
from untrained_cs.mri.data import center_crop, default_image, read_fastmri, simulate
from untrained_cs.mri.operators import MultiCoilMRI


def _kspace(shape, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return fft2c(torch.from_numpy(image)).numpy().astype(np.complex64)


def _write(path, kspace=None, **datasets):
    with h5py.File(path, "w") as f:
        if kspace is not None:
            f.create_dataset("kspace", data=kspace)
        for name, data in datasets.items():
            f.create_dataset(name, data=data)
    return path


def test_default_image_is_the_dipy_slice_and_resamples():
    image = default_image()
    assert image.shape == (256, 256) and image.dtype == torch.float64
    assert float(image.min()) >= 0 and float(image.max()) == pytest.approx(1.0)
    assert default_image(64).shape == (64, 64)


def test_simulate_recovers_the_image_and_adds_noise_at_the_snr():
    image = default_image(32)
    clean = simulate(image, coils=4)
    assert clean.kspace.shape == (4, 32, 32) and clean.real and clean.noise_std == 0
    torch.testing.assert_close(rss(ifft2c(clean.kspace)), image.float(), atol=1e-5, rtol=0)
    noisy = simulate(image, coils=4, snr_db=20.0, seed=1)
    noise = noisy.kspace - clean.kspace
    power = clean.kspace.abs().square().mean()
    snr = 10 * torch.log10(power / noise.abs().square().mean())
    assert float(snr) == pytest.approx(20.0, abs=0.3)
    torch.testing.assert_close(simulate(image, 4, 20.0, seed=1).kspace, noisy.kspace)


def test_reader_multicoil_with_rss_target(tmp_path):
    k = _kspace((3, 4, 24, 20))
    target = np.random.default_rng(1).random((3, 16, 16)).astype(np.float32)
    path = _write(tmp_path / "multi.h5", k, reconstruction_rss=target)
    data = read_fastmri(path, slice_index=2)
    assert data.kspace.shape == (4, 24, 20) and data.slice_index == 2 and data.maps is None
    np.testing.assert_array_equal(data.kspace.numpy(), k[2])
    np.testing.assert_array_equal(data.target.numpy(), target[2])
    assert read_fastmri(path).slice_index == 1  # the middle slice by default


def test_reader_singlecoil_with_esc_target_and_without_target(tmp_path):
    k = _kspace((2, 12, 10))
    path = _write(tmp_path / "single.h5", k, reconstruction_esc=np.ones((2, 8, 8), np.float32))
    data = read_fastmri(path, 0)
    assert data.kspace.shape == (1, 12, 10) and data.coils == 1
    assert data.target.shape == (8, 8)
    bare = read_fastmri(_write(tmp_path / "bare.h5", k), 1)  # RSS of the full k-space
    expected = rss(ifft2c(torch.from_numpy(k[1])[None]))
    torch.testing.assert_close(bare.target, expected.float(), atol=1e-5, rtol=1e-5)


def test_center_crop_is_fastmri_like():
    x = torch.arange(640 * 368).reshape(640, 368)
    c = center_crop(x, (320, 320))
    assert c.shape == (320, 320) and int(c[0, 0]) == 160 * 368 + 24
    assert center_crop(torch.zeros(10, 12), (320, 320)).shape == (10, 12)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: p / "missing.h5", "does not exist"),
        (lambda p: _text(p / "text.h5"), "cannot read"),
        (lambda p: _write(p / "nok.h5", None, other=np.zeros(3)), "no 'kspace'"),
        (lambda p: _write(p / "dims.h5", np.zeros((4, 4), np.complex64)), r"\[slices, H, W\]"),
        (lambda p: _write(p / "nan.h5", _nan()), "NaN or inf"),
    ],
)
def test_reader_rejects_bad_files(tmp_path, make, match):
    with pytest.raises(ValueError, match=match):
        read_fastmri(make(tmp_path), 0)


def test_reader_rejects_a_slice_out_of_range(tmp_path):
    path = _write(tmp_path / "k.h5", _kspace((2, 8, 8)))
    for bad in (2, -1):
        with pytest.raises(ValueError, match="out of range"):
            read_fastmri(path, bad)


def test_maps_of_the_wrong_shape_are_rejected():
    maps = simulated_maps(3, 8, 8)
    with pytest.raises(ValueError, match=r"sensitivity maps have shape \[3, 8, 8\]"):
        MultiCoilMRI((1, 8, 10), maps, torch.ones(10))
    with pytest.raises(ValueError, match="sensitivity maps"):
        simulate(torch.rand(8, 10), maps=maps)


def test_a_mask_with_no_line_is_rejected():
    with pytest.raises(ValueError, match="no k-space line"):
        MultiCoilMRI((1, 8, 8), simulated_maps(2, 8, 8), torch.zeros(8))


def _text(path):
    path.write_text("not hdf5")
    return path


def _nan() -> np.ndarray:
    k = _kspace((2, 8, 8))
    k[0, 3, 3] = np.nan
    return k
