"""`untrained-cs theory <tool>` end to end at tiny sizes, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from untrained_cs.cli import main


def _run(args: list[str], capsys) -> tuple[int, dict]:
    code = main([*args, "--json", "--threads", "1"])
    out = capsys.readouterr().out
    return code, (json.loads(out) if code == 0 else {})


TOOLS = {
    "basis": ["--n", "20", "--functions", "1", "2", "6", "--p", "3"],
    "weights": ["--n", "40", "--width", "3", "6", "--mc-channels", "64", "--mc-n", "16"],
    "linear": ["--n", "24", "--wide", "48", "--gamma", "0.8", "--m", "6", "12",
               "--trials", "2", "--gd-iters", "200"],
    "jacobian": ["--n", "32", "--channels", "8", "--layers", "3", "--iterations", "0", "2",
                 "5", "--top", "10", "--p", "4"],
    "two-layer": ["--n", "16", "--channels", "32", "--p", "2", "--m", "4", "12",
                  "--trials", "1", "--max-iters", "200"],
}  # fmt: skip


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_theory_tool_writes_png_and_json(tool, tmp_path, capsys) -> None:
    out = tmp_path / tool
    code, data = _run(["theory", tool, *TOOLS[tool], "--out", str(out)], capsys)
    assert code == 0
    assert (out / f"{tool}.png").stat().st_size > 1000
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["tool"] == data["tool"] == tool
    if tool == "basis":
        assert data["orthonormality_error"] < 1e-10
    if tool == "weights":
        assert len(data["sigma"]) == 40 and data["sigma"] == sorted(data["sigma"], reverse=True)
        assert 0 < data["gamma"] < 1
        assert data["kernels"][0]["explicit_eig_rel_error"] < 1e-8
    if tool == "linear":
        assert len(data["ratio"]) == 2 and all(r < 1 for r in data["ratio"])
    if tool == "jacobian":
        assert data["iterations"] == [0, 2, 5] and 0 <= data["change_top"] < 1
    if tool == "two-layer":
        assert data["m"] == [4, 12] and len(data["error"]) == 2


def test_weights_kernel_file_used_as_given(tmp_path, capsys) -> None:
    kernel = np.zeros(24)
    kernel[[0, 1, -1]] = [2.0, 1.0, 1.0]
    path = tmp_path / "k.npy"
    np.save(path, kernel)
    args = ["theory", "weights", "--kernel-file", str(path), "--mc-channels"]
    code, data = _run([*args, "--out", str(tmp_path / "run")], capsys)
    assert code == 0 and data["n"] == 24 and len(data["sigma"]) == 24
    u = torch.from_numpy(kernel / np.linalg.norm(kernel))
    from untrained_cs.theory.weights import kernel_weights

    want = kernel_weights(u).sort(descending=True).values.numpy()
    assert np.allclose(data["sigma"], want, rtol=1e-12)


@pytest.mark.parametrize(
    "args",
    [
        ["theory", "basis", "--n", "10", "--functions", "11"],
        ["theory", "weights", "--kernel-file", "missing.npy"],
        ["theory", "weights", "--width", "0"],
        ["theory", "linear", "--gamma", "1.5"],
        ["theory", "linear", "--n", "20", "--m", "30"],
        ["theory", "jacobian", "--ratio", "2"],
        ["theory", "two-layer", "--n", "16", "--m", "20"],
    ],
)
def test_bad_input_exits_2_and_writes_nothing(args, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    try:
        code = main([*args, "--out", str(out)])
    except SystemExit as exc:  # argparse-level errors (e.g. --width 0)
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert "error" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_defaults_come_from_the_experiments() -> None:
    from untrained_cs.cli import build_parser
    from untrained_cs.experiments import figure2, figure3, figure4, theorem1, theorem2

    parser = build_parser()

    def parsed(tool: str) -> dict:
        return vars(parser.parse_args(["theory", tool]))

    for tool, defaults, renamed in [
        ("basis", figure2.DEFAULTS, {}),
        ("weights", figure3.DEFAULTS, {"widths": "width"}),
        ("linear", theorem1.DEFAULTS, {"ms": "m"}),
        ("jacobian", figure4.DEFAULTS, {}),
        ("two-layer", theorem2.DEFAULTS, {"ms": "m"}),
    ]:
        args = parsed(tool)
        for field, value in vars(defaults).items():
            name = renamed.get(field, field)
            if name in args:
                want = list(value) if isinstance(value, tuple) else value
                assert args[name] == want, (tool, field)
