"""`untrained-cs theory <tool>` end to end at tiny sizes, and bad input."""

from __future__ import annotations

import argparse
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


def _options(parser) -> dict:
    """Flag → argparse action of one (sub)parser, without help."""
    return {o: a for a in parser._actions for o in a.option_strings if o not in ("-h", "--help")}


def _subparser(parser, *names: str):
    for name in names:
        sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        parser = sub.choices[name]
    return parser


def test_each_tools_flags_are_its_settings_fields() -> None:
    """Every settings field has exactly one flag (same default) and every other flag is one
    of the common options: the flags are generated from the dataclass."""
    import dataclasses

    from untrained_cs.cli import build_parser
    from untrained_cs.cli.flags import flag_of, settings_from_args
    from untrained_cs.experiments.registry import TOOLS, tool

    common = {"--seed", "--threads", "--out", "--overwrite", "--quiet", "--json"}
    parser = build_parser()
    assert list(TOOLS) == ["basis", "weights", "jacobian", "linear", "two-layer"]
    for name in TOOLS:
        settings_type = tool(name).settings_type
        options = _options(_subparser(parser, "theory", name))
        fields = dataclasses.fields(settings_type)
        flags = {flag_of(f): f for f in fields}
        assert len(flags) == len(fields)  # no two fields share a flag
        assert set(options) == set(flags) | common, name
        parsed = vars(parser.parse_args(["theory", name]))
        default = settings_type()
        for flag, f in flags.items():
            assert options[flag].dest == f.name
            want = getattr(default, f.name)
            assert parsed[f.name] == (list(want) if isinstance(want, tuple) else want), flag
        assert settings_from_args(settings_type, argparse.Namespace(**parsed)) == default


def test_the_existing_flag_names_and_defaults_still_parse() -> None:
    from untrained_cs.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["theory", "weights", "--width", "2", "--kernel-file", "k.npy"])
    assert args.widths == [2.0] and args.kernel_file == "k.npy"
    args = parser.parse_args(["theory", "linear", "--m", "6", "9"])
    assert args.ms == [6, 9] and args.gd_iters == 2000
    args = parser.parse_args(["theory", "jacobian", "--matrix-free"])
    assert args.matrix_free is True and args.iterations == [1, 75, 3500]
    assert parser.parse_args(["theory", "two-layer"]).ms == [4, 8, 12, 16, 24, 32, 48]


def test_reproduce_offers_a_flag_for_each_field_declared_so() -> None:
    from untrained_cs.cli import build_parser
    from untrained_cs.cli.flags import flag_of
    from untrained_cs.cli.reproduce import reproduce_fields

    offered = reproduce_fields()
    assert {n: [f.name for f in fs] for n, fs in offered.items()} == {"fig5": ["kspace", "slice"]}
    options = _options(_subparser(build_parser(), "reproduce"))
    for name, fields in offered.items():
        for f in fields:
            action = options[flag_of(f)]
            assert action.dest == f"{name}:{f.name}" and action.default is None
