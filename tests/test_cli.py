"""`untrained-cs reconstruct` end to end at a tiny size, and every bad input."""

from __future__ import annotations

import json

import pytest

from untrained_cs.cli import main
from untrained_cs.problems import derive_seed

TINY = [
    "reconstruct",
    "--size",
    "32",
    "--layers",
    "3",
    "--channels",
    "8",
    "--max-iters",
    "100",
    "--quiet",
]
KEYS = {
    "psnr",
    "ssim",
    "mse",
    "loss",
    "iterations",
    "converged",
    "stop_reason",
    "best_iteration",
    "best_psnr",
    "seconds",
    "device",
    "config",
}


def test_reconstruct_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*TINY, "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    files = {p.name for p in out.iterdir()}
    assert {
        "reconstruction.png",
        "comparison.png",
        "curves.png",
        "history.csv",
        "metrics.json",
        "measurements.npy",
        "truth.png",
    } <= files
    metrics = json.loads((out / "metrics.json").read_text())
    assert KEYS <= set(metrics) and printed["psnr"] == metrics["psnr"]
    seeds = metrics["seeds"]["generator"], metrics["seeds"]["operator"]
    assert seeds == (derive_seed(0, "generator"), derive_seed(0, "operator"))
    assert metrics["problem"]["measurement"]["ratio"] == 0.25
    assert metrics["iterations"] == 100 and metrics["psnr"] > 15
    rows = (out / "history.csv").read_text().splitlines()
    assert rows[0] == "iteration,loss,lr,mse,psnr"
    assert [int(r.split(",")[0]) for r in rows[1:]] == [0, 1, 2, 5, 10, 20, 50, 100]
    # a second run into the same folder replaces it when asked to
    assert main([*TINY, "--out", str(out), "--operator", "structured", "--overwrite"]) == 0
    assert json.loads((out / "metrics.json").read_text())["config"]["operator"] == "structured"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--image", "no/such/file.png"], "no such file"),
        (["--ratio", "0"], "ratio"),
        (["--ratio", "1.5"], "ratio"),
        (["--size", "16", "--layers", "5"], "at least 32"),
        (["--lr", "0"], "--lr"),
        (["--lr", "-1"], "--lr"),
        (["--max-iters", "0"], "--max-iters"),
        (["--tol", "0"], "--tol"),
        (["--operator", "nope"], "--operator"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_folder(tmp_path, capsys, args, message):
    out = tmp_path / "run"
    code = run_cli([*TINY, "--out", str(out), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and message in err
    assert not out.exists() and not any(tmp_path.iterdir())


def test_cuda_without_cuda_exits_2(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    out = tmp_path / "run"
    assert main([*TINY, "--out", str(out), "--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err
    assert not out.exists()


def test_refuses_to_clobber_a_foreign_folder(tmp_path, capsys):
    (tmp_path / "data.txt").write_text("keep me")
    assert main([*TINY, "--out", str(tmp_path)]) == 2
    assert (tmp_path / "data.txt").read_text() == "keep me"


def run_cli(argv: list[str]) -> int:
    """The exit code, whether main returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_reconstruct_with_dip_and_gd(tmp_path):
    out = tmp_path / "dip"
    args = ["reconstruct", "--size", "36", "--generator", "dip", "--max-iters", "20", "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["iterations"] == 20 and metrics["parameters"] > 100_000
    out = tmp_path / "gd"
    assert main([*TINY, "--optimizer", "gd", "--operator", "mask", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["psnr"] > 10 and metrics["method"]["optimizer"] == "gd"


@pytest.mark.slow  # end to end: scripts/test.sh runs it after the fast suite
def test_noisy_data_stop_without_the_truth(tmp_path):
    out = tmp_path / "holdout"
    args = [*TINY, "--noise-std", "0.05", "--max-iters", "2000", "--stop", "holdout"]
    assert main([*args, "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stop_rule"] == "holdout" and metrics["method"]["stop"] == "holdout"
    assert 0 <= metrics["selected_iteration"] <= metrics["iterations"]
    out = tmp_path / "discrepancy"
    args = [*TINY, "--noise-std", "0.05", "--max-iters", "2000", "--stop", "discrepancy"]
    assert main([*args, "--out", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text())["stop_rule"] == "discrepancy"
    assert run_cli([*TINY, "--stop", "discrepancy", "--out", str(tmp_path / "x")]) == 2


@pytest.mark.parametrize("command", ["reconstruct", "mri"])
def test_options_offer_the_library_names_and_defaults(command):
    from untrained_cs.cli import build_parser
    from untrained_cs.fit.optim import OPTIMIZERS
    from untrained_cs.methods import RECIPES, SOLVER_NAMES, STOPS, GeneratorFit, Solver
    from untrained_cs.solvers import WEIGHT_CHOICES

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    actions = {a.dest: a for a in sub.choices[command]._actions}
    assert list(actions["optimizer"].choices) == list(OPTIMIZERS)
    assert tuple(actions["recipe"].choices) == RECIPES and tuple(actions["stop"].choices) == STOPS
    assert tuple(actions["weight_choice"].choices) == WEIGHT_CHOICES
    fit, solver = GeneratorFit(), Solver()
    for name in ("optimizer", "recipe", "stop", "holdout_fraction"):
        assert actions[name].default == getattr(fit, name), name
    # unset: the library's choice with a truth, hold-out for measured data without one
    assert actions["weight_choice"].default is None
    assert f"default {solver.weight_choice};" in actions["weight_choice"].help
    assert set(SOLVER_NAMES) == {"zero_filled", "min_norm", "l1_wavelet", "tv"}
    assert "10%" in actions["weight_choice"].help % {"default": "oracle"}
