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


def test_schedule_search_rejects_an_image_without_a_reference_psnr(capsys):
    from bench.schedules import main as schedules

    assert schedules(["--images", "coins"]) == 2
    assert "no reference PSNR" in capsys.readouterr().err
