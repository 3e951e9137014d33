"""Measurements a user brings: y and A from files, no image measured by the tool."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

from untrained_cs.cli import main
from untrained_cs.methods import GeneratorFit
from untrained_cs.pipeline import run
from untrained_cs.problems import (
    CSMeasurement,
    ImageSignal,
    MeasuredData,
    MeasuredSignal,
    ProblemSpec,
    build,
    spec_hash,
)

FIT = ["--layers", "3", "--channels", "8", "--max-iters", "60", "--quiet"]


def simulated(image="camera", size=16, channels=1, operator="gaussian", seed=0):
    spec = ProblemSpec(ImageSignal(image, size, channels), CSMeasurement(operator, 0.25), seed)
    return build(spec)


def save_grey(problem, folder: Path) -> dict[str, str]:
    """A, y and the truth of a grey simulated problem as a user's .npy files."""
    files = {k: str(folder / f"{k}.npy") for k in ("A", "y", "x")}
    np.save(files["A"], problem.operator.matrix[0].numpy())
    np.save(files["y"], problem.y.numpy().ravel())
    np.save(files["x"], problem.truth[0].numpy())
    return files


def one_line_error(capsys, code: int) -> str:
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    return err


def test_cli_recovers_from_files_with_the_simulated_paths_numbers(tmp_path, capsys):
    problem = simulated()
    f = save_grey(problem, tmp_path)
    stop = ["--stop", "holdout"]  # measured data default to it; the simulated path does not
    code = main(["reconstruct", "--measurements", f["y"], "--matrix", f["A"], "--shape",
                 "16,16", "--truth", f["x"], *FIT, "--out", str(tmp_path / "mine")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    code = main(["reconstruct", "--image", "camera", "--size", "16", "--grey", *stop, *FIT,
                 "--out", str(tmp_path / "sim")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    mine = json.loads((tmp_path / "mine" / "metrics.json").read_text())
    sim = json.loads((tmp_path / "sim" / "metrics.json").read_text())
    assert mine["stop_rule"] == "holdout"
    assert mine["psnr"] > 15.0
    for key in ("psnr", "ssim", "iterations", "loss", "residual", "heldout_residual"):
        assert mine[key] == pytest.approx(sim[key], rel=1e-5, abs=1e-6), key
    estimate = np.load(tmp_path / "mine" / "estimate.npy")
    assert estimate.shape == (1, 16, 16) and estimate.dtype == np.float32


def test_without_a_truth_the_run_reports_the_data_residuals(tmp_path, capsys):
    f = save_grey(simulated(), tmp_path)
    code = main(["reconstruct", "--measurements", f["y"], "--matrix", f["A"], "--shape", "16,16",
                 *FIT, "--baselines", "tv", "--json", "--out", str(tmp_path / "run")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    metrics = json.loads(out)
    assert metrics["psnr"] is None and metrics["ssim"] is None
    assert metrics["ground_truth"] is False and metrics["stop_rule"] == "holdout"
    assert 0 < metrics["residual"] < 0.5 and metrics["heldout_residual"] > 0
    assert metrics["baselines"]["tv"]["weight_choice"] == "holdout"
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert "truth.png" not in names and {"estimate.npy", "comparison.png"} <= set(names)


def test_colour_matrix_columns_in_channel_last_order_give_the_tools_operator(tmp_path):
    problem = simulated("chelsea", 12, None)
    c, h, w = problem.truth.shape
    a = problem.operator.matrix[0].numpy()  # columns in [C, H, W] order
    # the user's signal is [H, W, C] row-major: column j of theirs is entry (i, k, c)
    order = np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).reshape(-1)
    np.savez(tmp_path / "data.npz", A=a[:, order], y=problem.y.numpy().ravel())
    np.save(tmp_path / "x.npy", problem.truth.numpy().transpose(1, 2, 0))
    spec = ProblemSpec(
        MeasuredSignal((h, w, c), str(tmp_path / "x.npy")),
        MeasuredData(
            str(tmp_path / "data.npz"), "y", matrix=str(tmp_path / "data.npz"), matrix_key="A"
        ),  # fmt: skip
    )
    mine = build(spec)
    assert torch.equal(mine.operator.matrix, problem.operator.matrix)
    assert torch.equal(mine.truth, problem.truth) and torch.equal(mine.y, problem.y)
    assert mine.baseline_options == {"tv": {"couple_channels": True}}


def test_a_named_operator_is_the_one_a_simulated_run_drew(tmp_path):
    problem = simulated(operator="structured", seed=3)
    np.save(tmp_path / "y.npy", problem.y.numpy())
    spec = ProblemSpec(
        MeasuredSignal((16, 16)), MeasuredData(str(tmp_path / "y.npy"), operator="structured"), 3
    )
    mine = build(spec)
    x = torch.rand(2, 1, 16, 16)
    assert torch.equal(mine.operator(x), problem.operator(x))
    assert mine.truth is None and mine.kind == "image"


def test_library_fit_matches_the_simulated_problem(tmp_path):
    problem = simulated()
    f = save_grey(problem, tmp_path)
    spec = ProblemSpec(MeasuredSignal((16, 16), f["x"]), MeasuredData(f["y"], matrix=f["A"]))
    method = GeneratorFit(channels=8, layers=3, max_iters=40, stop="holdout")
    a, b = run(build(spec), method), run(problem, method)
    assert torch.allclose(a.estimate, b.estimate, atol=1e-6)
    assert a.metrics["psnr"] == pytest.approx(b.metrics["psnr"], abs=1e-4)


def test_the_key_is_the_files_content_not_their_paths(tmp_path):
    f = save_grey(simulated(), tmp_path)
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for name in ("A.npy", "y.npy"):
        (moved / name).write_bytes((tmp_path / name).read_bytes())
    here = ProblemSpec(MeasuredSignal((16, 16)), MeasuredData(f["y"], matrix=f["A"]))
    there = ProblemSpec(
        MeasuredSignal((16, 16)),
        MeasuredData(str(moved / "y.npy"), matrix=str(moved / "A.npy")),
    )
    assert spec_hash(here) == spec_hash(there)
    assert ProblemSpec.from_dict(json.loads(json.dumps(here.to_dict()))) == here
    np.save(f["y"], np.zeros(64, dtype=np.float32))
    with pytest.raises(ValueError, match="changed since"):
        build(here)


def test_signed_1d_signal_starts_at_the_datas_scale(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((40, 100)) * 3.0
    x = np.cumsum(rng.standard_normal(100)) * 5.0
    np.save(tmp_path / "A.npy", a)
    np.save(tmp_path / "y.npy", a @ x)
    spec = ProblemSpec(
        MeasuredSignal((100,), signed=True),
        MeasuredData(str(tmp_path / "y.npy"), matrix=str(tmp_path / "A.npy")),
    )
    problem = build(spec)
    assert problem.kind == "smooth" and problem.signed_output
    rms = float(np.sqrt(np.mean(x**2)))
    assert 0.3 * rms < problem.output_scale() < 3.0 * rms


BAD = {
    "wrong n": (lambda f: ["--matrix", f["A"], "--shape", "16,17"], "n = 272"),
    "wrong m": (lambda f: ["--matrix", f["A2"], "--shape", "16,16"], "rows, but y has"),
    "nan": (lambda f: ["--matrix", f["Anan"], "--shape", "16,16"], "NaN"),
    "pickle": (lambda f: ["--matrix", f["Apickle"], "--shape", "16,16"], "pickle"),
    "two arrays": (lambda f: ["--matrix", f["npz"], "--shape", "16,16"], "name one with --key"),
    "image too": (
        lambda f: ["--matrix", f["A"], "--shape", "16,16", "--image", "moon"],
        "--image does not apply",
    ),  # fmt: skip
    "no shape": (lambda f: ["--matrix", f["A"]], "needs --shape"),
    "no operator": (lambda f: ["--shape", "16,16"], "one of --matrix"),
    "bad truth": (
        lambda f: ["--matrix", f["A"], "--shape", "16,16", "--truth", f["A"]],
        "truth file",
    ),  # fmt: skip
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_measured_input_is_one_line_exit_2_and_no_folder(tmp_path, capsys, case):
    problem = simulated()
    f = save_grey(problem, tmp_path)
    a = problem.operator.matrix[0].numpy()
    f["A2"] = str(tmp_path / "A2.npy")
    np.save(f["A2"], a[:-1])
    f["Anan"] = str(tmp_path / "Anan.npy")
    np.save(f["Anan"], np.where(np.arange(a.size).reshape(a.shape) == 5, np.nan, a))
    f["Apickle"] = str(tmp_path / "Apickle.npy")
    np.save(f["Apickle"], np.array([{"a": 1}], dtype=object), allow_pickle=True)
    f["npz"] = str(tmp_path / "two.npz")
    np.savez(f["npz"], A=a, B=a)
    args, expected = BAD[case]
    out = tmp_path / "run"
    code = main(["reconstruct", "--measurements", f["y"], *args(f), *FIT, "--out", str(out)])
    assert expected in one_line_error(capsys, code)
    assert not out.exists()


def test_mat_v5_files_with_keys(tmp_path, capsys):
    problem = simulated()
    a, y = problem.operator.matrix[0].numpy(), problem.y.numpy().ravel()
    scipy.io.savemat(tmp_path / "data.mat", {"A": a, "y": y})
    code = main(["reconstruct", "--measurements", str(tmp_path / "data.mat"), "--matrix",
                 str(tmp_path / "data.mat"), "--key", "measurements=y,matrix=A", "--shape",
                 "16,16", *FIT, "--max-iters", "5", "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
