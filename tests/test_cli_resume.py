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
