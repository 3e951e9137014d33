"""Volumes end to end: the spec, the problem, the slice operator, `untrained-cs volume`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from untrained_cs.cli import main
from untrained_cs.io.volumes import read_nifti, write_nifti
from untrained_cs.operators import make_operator
from untrained_cs.plots.volume import shown_slices
from untrained_cs.problems import (
    CSMeasurement,
    MRIMeasurement,
    ProblemSpec,
    VolumeProblem,
    VolumeSignal,
    build,
    spec_hash,
)

SHAPE = (4, 16, 16)  # D, H, W
TINY = ["--size", "native", "--layers", "3", "--channels", "8", "--threads", "1", "--quiet"]


def blob(shape: tuple[int, int, int] = SHAPE) -> np.ndarray:
    """A smooth volume [D, H, W]: a Gaussian blob that brightens from slice to slice."""
    z, y, x = np.mgrid[0 : shape[0], 0 : shape[1], 0 : shape[2]]
    h, w = shape[1] / 2, shape[2] / 2
    return (np.exp(-((y - h) ** 2 + (x - w) ** 2) / 30.0) * (1 + 0.2 * z)).astype(np.float32)


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.npy"
    np.save(path, blob())
    return path


def one_line_error(capsys, code: int) -> str:
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    return err


def test_volume_spec_round_trips_and_hashes_stably():
    spec = ProblemSpec(VolumeSignal(), CSMeasurement("structured"), seed=3)
    d = json.loads(json.dumps(spec.to_dict()))
    assert d["signal"] == {"kind": "volume", "volume": "brain", "size": 64, "percentile": 99.9}
    assert ProblemSpec.from_dict(d) == spec
    assert spec_hash(ProblemSpec.from_dict(d)) == spec_hash(spec) == "6b32c42406da53f2"
    wide = spec.replace(**{"signal.size": [32, 48]})
    assert wide.signal.size == (32, 48) and ProblemSpec.from_dict(wide.to_dict()) == wide
    assert spec.replace(**{"signal.size": [32, 32]}).signal.size == 32
    with pytest.raises(ValueError, match="percentile"):
        VolumeSignal(percentile=20)
    with pytest.raises(ValueError, match="cannot be measured"):
        ProblemSpec(VolumeSignal(), MRIMeasurement())


def test_volume_problem_is_scaled_and_measured_from_its_seed(tiny):
    spec = ProblemSpec(VolumeSignal(str(tiny), None, 100.0), CSMeasurement("structured", 0.5))
    problem = build(spec)
    assert isinstance(problem, VolumeProblem) and problem.kind == "volume"
    assert problem.truth.shape == (1, *SHAPE) and float(problem.truth.max()) == 1.0
    np.testing.assert_allclose(problem.truth[0].numpy(), blob() / blob().max(), rtol=1e-6)
    assert problem.peak == pytest.approx(float(blob().max())) and problem.affine is None
    assert problem.m == np.prod(SHAPE) // 2 and not problem.signed_output
    torch.testing.assert_close(problem.y, problem.operator(problem.truth[None]))
    assert torch.equal(build(spec).y, problem.y)  # the same draws from the same root seed


def test_slice_operator_measures_each_slice_like_its_2d_draw():
    op = make_operator("structured-slices", (1, *SHAPE), 0.25, seed=5)
    x = torch.rand(1, 1, *SHAPE)
    y = op(x)
    assert y.shape == (1, SHAPE[0] * 64)  # m_slice = 256 / 4 per slice
    per_slice = op.per_slice()(x[0].movedim(1, 0))  # slices as the 2D draws' batch
    torch.testing.assert_close(per_slice.reshape(1, -1), y)


def test_volume_command_writes_the_estimate_and_the_montage(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["volume", "--volume", str(tiny), *TINY, "--max-iters", "300", "--out", str(out),
                 "--json"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    metrics = json.loads(capsys.readouterr().out)
    estimate = np.load(out / "estimate.npy")
    assert estimate.shape == (1, *SHAPE) and estimate.dtype == np.float32
    assert metrics["volume_shape"] == list(SHAPE) and metrics["psnr"] > 20.0
    written = json.loads((out / "metrics.json").read_text())["files"]["estimate"]
    assert written == ["estimate.npy", "estimate.nii.gz"]
    back, affine = read_nifti(out / "estimate.nii.gz")  # (x, y, z): the slices last
    np.testing.assert_allclose(np.moveaxis(back, 2, 0), estimate[0], atol=1e-6)
    np.testing.assert_array_equal(affine, np.eye(4))  # an array file has no affine
    for picture in ("comparison.png", "reconstruction.png", "truth.png", "curves.png"):
        assert (out / picture).stat().st_size > 1000


def test_a_nifti_volume_keeps_its_affine(tmp_path, capsys):
    affine = np.diag([2.0, 2.0, 5.0, 1.0])
    affine[:3, 3] = (-10.0, 4.0, 7.0)
    write_nifti(tmp_path / "in.nii.gz", blob(), affine)
    out = tmp_path / "run"
    code = main(["volume", "--volume", str(tmp_path / "in.nii.gz"), *TINY, "--max-iters", "5",
                 "--out", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    _, written = read_nifti(out / "estimate.nii.gz")
    np.testing.assert_array_equal(written, affine)


@pytest.mark.parametrize(
    "make, args, expected",
    [
        (None, [], "no such file"),
        (lambda p: np.save(p, np.ones((16, 16), np.float32)), [], "expected 3 axes"),
        (lambda p: np.save(p, np.ones((1, 16, 16), np.float32)), [], "at least 2"),
        (lambda p: np.save(p, blob()), ["--layers", "5"], "too small"),
        # a dense Gaussian matrix of 2^21 x 2^19 entries fits no machine
        (
            lambda p: np.save(p, np.zeros((8, 512, 512), np.float32)),
            ["--operator", "gaussian"],
            "--operator structured",
        ),  # fmt: skip
    ],
    ids=["missing", "2d-array", "one-slice", "too-small", "too-large"],
)
def test_bad_volumes_are_one_line_errors_that_write_nothing(tmp_path, capsys, make, args, expected):
    path = tmp_path / "vol.npy"
    if make is not None:
        make(path)
    out = tmp_path / "run"
    cmd = ["volume", "--volume", str(path), "--size", "native", "--out", str(out), "--quiet"]
    err = one_line_error(capsys, main([*cmd, "--layers", "3", *args]))
    assert expected in err
    assert not out.exists() and not out.with_name("run.partial").exists()


def test_montage_shows_evenly_spaced_slices():
    assert shown_slices(3) == [0, 1, 2]
    assert shown_slices(10) == [0, 2, 4, 7, 9]
