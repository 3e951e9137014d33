"""Threads: the default shares the cores among commands running at once; --threads wins."""

from __future__ import annotations

import os
import subprocess
import sys

import torch

from untrained_cs import runtime


def test_default_threads_share_the_cores_with_running_commands(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "jobs_folder", lambda: tmp_path)
    monkeypatch.setattr(runtime, "available_cores", lambda: 4)
    assert runtime.set_threads(None) == 4 and torch.get_num_threads() == 4
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / str(other.pid)).write_text("")
        assert runtime.set_threads(None) == 2
        assert runtime.set_threads(3) == 3  # an explicit count is used as given
    finally:
        other.kill()
        other.wait()
    (tmp_path / "999999999").write_text("")  # a process that ended without cleaning up
    assert runtime.set_threads(None) == 4
    assert not (tmp_path / "999999999").exists()
    assert (tmp_path / str(os.getpid())).exists()


def test_threads_option_is_recorded(tmp_path):
    from untrained_cs.cli import main

    out = tmp_path / "run"
    argv = ["reconstruct", "--size", "32", "--layers", "3", "--channels", "8"]
    assert main([*argv, "--max-iters", "10", "--quiet", "--threads", "1", "--out", str(out)]) == 0
    import json

    assert json.loads((out / "metrics.json").read_text())["config"]["threads"] == 1
