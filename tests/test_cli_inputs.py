"""Every bad input is refused cleanly, before any work: exit 2 and one line naming it.

Each case runs the command in-process into ``tmp_path / "run"`` and checks the refusal:
exit code 2, exactly one stderr line starting with the command's name (``untrained-cs
reconstruct:``, ``untrained-cs mri:``, ``untrained-cs theory <tool>:``) and naming the
offending option or value, no traceback, nothing left behind (no run folder, no
``run.partial``), and that it came fast: for option and memory refusals the problem is never
built (``solve.build`` fails the test), for file contents and theory a time bound.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import untrained_cs.cli.mri
import untrained_cs.cli.reconstruct
import untrained_cs.cli.solve
import untrained_cs.cli.theory  # noqa: F401  (imported here: the time bounds exclude imports)
from untrained_cs.cli import main, package_version

#: seconds a refusal may take (parsing, a memory estimate, reading a small file)
FAST_S = 5.0
TINY = ["--size", "32", "--layers", "3", "--channels", "8", "--max-iters", "10", "--quiet"]
MRI_FILE = ["--channels", "8", "--layers", "2", "--max-iters", "5", "--baselines", "none"]

# (id, arguments after the subcommand's tiny defaults, substrings the line must hold)
RECONSTRUCT = [
    ("dense-20000", ["--size", "20000", "--operator", "gaussian"], ["GB", "--operator structured"]),
    ("dense-4096", ["--size", "4096"], ["GB", "--operator structured"]),
    ("channels-100000", ["--channels", "100000"], ["GB", "--channels"]),
    ("noise-nan", ["--noise-std", "nan"], ["--noise-std", "nan"]),
    ("lr-inf", ["--lr", "inf"], ["--lr", "inf"]),
    ("lr-0", ["--lr", "0"], ["--lr", "0"]),
    ("loss-floor-2", ["--loss-floor", "2"], ["--loss-floor", "2"]),
    ("ratio-0", ["--ratio", "0"], ["--ratio", "0"]),
    ("ratio-1.5", ["--ratio", "1.5"], ["--ratio", "1.5"]),
    ("max-iters-1.5", ["--max-iters", "1.5"], ["--max-iters", "1.5"]),
    ("seed-huge", ["--seed", "99999999999999999999999"], ["--seed", "99999999999999999999999"]),
    ("seed-negative", ["--seed", "-1"], ["--seed", "-1"]),
    ("size-4", ["--size", "4"], ["size", "4"]),
    ("generator-unknown", ["--generator", "nope"], ["--generator", "nope"]),
]
MRI = [
    ("size-100000", ["--size", "100000"], ["GB", "--size"]),
    ("coils-2000000", ["--coils", "2000000"], ["GB", "--coils"]),
    ("size-8", ["--size", "8"], ["size", "8"]),
    ("snr-inf", ["--snr", "inf"], ["--snr", "inf"]),
    ("acceleration-0.5", ["--acceleration", "0.5"], ["--acceleration", "0.5"]),
]
THEORY = [
    ("basis-n-100000", ["basis", "--n", "100000"], ["GB", "smaller"]),
    ("weights-mc-channels-1e7", ["weights", "--mc-channels", "1e7"], ["GB", "Monte-Carlo"]),
    ("weights-width-inf", ["weights", "--width", "inf"], ["--width", "inf"]),
    ("linear-gamma-1.5", ["linear", "--gamma", "1.5"], ["--gamma", "1.5"]),
    ("jacobian-ratio-0", ["jacobian", "--ratio", "0"], ["--ratio", "0"]),
]


def run_cli(argv: list[str]) -> int:
    """The exit code, whether main returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.fixture
def inputs(tmp_path_factory) -> Path:
    """A folder for input files, apart from ``tmp_path`` (which must stay empty)."""
    return tmp_path_factory.mktemp("inputs")


@pytest.fixture
def no_build(monkeypatch):
    """Fail the test if the problem is built: the refusal must come before it."""

    def build(spec):
        pytest.fail(f"the problem was built before the refusal: {spec}")

    monkeypatch.setattr(untrained_cs.cli.solve, "build", build)


def refused(argv: list[str], tmp_path: Path, capsys, prefix: str, needles: list[str]) -> str:
    """Run ``argv`` into ``tmp_path / "run"``; assert a clean, fast refusal; its line."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = run_cli([*argv, "--out", str(tmp_path / "run"), "--quiet"])
    seconds = time.perf_counter() - start
    captured = capsys.readouterr()
    err = captured.err
    lines = err.splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and err.endswith("\n"), err
    line = lines[0]
    assert line.startswith(f"{prefix}: "), line
    for needle in needles:
        assert needle in line, (needle, line)
    assert "Traceback" not in err and "pip install" not in err
    assert "RuntimeWarning" not in err
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert captured.out == ""
    assert not any(tmp_path.iterdir()), list(tmp_path.iterdir())
    assert seconds < FAST_S, f"the refusal took {seconds:.1f} s"
    return line


@pytest.mark.parametrize(
    "extra, needles", [c[1:] for c in RECONSTRUCT], ids=[c[0] for c in RECONSTRUCT]
)
def test_reconstruct_refuses_before_any_work(tmp_path, capsys, no_build, extra, needles):
    refused(["reconstruct", *TINY, *extra], tmp_path, capsys, "untrained-cs reconstruct", needles)


@pytest.mark.parametrize("extra, needles", [c[1:] for c in MRI], ids=[c[0] for c in MRI])
def test_mri_refuses_before_any_work(tmp_path, capsys, no_build, extra, needles):
    argv = ["mri", "--coils", "2", *MRI_FILE, *extra]
    refused(argv, tmp_path, capsys, "untrained-cs mri", needles)


@pytest.mark.parametrize("argv, needles", [c[1:] for c in THEORY], ids=[c[0] for c in THEORY])
def test_theory_refuses_quickly(tmp_path, capsys, argv, needles):
    refused(["theory", *argv], tmp_path, capsys, f"untrained-cs theory {argv[0]}", needles)


# --- file contents: read while the problem is built, refused before the fit ---------------


def image_file(folder: Path, name: str, array: np.ndarray | None = None, text: str = "") -> str:
    path = folder / name
    if array is None:
        path.write_text(text)
    else:
        np.save(path, array)
    return str(path)


def test_channel_first_image_is_transposed_and_runs(tmp_path, inputs):
    rng = np.random.default_rng(0)
    path = image_file(inputs, "chw.npy", rng.random((3, 64, 64)).astype(np.float32))
    out = tmp_path / "run"
    assert run_cli(["reconstruct", *TINY, "--image", path, "--out", str(out)]) == 0
    assert (out / "metrics.json").is_file()


@pytest.mark.parametrize(
    "name, needles",
    [
        ("five-channels", ["(5, 64, 64)"]),
        ("nan-pixel", ["1 NaN or infinite pixel"]),
        ("inf-pixel", ["1 NaN or infinite pixel"]),
        ("text.png", ["could not be read", "text.png"]),
    ],
)
def test_reconstruct_refuses_a_bad_image_file(tmp_path, capsys, inputs, name, needles):
    image = np.random.default_rng(1).random((64, 64))
    if name == "five-channels":
        path = image_file(inputs, "five.npy", np.zeros((5, 64, 64)))
    elif name == "nan-pixel":
        image[3, 4] = np.nan
        path = image_file(inputs, "nan.npy", image)
    elif name == "inf-pixel":
        image[3, 4] = np.inf
        path = image_file(inputs, "inf.npy", image)
    else:
        path = image_file(inputs, name, text="this is not an image\n")
    argv = ["reconstruct", *TINY, "--image", path]
    refused(argv, tmp_path, capsys, "untrained-cs reconstruct", [Path(path).name, *needles])


def kspace_file(folder: Path, name: str, kspace: np.ndarray) -> str:
    path = folder / name
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=kspace)
    return str(path)


@pytest.mark.parametrize(
    "name, shape, needles",
    [
        ("zeros", (1, 2, 24, 20), ["all zero"]),
        ("rank-2", (24, 20), ["[24, 20]"]),
        ("rank-5", (1, 1, 2, 24, 20), ["[1, 1, 2, 24, 20]"]),
        ("nan", (1, 2, 24, 20), ["NaN"]),
    ],
)
def test_mri_refuses_a_bad_kspace_file(tmp_path, capsys, inputs, name, shape, needles):
    rng = np.random.default_rng(2)
    kspace = np.zeros(shape, np.complex64)
    if name == "nan":
        kspace = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
        kspace[0, 1, 5, 6] = np.nan
    path = kspace_file(inputs, f"{name}.h5", kspace)
    argv = ["mri", "--kspace", path, *MRI_FILE]
    refused(argv, tmp_path, capsys, "untrained-cs mri", [f"{name}.h5", *needles])


def test_weights_refuses_an_npz_kernel_file(tmp_path, capsys, inputs):
    path = inputs / "K.npz"
    np.savez(path, kernel=np.ones(16))
    argv = ["theory", "weights", "--kernel-file", str(path)]
    refused(argv, tmp_path, capsys, "untrained-cs theory weights", ["--kernel-file", "K.npz"])


def test_weights_refuses_a_kernel_file_too_large_for_memory(tmp_path, capsys, inputs):
    path = inputs / "long.npy"
    np.save(path, np.ones(200_000))
    argv = ["theory", "weights", "--kernel-file", str(path), "--mc-channels"]
    refused(argv, tmp_path, capsys, "untrained-cs theory weights", ["GB", "Σ(U)"])


# --- accepted: integral floats, strict JSON, --version, images ----------------------------


def test_max_iters_written_as_a_float_is_accepted(tmp_path):
    out = tmp_path / "run"
    assert run_cli(["reconstruct", *TINY, "--max-iters", "1e1", "--out", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text())["iterations"] == 10


def strict(text: str):
    def refuse(name: str):
        raise ValueError(f"non-standard JSON constant {name}")

    assert "NaN" not in text and "Infinity" not in text
    return json.loads(text, parse_constant=refuse)


def test_json_output_is_strict(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli(["reconstruct", *TINY, "--json", "--out", str(out)]) == 0
    printed = strict(capsys.readouterr().out)
    saved = strict((out / "metrics.json").read_text())
    assert printed["psnr"] == saved["psnr"] and saved["iterations"] == 10


def test_version(capsys):
    assert run_cli(["--version"]) == 0
    assert capsys.readouterr().out == f"untrained-cs {package_version()}\n"


def test_images_lists_the_bundled_names(capsys):
    assert run_cli(["images"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"camera", "grass"} <= set(names)
