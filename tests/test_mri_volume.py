"""MRI volumes: the slices of a fastMRI file as one batched fit, fastMRI's volume scores and
its reconstruction file."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import torch
from test_mri_fastmri import fastmri_file

from untrained_cs.cli import main
from untrained_cs.methods import GeneratorFit
from untrained_cs.pipeline import run, run_batch
from untrained_cs.problems import MRIMeasurement, MRISignal, ProblemSpec, build

FIT = ["--channels", "8", "--layers", "3", "--max-iters", "20", "--quiet"]


@pytest.mark.parametrize("model", ["2ch", "sense"])
def test_batched_slices_match_one_slice_at_a_time(tmp_path, model):
    path = str(fastmri_file(tmp_path / "file.h5", slices=3, coils=4))
    problems = [
        build(ProblemSpec(MRISignal(path, i), MRIMeasurement(4.0, model=model), 5))
        for i in range(3)
    ]
    # one output scale for the batch (a generator has one): given, so the single fits too
    scale = float(np.median([p.output_scale() for p in problems]))
    # the paper's loss: the default TV term's kink (√(|∇G|² + 1e-8)) amplifies the batch's
    # float32 rounding at flat pixels to ~1e-3 over 30 iterations; test_fit_tv_term checks
    # that its weights follow the members
    method = GeneratorFit(channels=8, layers=3, max_iters=30, output_scale=scale, tv_weight=0.0)
    batch = run_batch(problems, method, device="cpu")
    for p, rec in zip(problems, batch, strict=True):
        alone = run(p, method, device="cpu")
        assert torch.allclose(rec.estimate, alone.estimate, rtol=1e-3, atol=1e-4)
        assert rec.metrics["psnr"] == pytest.approx(alone.metrics["psnr"], abs=1e-2)


def test_cli_volume_writes_fastmris_reconstruction_and_volume_scores(tmp_path, capsys):
    path = fastmri_file(tmp_path / "file.h5", slices=3, coils=4)
    out = tmp_path / "run"
    argv = ["mri", "--kspace", str(path), "--slices", "all", "--acceleration", "4", *FIT,
            "--baselines", "zero_filled", "--json", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["slices"] == [0, 1, 2] and len(metrics["per_slice"]) == 3
    assert set(metrics["volume"]) == {"nmse", "psnr", "ssim"}
    assert set(metrics["baselines"]) == {"zero_filled"}
    with h5py.File(out / "reconstruction.h5", "r") as f:
        rec = f["reconstruction"][()]
    assert rec.shape == (3, 32, 32) and rec.dtype == np.float32
    assert np.array_equal(rec, np.load(out / "estimate.npy"))


def test_cli_volume_of_a_test_file_writes_the_reconstruction_without_scores(tmp_path, capsys):
    path = fastmri_file(tmp_path / "test.h5", slices=2, coils=4, undersampled=True)
    out = tmp_path / "run"
    argv = ["mri", "--kspace", str(path), "--slices", "all", *FIT, "--baselines",
            "zero_filled", "--json", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["volume"] is None and metrics["baselines"] == {"zero_filled": {}}
    with h5py.File(out / "reconstruction.h5", "r") as f:
        assert f["reconstruction"].shape == (2, 32, 32)
    assert not (out / "truth.png").exists()


@pytest.mark.parametrize(
    "extra, message",
    [(["--slices", "1:9"], "out of range"), (["--slices", "0:2", "--slice", "1"], "not both")],
    ids=["out-of-range", "both"],
)  # fmt: skip
def test_bad_slice_ranges_exit_2_with_one_line(tmp_path, capsys, extra, message):
    path = fastmri_file(tmp_path / "file.h5", slices=3, coils=2)
    out = tmp_path / "run"
    assert main(["mri", "--kspace", str(path), *extra, *FIT, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_the_bundled_brain_volume_is_the_default_volume(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["mri", "--slices", "3:5", "--size", "32", "--coils", "2", *FIT, "--baselines",
            "none", "--json", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["slices"] == [3, 4] and metrics["problem"][0]["signal"]["slice"] == 3
    assert np.load(out / "estimate.npy").shape == (2, 32, 32)
    assert main(["mri", "--slices", "8:12", *FIT, "--out", str(tmp_path / "r2")]) == 2
    assert "holds slices 0..9" in capsys.readouterr().err


def test_a_reversed_range_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["mri", "--kspace", "x.h5", "--slices", "2:1"])
    assert stopped.value.code == 2 and "0 <= A < B" in capsys.readouterr().err
