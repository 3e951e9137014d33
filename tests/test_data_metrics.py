"""Image loading (bundled names and files) and the metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.io import imsave

from untrained_cs.io.images import center_crop, load_image
from untrained_cs.metrics import mse, nmse, psnr, ssim


@pytest.mark.parametrize(
    "name", ["camera", "grass", "brick", "gravel", "moon", "coins", "shepp_logan", "astronaut"]
)
def test_bundled_images_load_in_unit_range(name):
    x = load_image(name, 32)
    assert x.shape == (1, 32, 32) and x.dtype == torch.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.01


def test_files_png_and_npy(tmp_path):
    img = (np.linspace(0, 255, 40 * 60).reshape(40, 60)).astype(np.uint8)
    imsave(tmp_path / "a.png", img)
    np.save(tmp_path / "b.npy", img.astype(np.float64) * 3.0)
    png = load_image(str(tmp_path / "a.png"), (20, 30))
    npy = load_image(str(tmp_path / "b.npy"), (20, 30))
    assert png.shape == npy.shape == (1, 20, 30)
    torch.testing.assert_close(png, npy, atol=2e-3, rtol=0)  # same image, scaled either way
    assert load_image(str(tmp_path / "a.png"), None).shape == (1, 40, 60)


def test_missing_and_unreadable_files_say_so(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_image(str(tmp_path / "nope.png"))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(ValueError, match="could not be read"):
        load_image(str(bad))


def test_center_crop_keeps_middle():
    a = np.arange(6 * 10).reshape(6, 10)
    c = center_crop(a, 1.0)
    assert c.shape == (6, 6) and c[0, 0] == 2


def test_metrics_values():
    x = torch.full((1, 1, 8, 8), 0.5)
    e = x + 0.1
    assert mse(e, x).item() == pytest.approx(0.01)
    assert psnr(e, x).item() == pytest.approx(20.0)
    assert nmse(e, x).item() == pytest.approx(0.01 / 0.25)
    img = load_image("camera", 32)
    assert ssim(img, img) == pytest.approx(1.0)
    assert ssim(img + 0.2 * torch.rand_like(img), img) < 0.9


def test_problem_noise_is_seeded_and_complex_for_complex_measurements():
    from untrained_cs.problems import CSMeasurement, ImageSignal, ProblemSpec, build

    def make(noise_std: float):
        spec = ProblemSpec(
            ImageSignal("camera", 16), CSMeasurement("structured-fft", 0.5, noise_std=noise_std), 3
        )
        return build(spec)

    clean, noisy, again = make(0.0), make(0.1), make(0.1)
    noise = noisy.y - clean.y
    assert torch.equal(noisy.y, again.y)
    assert noise.is_complex() and noise.imag.abs().sum() > 0
    assert noise.abs().pow(2).mean().item() == pytest.approx(0.01, rel=0.25)
