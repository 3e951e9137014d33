"""Output safety: a run never deletes or changes what it did not create."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from untrained_cs.cli import main

TINY = ["reconstruct", "--size", "32", "--layers", "3", "--channels", "8", "--max-iters", "20"]
TINY += ["--quiet"]


def user_files(root: Path) -> dict[str, str]:
    """A user's folder: notes, a thesis, a data folder, and a metrics.json of their own."""
    (root / "data").mkdir(parents=True)
    files = {
        "notes.txt": "my notes",
        "thesis.tex": "\\chapter{x}",
        "metrics.json": '{"mine": 1}',
        "data/scan.npy": "raw",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    return files


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def one_line_error(capsys, code: int, expected: int = 2) -> str:
    err = capsys.readouterr().err.strip()
    assert code == expected, err
    assert len(err.splitlines()) == 1, err
    return err


def test_out_dot_in_a_users_folder_is_refused_and_untouched(tmp_path, capsys, monkeypatch):
    user_files(tmp_path / "work")
    before = snapshot(tmp_path)
    monkeypatch.chdir(tmp_path / "work")
    err = one_line_error(capsys, main([*TINY, "--out", "."]))
    assert "not an untrained-cs run folder" in err
    assert snapshot(tmp_path) == before and sorted(os.listdir(tmp_path)) == ["work"]


def test_a_users_folder_is_refused_even_with_overwrite(tmp_path, capsys):
    folder = tmp_path / "that" / "folder"
    user_files(folder)
    before = snapshot(tmp_path)
    err = one_line_error(capsys, main([*TINY, "--out", str(folder), "--overwrite"]))
    assert "--out" in err and str(folder) in err
    assert snapshot(tmp_path) == before


def test_an_earlier_run_is_replaced_only_with_overwrite(tmp_path, capsys):
    (tmp_path / "beside.txt").write_text("keep")
    out = tmp_path / "run"
    assert main([*TINY, "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert "metrics.json" in manifest["files"] and manifest["tool"] == "untrained-cs"
    capsys.readouterr()
    err = one_line_error(capsys, main([*TINY, "--out", str(out), "--seed", "3"]))
    assert "--overwrite" in err
    assert json.loads((out / "metrics.json").read_text())["config"]["seed"] == 0
    assert main([*TINY, "--out", str(out), "--seed", "3", "--overwrite"]) == 0
    assert json.loads((out / "metrics.json").read_text())["config"]["seed"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beside.txt", "run"]
    assert (tmp_path / "beside.txt").read_text() == "keep"


def test_a_run_folder_with_a_users_file_added_is_not_replaced(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*TINY, "--out", str(out)]) == 0
    (out / "notes.txt").write_text("added by hand")
    before = snapshot(tmp_path)
    capsys.readouterr()
    err = one_line_error(capsys, main([*TINY, "--out", str(out), "--overwrite"]))
    assert "notes.txt" in err
    assert snapshot(tmp_path) == before


def test_an_empty_folder_receives_the_run(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert main([*TINY, "--out", str(out)]) == 0
    assert (out / "metrics.json").exists() and not (tmp_path / "empty.partial").exists()


def test_out_under_a_file_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    (tmp_path / "afile").write_text("x")
    monkeypatch.setattr("untrained_cs.cli.solve.build", _no_fit)
    err = one_line_error(capsys, main([*TINY, "--out", str(tmp_path / "afile" / "run")]))
    assert "is a file" in err
    assert (tmp_path / "afile").read_text() == "x"


def test_read_only_place_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if self.name.endswith(".partial"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    monkeypatch.setattr("untrained_cs.cli.solve.build", _no_fit)
    err = one_line_error(capsys, main([*TINY, "--out", str(tmp_path / "run")]))
    assert "cannot write" in err and "Read-only file system" in err
    assert not any(tmp_path.iterdir())


def test_a_full_disk_while_writing_keeps_the_metrics(tmp_path, capsys, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("untrained_cs.plots.run.save_image", full)
    out = tmp_path / "run"
    code = main([*TINY, "--out", str(out)])
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "No space left" in err
    assert json.loads(captured.out)["iterations"] == 20  # the result is not lost
    assert not any(tmp_path.iterdir())


def test_an_interrupted_runs_partial_folder_is_not_clobbered(tmp_path, capsys):
    partial = tmp_path / "run.partial"
    partial.mkdir()
    (partial / "checkpoint.pt").write_text("state")
    err = one_line_error(capsys, main([*TINY, "--out", str(tmp_path / "run")]))
    assert "resume" in err
    assert (partial / "checkpoint.pt").read_text() == "state"


def _no_fit(*args, **kwargs):
    pytest.fail("the fit ran although the output folder was unusable")


def test_the_float_estimate_is_written_as_numbers(tmp_path, capsys):
    """Every run folder holds estimate.npy (float32, the truth's shape and range, the same
    numbers as the reconstruction); --save tiff adds a float TIFF; metrics.json names both."""
    import numpy as np
    import tifffile

    out = tmp_path / "run"
    assert main([*TINY, "--save", "tiff", "--out", str(out)]) == 0
    estimate = np.load(out / "estimate.npy")
    assert estimate.dtype == np.float32 and estimate.shape == (1, 32, 32)
    assert 0.0 <= estimate.min() and estimate.max() <= 1.0
    np.testing.assert_array_equal(tifffile.imread(out / "estimate.tiff"), estimate[0])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["files"]["estimate"] == ["estimate.npy", "estimate.tiff"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"estimate.npy", "estimate.tiff"} <= set(manifest["files"])
    err = one_line_error(capsys, main([*TINY, "--save", "nifti", "--out", str(tmp_path / "v")]))
    assert "--save nifti applies to volumes only" in err and not (tmp_path / "v").exists()


def test_colour_images_keep_their_channels_end_to_end(tmp_path):
    """chelsea is RGB (300 x 451): the estimate, the pictures and the TV baseline (channels
    coupled) are in colour, --size 32 its shorter side; --grey converts to luminance,
    --crop makes it 32 x 32."""
    import numpy as np
    from matplotlib.image import imread

    out, grey = tmp_path / "colour", tmp_path / "grey"
    colour_run = [*TINY, "--image", "chelsea", "--baselines", "tv", "--max-iters", "10"]
    assert main([*colour_run, "--out", str(out)]) == 0
    assert np.load(out / "estimate.npy").shape == (3, 32, 48)  # 451 / 300 × 32 = 48.1
    picture = imread(out / "reconstruction.png")
    assert picture.shape[:2] == (32, 48) and picture.shape[2] in (3, 4)
    assert np.abs(picture[..., 0] - picture[..., 2]).max() > 0.01  # not a grey picture
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["problem"]["signal"]["image"] == "chelsea" and metrics["baselines"]["tv"]
    assert main([*colour_run, "--grey", "--crop", "--out", str(grey)]) == 0
    assert np.load(grey / "estimate.npy").shape == (1, 32, 32)


@pytest.mark.parametrize("size, shape", [("48x80", (48, 80)), ("37x53", (37, 53))])
def test_non_square_and_prime_sizes_run_end_to_end(tmp_path, size, shape):
    import numpy as np

    out = tmp_path / size
    run = [*TINY, "--image", "chelsea", "--grey", "--size", size, "--baselines", "tv"]
    assert main([*run, "--out", str(out)]) == 0
    assert np.load(out / "estimate.npy").shape == (1, *shape)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == shape[0] * shape[1] and metrics["baselines"]["tv"]["psnr"] > 10
