"""The benchmark package stays runnable (the benchmarks themselves are not tests)."""

from __future__ import annotations

import json

import torch

from bench.__main__ import main
from bench.cases import CPU_CASES, GPU_CASES, run_case
from bench.reference import reference_decoder


def test_bench_lists_every_case(capsys):
    assert main(["--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == [*CPU_CASES, *GPU_CASES]


def test_unknown_case_is_an_error(capsys):
    assert main(["nope"]) == 2
    assert "unknown case" in capsys.readouterr().err


def test_gpu_case_without_cuda_says_skipped():
    if torch.cuda.is_available():
        return
    (row,) = run_case("gpu64")
    assert row["skipped"] and json.dumps(row)


def test_reference_decoder_is_the_published_shape():
    net = reference_decoder(1, 8, 5)
    out = net(torch.rand(1, 8, 4, 4))
    assert out.shape == (1, 1, 64, 64) and 0 < out.min() and out.max() < 1


def test_schedule_search_rejects_an_unknown_schedule(capsys):
    from bench.schedules import main as schedules

    assert schedules(["--only", "nope"]) == 2
    assert "unknown schedule" in capsys.readouterr().err


def test_image_cases_share_one_reference_run_per_problem(monkeypatch):
    """Settings of one problem reuse the reference run; each case gives one row."""
    import bench.cases as cases

    calls = []

    def fake_isolated(fn, **kw):
        calls.append(fn.__name__)
        if fn.__name__ == "reference_image_fit":
            return {"ms_per_iter": 10.0, "seconds": 40.0, "psnr": 28.0, "peak_mem_mb": 300.0}
        return {
            "device": "cpu",
            "ms_per_iter": 5.0,
            "times": [1.0, 2.0, 4.0],
            "psnrs": [20.0, 28.5, 29.0],
            "iterations": 3000,
            "stop_reason": "loss_floor",
            "seconds": 15.0,
            "psnr": 29.0,
            "peak_mem_mb": 250.0,
        }

    monkeypatch.setattr(cases, "isolated", fake_isolated)
    monkeypatch.setattr(cases, "_REFERENCE_RUNS", {})
    default, before = run_case("cpu64")[0], run_case("cpu64-plateau")[0]
    assert calls.count("reference_image_fit") == 1 and calls.count("project_image_fit") == 2
    assert default["case"] == "cpu64" and before["case"] == "cpu64-plateau"
    assert before["project_settings"] == {"method": {"schedule": "plateau", "lr": 0.005}}
    assert default["speedup_per_iter"] == 2.0
    assert default["project_seconds_to_reference_psnr"] == 2.0
    assert default["time_to_target_speedup"] == 20.0
