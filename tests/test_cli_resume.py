"""Interrupt and resume: SIGTERM/SIGINT save the fit's state; `resume` finishes bit-identically."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from untrained_cs.cli import main
from untrained_cs.cli.signals import StopRequests
from untrained_cs.fit.checkpoint import FORMAT

RUN = ["reconstruct", "--size", "32", "--layers", "3", "--channels", "8", "--max-iters", "300"]
RUN += ["--quiet", "--threads", "1"]
SAME_FILES = ("history.csv", "measurements.npy", "reconstruction.png", "comparison.png")


def stop_at(monkeypatch, call: int, signum: int = signal.SIGTERM) -> None:
    """Send ourselves ``signum`` when the fit polls for the ``call``-th time."""
    real = StopRequests.requested
    calls = [0]

    def requested(self):
        calls[0] += 1
        if calls[0] == call:
            os.kill(os.getpid(), signum)
        return real(self)

    monkeypatch.setattr(StopRequests, "requested", requested)


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_interrupted_then_resumed_equals_uninterrupted(tmp_path, capsys, monkeypatch, signum, code):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main([*RUN, "--out", str(whole)]) == 0
    capsys.readouterr()
    with monkeypatch.context() as m:
        stop_at(m, 138, signum)
        assert main([*RUN, "--out", str(cut)]) == code
    err = capsys.readouterr().err.strip().splitlines()
    partial = tmp_path / "cut.partial"
    assert len(err) == 1 and f"untrained-cs resume {partial}" in err[0], err
    assert "iteration 137" in err[0]
    assert not cut.exists() and (partial / "checkpoint.pt").exists()
    assert main(["resume", str(partial), "--quiet"]) == 0
    assert not partial.exists()
    for name in SAME_FILES:
        assert (cut / name).read_bytes() == (whole / name).read_bytes(), name
    a, b = (json.loads((d / "metrics.json").read_text()) for d in (whole, cut))
    for d in (a, b):
        d.pop("seconds")
    assert a == b


@pytest.mark.slow  # end to end: scripts/test.sh runs it after the fast suite
def test_sigterm_in_a_real_process(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "untrained_cs.cli", *RUN, "--max-iters", "100000"]
    proc = subprocess.Popen([*cmd, "--out", str(out)], stderr=subprocess.PIPE, text=True)
    partial = tmp_path / "run.partial"
    deadline = time.monotonic() + 60
    while not (partial / "resume.json").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # into the fit
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert proc.returncode == 143
    assert len(lines) == 1 and "interrupted by SIGTERM" in lines[0], lines
    assert "untrained-cs resume" in lines[0]
    assert (partial / "checkpoint.pt").exists() and not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run.partial"]  # no hidden leftovers


def test_interrupt_before_the_fit_leaves_nothing(tmp_path, capsys, monkeypatch):
    def load(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("the handler should have stopped the command")

    monkeypatch.setattr("untrained_cs.problems.problem.load_image", load)
    assert main([*RUN, "--out", str(tmp_path / "run")]) == 143
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nothing was written" in err[0]
    assert not any(tmp_path.iterdir())


@pytest.mark.slow  # end to end: scripts/test.sh runs it after the fast suite
def test_time_checkpoints_let_a_killed_run_resume(tmp_path, capsys, monkeypatch):
    """SIGKILL loses at most one checkpoint interval: the saved state resumes to the end."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "untrained_cs.cli", *RUN, "--max-iters", "100000"]
    proc = subprocess.Popen([*cmd, "--out", str(out), "--checkpoint-every", "1"])
    partial = tmp_path / "run.partial"
    deadline = time.monotonic() + 60
    while not (partial / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.kill()
    proc.wait(timeout=30)
    assert (partial / "checkpoint.pt").exists()
    saved = json.loads((partial / "resume.json").read_text())
    assert saved["command"] == "reconstruct"


def test_resume_refuses_what_is_not_an_interrupted_run(tmp_path, capsys):
    assert main(["resume", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not an interrupted run" in err[0]


# --- damaged and foreign files: refused in one line before any work --------------------------


@pytest.fixture
def interrupted(tmp_path, capsys, monkeypatch):
    """An interrupted run's DIR.partial (SIGTERM at iteration 19), and its files' bytes."""
    with monkeypatch.context() as m:
        stop_at(m, 20)
        assert main([*RUN, "--out", str(tmp_path / "cut")]) == 143
    capsys.readouterr()
    partial = tmp_path / "cut.partial"
    return partial, {p.name: p.read_bytes() for p in partial.iterdir()}


def edit(partial, change) -> None:
    path = partial / "resume.json"
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


def without(d, *keys):
    inner = d
    for key in keys[:-1]:
        inner = inner[key]
    del inner[keys[-1]]
    return d


def with_value(d, section, key, value):
    d[section][key] = value
    return d


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: without(d, "options", "size"), "missing option(s) size"),
        (lambda d: with_value(d, "options", "colour", 1), "unknown option(s) colour"),
        (lambda d: with_value(d, "options", "ratio", 1.5), "option ratio: must be <= 1"),
        (lambda d: with_value(d, "options", "size", 64),
         "no longer describe the saved problem (signal.size: 32 saved, 64 in the options)"),
        (lambda d: with_value(d, "options", "seed", 7), "(seed: 0 saved, 7 in the options)"),
        (lambda d: {"tool": "other", "args": []},
         "unknown field(s) args, tool; missing field(s) command, options, problem, method"),
        (lambda d: {**d, "format": 2, "version": "9.0.0", "new": 1},
         "was written by untrained-cs 9.0.0 (resume format 2)"),
        (lambda d: [d], "expected a JSON object"),
    ],
    ids=["missing", "unknown", "out-of-range", "edited-size", "edited-seed", "foreign", "newer",
         "not-an-object"],
)  # fmt: skip
def test_an_edited_or_foreign_resume_json_is_refused_in_one_line(interrupted, capsys, change,
                                                                 message):  # fmt: skip
    partial, files = interrupted
    edit(partial, change)
    edited = (partial / "resume.json").read_bytes()
    assert main(["resume", str(partial)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and not captured.out, err
    assert err[0].startswith(f"untrained-cs resume: error: {partial / 'resume.json'}")
    kept = {p.name: p.read_bytes() for p in partial.iterdir()}
    assert kept == {**files, "resume.json": edited}  # nothing else touched or written


@pytest.mark.parametrize("damage", ["truncated", "foreign", "newer"])
def test_a_damaged_checkpoint_is_refused_before_the_progress_bar(interrupted, capsys, damage):
    import torch

    partial, files = interrupted
    ckpt = partial / "checkpoint.pt"
    if damage == "truncated":
        ckpt.write_bytes(files["checkpoint.pt"][: len(files["checkpoint.pt"]) // 2])
    elif damage == "foreign":
        torch.save({"weights": torch.zeros(3)}, ckpt)
    else:
        payload = torch.load(ckpt, weights_only=True)
        torch.save({**payload, "format": FORMAT + 1, "version": "9.0.0"}, ckpt)
    damaged = ckpt.read_bytes()
    assert main(["resume", str(partial)]) == 2  # not --quiet: a bar would show on stderr
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one line, no progress bar before it
    newer = f"written by untrained-cs 9.0.0 (checkpoint format {FORMAT + 1})"
    expected = {"truncated": "cannot be read, it is damaged", "foreign": "not a fit state file",
                "newer": newer}[damage]  # fmt: skip
    assert expected in err[0] and str(ckpt) in err[0]
    if damage != "newer":
        assert f"remove {partial} and run the command again" in err[0]
    kept = {p.name: p.read_bytes() for p in partial.iterdir()}
    assert kept == {**files, "checkpoint.pt": damaged}


def test_run_folders_and_checkpoints_record_the_version_that_wrote_them(interrupted, tmp_path):
    import torch

    from untrained_cs.version import package_version

    partial, _ = interrupted
    assert json.loads((partial / "resume.json").read_text())["version"] == package_version()
    assert json.loads((partial / "resume.json").read_text())["format"] == 1
    payload = torch.load(partial / "checkpoint.pt", weights_only=True)
    assert payload["version"] == package_version()
    assert main(["resume", str(partial), "--quiet"]) == 0
    out = tmp_path / "cut"
    for name in ("metrics.json", "manifest.json"):
        assert json.loads((out / name).read_text())["version"] == package_version()


# --- a full disk -------------------------------------------------------------------------------


def no_space(*args, **kwargs):
    import errno

    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "history.csv")


def test_a_full_disk_fails_a_run_in_one_line_with_its_metrics_on_stdout(tmp_path, capsys,
                                                                        monkeypatch):  # fmt: skip
    monkeypatch.setattr("untrained_cs.writer.write_history", no_space)
    assert main([*RUN, "--max-iters", "20", "--out", str(tmp_path / "run")]) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0]
    assert json.loads(captured.out)["iterations"] == 20  # the metrics are not lost
    assert not any(tmp_path.iterdir())  # no half-written folder, no staging left


def test_a_full_disk_fails_a_resume_in_one_line_keeping_its_state(interrupted, capsys,
                                                                  monkeypatch):  # fmt: skip
    partial, files = interrupted
    with monkeypatch.context() as m:
        m.setattr("untrained_cs.writer.write_history", no_space)
        assert main(["resume", str(partial), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0]
    assert f"its fit state is kept: `untrained-cs resume {partial}`" in err[0]
    assert all((partial / n).read_bytes() == b for n, b in files.items())
    assert main(["resume", str(partial), "--quiet"]) == 0 and not partial.exists()


def test_a_non_square_ensemble_run_resumes_to_the_same_estimate(tmp_path, capsys, monkeypatch):
    # --size HxW is recorded as a list in resume.json; an ensemble resumes bit-identically
    run = ["reconstruct", "--size", "16x24", "--ensemble", "2", "--channels", "8", "--layers",
           "3", "--max-iters", "120", "--quiet"]  # fmt: skip
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main([*run, "--out", str(whole)]) == 0
    with monkeypatch.context() as m:
        stop_at(m, 70)
        assert main([*run, "--out", str(cut)]) == 143
    capsys.readouterr()
    assert main(["resume", str(tmp_path / "cut.partial"), "--quiet"]) == 0, capsys.readouterr().err
    for name in ("estimate.npy", "spread.npy"):
        assert (cut / name).read_bytes() == (whole / name).read_bytes(), name
