"""fastMRI's layout: the ISMRMRD header, test files' mask and attributes, the scores its
evaluation computes, and the reconstruction file a submission holds."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from untrained_cs.io.writers import write_reconstruction
from untrained_cs.metrics import volume_scores
from untrained_cs.mri import fft2c
from untrained_cs.mri.data import read_fastmri
from untrained_cs.mri.fastmri import parse_header


def header_xml(encoded=(64, 40), recon=(32, 32), centre=18, maximum=35) -> bytes:
    """An ISMRMRD header as fastMRI files carry it (namespace, encoding section)."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
 <encoding>
  <encodedSpace><matrixSize><x>{encoded[0]}</x><y>{encoded[1]}</y><z>1</z></matrixSize>
  </encodedSpace>
  <reconSpace><matrixSize><x>{recon[0]}</x><y>{recon[1]}</y><z>1</z></matrixSize></reconSpace>
  <encodingLimits>
   <kspace_encoding_step_1><minimum>0</minimum><maximum>{maximum}</maximum>
    <center>{centre}</center></kspace_encoding_step_1>
  </encodingLimits>
 </encoding>
</ismrmrdHeader>""".encode()


def fastmri_file(path, slices=3, coils=4, shape=(64, 40), undersampled=False, **header):
    """A multi-coil file in fastMRI's layout: complex64 kspace [slices, coils, H, W] and the
    header as a bytes dataset. A training file (default) holds fully sampled k-space; a
    test file (``undersampled``) holds k-space zero outside its mask (8 centre columns and
    every 4th), the mask as a dataset and its attributes, and no reconstruction."""
    rng = np.random.default_rng(0)
    images = rng.standard_normal((slices, coils, *shape)) + 1j * rng.standard_normal(
        (slices, coils, *shape)
    )
    kspace = fft2c(torch.from_numpy(images)).numpy().astype(np.complex64)
    mask = np.zeros(shape[1], dtype=bool)
    mask[::4] = True
    mask[shape[1] // 2 - 4 : shape[1] // 2 + 4] = True
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=kspace * mask if undersampled else kspace)
        f.create_dataset("ismrmrd_header", data=header_xml(**header))
        if undersampled:
            f.create_dataset("mask", data=mask)
            f.attrs["acceleration"] = 4
            f.attrs["num_low_frequency"] = 8
    return path


def test_header_gives_the_matrices_and_the_padding():
    h = parse_header(header_xml())
    assert h.encoded == (64, 40) and h.recon == (32, 32)
    assert h.padding == (40 // 2 - 18, 40 // 2 - 18 + 35 + 1)


def test_reader_crops_to_the_headers_recon_size_and_keeps_mask_and_attributes(tmp_path):
    data = read_fastmri(fastmri_file(tmp_path / "file.h5"), 1)
    assert data.kspace.shape == (4, 64, 40) and data.target.shape == (32, 32)
    assert data.crop == (32, 32) and not data.undersampled
    test = read_fastmri(fastmri_file(tmp_path / "test.h5", undersampled=True), 1)
    assert test.facts is not None and test.facts.acceleration == 4.0
    assert test.facts.num_low_frequency == 8 and int(test.facts.mask.sum()) == 16
    # undersampled k-space without a reconstruction has no ground truth
    assert test.undersampled and test.target is None and test.crop == (32, 32)


def test_a_test_files_own_mask_undersamples_and_it_has_no_truth(tmp_path):
    from untrained_cs.problems import MRIMeasurement, MRISignal, ProblemSpec, build

    path = str(fastmri_file(tmp_path / "test.h5", undersampled=True))
    # the spec's 8x random mask gives way to the file's (4x: 8 centre columns, every 4th)
    problem = build(ProblemSpec(MRISignal(path, 1), MRIMeasurement(8.0, model="sense")))
    mask = problem.mri.mask
    assert mask.kind == "file" and mask.sampled == 16 and mask.acceleration == 4.0
    assert mask.center_fraction == pytest.approx(8 / 40)
    assert problem.truth is None
    # the held-out candidates leave the fully sampled centre to the fit
    held = problem.holdout_candidates()[0, 0, 0]
    assert held.sum() == 16 - 8 and not held[16:24].any()


@pytest.mark.parametrize(
    "header, match",
    [({"recon": (80, 32)}, "larger than"), ({"recon": ("a", 32)}, "not a number")],
)
def test_bad_headers_are_one_line_errors(tmp_path, header, match):
    with pytest.raises(ValueError, match=match):
        read_fastmri(fastmri_file(tmp_path / "file.h5", **header))


def test_a_header_that_does_not_parse_is_refused(tmp_path):
    path = fastmri_file(tmp_path / "file.h5")
    with h5py.File(path, "a") as f:
        del f["ismrmrd_header"]
        f.create_dataset("ismrmrd_header", data=b"<ismrmrdHeader><encoding>")
    with pytest.raises(ValueError, match="does not parse"):
        read_fastmri(path)


def test_volume_scores_are_fastmris():
    rng = np.random.default_rng(1)
    target = rng.random((3, 24, 24)) * 5.0
    estimate = target + 0.1 * rng.standard_normal(target.shape)
    got = volume_scores(torch.from_numpy(estimate), torch.from_numpy(target))
    peak = target.max()
    assert got["nmse"] == pytest.approx(np.sum((estimate - target) ** 2) / np.sum(target**2))
    mse = np.mean((estimate - target) ** 2)
    assert got["psnr"] == pytest.approx(10 * np.log10(peak**2 / mse))
    per_slice = [structural_similarity(target[s], estimate[s], data_range=peak) for s in range(3)]
    assert got["ssim"] == pytest.approx(np.mean(per_slice))


def test_reconstruction_file_round_trips_in_fastmris_shape(tmp_path):
    volume = np.random.default_rng(2).random((3, 32, 32))
    path = write_reconstruction(tmp_path / "file.h5", volume)
    with h5py.File(path, "r") as f:
        out = f["reconstruction"][()]
    assert out.shape == (3, 32, 32) and out.dtype == np.float32
    assert np.allclose(out, volume.astype(np.float32))
