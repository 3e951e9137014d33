"""ESPIRiT coil maps: close to the true maps, from the centre alone, and SENSE on files."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from untrained_cs.mri import espirit_maps, fft2c, map_error, simulated_maps
from untrained_cs.mri.data import default_image, simulate
from untrained_cs.mri.masks import center_columns
from untrained_cs.mri.problem import make_problem


@pytest.fixture(scope="module")
def slice64():
    image = default_image(64).to(torch.complex128)
    maps = simulated_maps(8, 64, 64).to(torch.complex128)
    kspace = fft2c(maps * image[None]).to(torch.complex64)
    return image, maps, kspace, image.abs() > 0.1 * image.abs().max()


def test_maps_from_full_calibration_match_the_true_ones(slice64):
    image, truth, kspace, where = slice64
    maps, values = espirit_maps(kspace)
    assert map_error(maps, truth, where) < 0.02
    assert float(values[where].min()) > 0.95  # signal: eigenvalue ≈ 1
    combined = (maps.conj() * truth * image[None]).sum(0)  # the image the maps see
    assert float(combined.imag[where].abs().mean()) < 0.05 * float(combined.real[where].mean())


def test_maps_from_the_centre_of_undersampled_kspace(slice64):
    image, truth, kspace, where = slice64
    columns = center_columns(64, 6 / 64)  # the six centre columns the masks keep, only
    assert int(columns.sum()) == 6
    maps, _ = espirit_maps(kspace * columns, center_columns=6)
    full, _ = espirit_maps(kspace, center_columns=6)
    assert torch.equal(maps, full)  # only the centre is read
    assert map_error(maps, truth, where) < 0.1


def test_bad_inputs_are_refused(slice64):
    _, _, kspace, _ = slice64
    with pytest.raises(ValueError, match="one coil"):
        espirit_maps(kspace[:1])
    with pytest.raises(ValueError, match="too few"):
        espirit_maps(kspace, center_columns=2)
    with pytest.raises(ValueError, match="complex"):
        espirit_maps(kspace.real)


def test_sense_on_data_without_maps_estimates_them():
    data = simulate(default_image(64), 8, None, seed=0)
    known = make_problem(data, 4.0, None, "random", 1, "sense")
    estimated = make_problem(dataclasses.replace(data, maps=None), 4.0, None, "random", 1, "sense")
    assert estimated.model == "sense"
    maps = estimated.operator.maps
    where = data.target > 0.1 * data.target.max()
    assert map_error(maps, data.maps, where) < 0.1
    assert torch.equal(estimated.y, known.y)
    single = dataclasses.replace(data, maps=None, kspace=data.kspace[:1])
    with pytest.raises(ValueError, match="one coil"):
        make_problem(single, 4.0, None, "random", 1, "sense")


def test_the_pixel_gram_through_k_space_equals_the_sum_over_image_space_kernels():
    from untrained_cs.mri.espirit import pixel_gram
    from untrained_cs.mri.fft import ifft2c

    gen = torch.Generator().manual_seed(0)
    kernels = torch.randn(5, 3, 4, 3, dtype=torch.complex128, generator=gen)
    h, w = 12, 10
    padded = torch.zeros(5, 3, h, w, dtype=torch.complex128)
    padded[..., h // 2 - 2 : h // 2 + 2, w // 2 - 1 : w // 2 + 2] = kernels
    g = ifft2c(padded) * (h * w / 12) ** 0.5
    direct = torch.einsum("jcyx,jdyx->yxcd", g, g.conj())
    assert torch.allclose(pixel_gram(kernels, h, w).to(torch.complex128), direct, atol=1e-5)


def test_power_iteration_finds_the_top_eigenpair_of_every_pixel():
    from untrained_cs.mri.espirit import top_eigenpairs

    gen = torch.Generator().manual_seed(1)
    q, _ = torch.linalg.qr(torch.randn(50, 6, 6, dtype=torch.complex128, generator=gen))
    values = torch.tensor([1.0, 0.3, 0.2, 0.1, 0.05, 0.0], dtype=torch.float64)
    gram = q @ torch.diag_embed(values.to(q.dtype)) @ q.mH
    start = torch.randn(50, 6, dtype=torch.complex128, generator=gen)
    top, vectors = top_eigenpairs(gram, start)
    assert torch.allclose(top, torch.ones(50, dtype=torch.float64), atol=1e-10)
    overlap = (vectors.conj() * q[..., 0]).sum(-1).abs()  # one phase per pixel is free
    assert torch.allclose(overlap, torch.ones(50, dtype=torch.float64), atol=1e-10)
