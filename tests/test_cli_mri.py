"""`untrained-cs mri` end to end at a tiny size; bad input exits 2 with one line, no folder."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from untrained_cs.cli import main
from untrained_cs.defaults import fit_defaults
from untrained_cs.problems import derive_seed

FAST = ["--size", "32", "--coils", "2", "--channels", "8", "--layers", "3", "--quiet"]


@pytest.mark.slow  # end to end: scripts/test.sh runs it after the fast suite
def test_mri_default_pipeline_writes_the_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["mri", *FAST, "--acceleration", "4", "--max-iters", "60", "--out", str(out)]
    assert main([*argv, "--json", "--baselines", "zero_filled,tv"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    for name in ("comparison.png", "curves.png", "reconstruction.png", "history.csv"):
        assert (out / name).stat().st_size > 0, name
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["psnr"] == pytest.approx(metrics["psnr"])
    for key in ("psnr", "ssim", "best_psnr", "best_iteration", "iterations", "stop_reason"):
        assert key in saved
    assert set(saved["baselines"]) == {"zero_filled", "tv"}
    assert set(saved["baselines"]["zero_filled"]) >= {"psnr", "ssim"}
    assert saved["seeds"]["mask"] == derive_seed(0, "mask")
    assert saved["achieved_acceleration"] == 4.0
    assert saved["baselines"]["tv"]["weight_choice"] == "oracle"
    rows = (out / "history.csv").read_text().splitlines()
    assert rows[0] == "iteration,loss,lr,mse,psnr"
    assert [int(r.split(",")[0]) for r in rows[1:]] == [0, 1, 2, 5, 10, 20, 50, 60]
    assert "nan" not in "".join(rows[1:])  # every logged row is scored


def test_mri_reads_a_fastmri_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    k = (rng.standard_normal((2, 2, 24, 20)) + 1j * rng.standard_normal((2, 2, 24, 20))).astype(
        np.complex64
    )
    path = tmp_path / "file.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=k)
    out = tmp_path / "run"
    argv = ["mri", "--kspace", str(path), "--slice", "1", "--acceleration", "2"]
    argv += ["--channels", "8", "--layers", "2", "--max-iters", "10", "--quiet", "--json"]
    assert main([*argv, "--baselines", "none", "--out", str(out)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["model"] == "2ch" and metrics["slice_index"] == 1
    assert metrics["baselines"] == {}


def test_mri_defaults_tv_term_and_quick_baselines(tmp_path, capsys):
    """A default run fits with the MRI TV term and compares with zero-filling and least
    squares; ``--baselines all`` adds ℓ1 and TV, ``--tv-weight 0`` fits the paper's loss."""
    argv = ["mri", *FAST, "--acceleration", "4", "--max-iters", "20", "--json"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics["baselines"]) == {"zero_filled", "min_norm"}
    assert metrics["method"]["tv_weight"] == fit_defaults("mri", "deep-decoder")["tv_weight"] > 0
    argv += ["--tv-weight", "0", "--baselines", "all"]
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics["baselines"]) == {"zero_filled", "min_norm", "l1_wavelet", "tv"}
    assert "tv_weight" not in metrics["method"]


def _bad_h5(tmp_path):
    path = tmp_path / "nok.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("other", data=np.zeros(3))
    return str(path)


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--acceleration", "0.5"], "--acceleration: must be >= 1"),
        (["--acceleration", "100", "--center-fraction", "0"], "samples no k-space line"),
        (["--center-fraction", "2"], "--center-fraction"),
        (["--kspace", "MISSING"], "does not exist"),
        (["--kspace", "BAD"], "no 'kspace'"),
        (["--slice", "30"], "the brain volume holds slices 0..9"),
        (["--size", "8"], "size must be >= 32"),
        (["--coils", "2000000"], "fewer --coils"),
        (["--size", "100000"], "smaller --size"),
        (["--baselines", "sparse"], "--baselines"),
        (["--tv-weight", "-1"], "--tv-weight: must be >= 0"),
        (["--tv-weight", "inf"], "--tv-weight"),
        (["--snr", "nan"], "--snr"),
        (["--mask", "radial"], "invalid choice"),
    ],
)
def test_mri_bad_input_exits_2_with_one_line_and_no_folder(tmp_path, capsys, extra, match):
    extra = [
        str(tmp_path / "missing.h5") if e == "MISSING" else _bad_h5(tmp_path) if e == "BAD" else e
        for e in extra
    ]
    if "--kspace" in extra:
        fast = ["--quiet"]
    else:
        fast = FAST
    out = tmp_path / "run"
    assert run_cli(["mri", *fast, *extra, "--max-iters", "5", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err, err
    assert not out.exists()


def test_all_zero_kspace_is_refused(tmp_path, capsys):
    path = tmp_path / "zero.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=np.zeros((1, 2, 24, 20), np.complex64))
    out = tmp_path / "run"
    code = run_cli(["mri", "--kspace", str(path), "--quiet", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "all zero" in err, err
    assert not out.exists()


def run_cli(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_mri_refuses_a_slice_the_memory_cannot_hold(tmp_path, capsys, monkeypatch):
    from untrained_cs import resources

    monkeypatch.setattr(resources, "free_memory", lambda device="cpu": 1024)
    out = tmp_path / "run"
    assert main(["mri", *FAST, "--max-iters", "5", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    parts = resources.mri_bytes("deep-decoder", 32 * 32, 8, 3, 2)
    assert parts["k-space"] == 2 * resources.mri_bytes("deep-decoder", 32 * 32, 8, 3, 1)["k-space"]
    assert f"needs about {sum(parts.values()) / resources.GB:.3g} GB" in err
    assert "fewer --coils" in err and len(err.splitlines()) == 1 and not out.exists()


def test_a_fastmri_layout_file_round_trips_to_a_reconstruction_file(tmp_path, capsys):
    # a multi-coil file in fastMRI's layout (header, mask, attributes), reconstructed with
    # maps estimated from its centre; reconstruction.h5 read back in fastMRI's shape
    from test_mri_fastmri import fastmri_file

    path = fastmri_file(tmp_path / "file.h5", slices=2, coils=4, shape=(64, 40),
                        undersampled=True)  # fmt: skip
    out = tmp_path / "run"
    argv = ["mri", "--kspace", str(path), "--slice", "1", "--model", "sense",
            "--channels", "8", "--layers", "3", "--max-iters", "10", "--quiet",
            "--baselines", "tv", "--save", "fastmri", "--json", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    printed = json.loads(capsys.readouterr().out)
    assert printed["model"] == "sense"
    # a test file: its own 4x mask, no ground truth (no PSNR), TV's weight by hold-out
    assert printed["achieved_acceleration"] == pytest.approx(40 / 16)
    assert printed["psnr"] is None and printed["baselines"]["tv"]["psnr"] is None
    metrics = json.loads((out / "metrics.json").read_text())
    assert "reconstruction.h5" in metrics["files"]["estimate"]
    with h5py.File(out / "reconstruction.h5", "r") as f:
        rec = f["reconstruction"][()]
    assert rec.shape == (1, 32, 32) and rec.dtype == np.float32  # the header's recon size
    assert np.array_equal(rec[0], np.load(out / "estimate.npy"))


def test_headline_without_baselines_has_no_empty_comparison():
    from untrained_cs.cli.mri import headline

    m = {"psnr": 28.5, "best_psnr": 28.6, "best_iteration": 1050, "ssim": 0.9}
    m |= {"iterations": 1100, "stop_reason": "annealed", "seconds": 55.0, "device": "cpu"}
    assert headline(m).startswith("PSNR 28.50 dB (oracle best 28.60 at it 1050)")
    base = {"baselines": {"tv": {"psnr": 34.5}}}
    assert headline({**m, **base}).startswith("PSNR 28.50 dB (tv 34.50; tv is better; oracle")
