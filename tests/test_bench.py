"""The benchmark package stays runnable (the benchmarks themselves are not tests)."""

from __future__ import annotations

import json

import pytest
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


def test_lever_variants_score_what_they_say():
    """A variant's rates, its initial scale and an ensemble's mean output, as logged."""
    from bench.schedules import VARIANTS, annealed_after, schedule, trajectories
    from bench.sides import image_problem
    from untrained_cs.generators import DeepDecoder

    floored = schedule(0.05, 100, 300, floor=0.01)
    assert floored(0) == 0.05 / 100 and floored(400) == 0.025 and floored(5000) == 0.01
    annealed = annealed_after(0.005, 1500, 300)
    assert annealed(1499) == 0.005 and annealed(1800) == 0.0025
    names = [
        "warm-up 100, 0.05, halve / 300",
        "hidden init x0.2 (default schedule)",
        "ensemble of 4 (default schedule)",
    ]
    logs = trajectories("camera", 0.1, names, 10)
    truth = image_problem("camera", 64, 0.1, seed=0).truth
    with torch.no_grad():
        out = DeepDecoder(tuple(truth.shape), channels=64, layers=5, seed=[0, 1, 2, 3])()
        scaled = DeepDecoder(tuple(truth.shape), channels=64, layers=5, seed=0)
        for w in scaled.weights:
            w.mul_(0.2)
        start = scaled()

    def psnr(x):
        return float(-10 * torch.log10((x - truth).square().mean()))

    assert logs[names[2]]["iteration"] == [0, 1, 2, 5, 10]
    assert abs(logs[names[2]]["psnr"][0] - psnr(out.mean(0))) < 1e-4  # the ensemble's mean
    assert abs(logs[names[0]]["psnr"][0] - psnr(out[0])) < 1e-4  # seed 0 alone
    assert abs(logs[names[1]]["psnr"][0] - psnr(start[0])) < 1e-4  # the scaled start
    assert logs[names[1]]["psnr"][0] == logs[names[1]]["averaged_psnr"][0]
    # the hidden mixings are normalised: scaling them barely moves the first output, but
    # under Adam (steps of the rate's size whatever the weights' size) it changes the fit
    assert abs(logs[names[1]]["psnr"][0] - logs[names[0]]["psnr"][0]) < 0.05
    assert abs(logs[names[1]]["psnr"][-1] - logs[names[0]]["psnr"][-1]) > 0.01
    assert all(n in VARIANTS for n in names)


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


def test_ensemble_side_scores_its_members_mean_output():
    """``ensemble=(K, k)``: K decoders of k channels fitted in one batch; the PSNR logged
    at the last check and the one returned are those of their mean output."""
    from bench.sides import image_problem, project_image_fit
    from untrained_cs.fit import fit
    from untrained_cs.generators import DeepDecoder
    from untrained_cs.methods import GeneratorFit
    from untrained_cs.metrics import psnr
    from untrained_cs.problems import member_seeds

    side = project_image_fit("camera", 64, 0.1, 64, 5, 20, ensemble=(2, 8))
    problem = image_problem("camera", 64, 0.1, seed=0)
    truth, op, y = problem.truth, problem.operator, problem.y
    gen = DeepDecoder(tuple(truth.shape), channels=8, layers=5, seed=member_seeds(0, 2))
    spec = GeneratorFit().resolved("image")
    res = fit(gen, op, y.expand(2, *y.shape[1:]), lr=spec.lr,
              **{**spec.rule_overrides(), "max_iters": 20})  # fmt: skip
    members = psnr(res.estimate, truth[None].expand_as(res.estimate))
    mean = float(psnr(res.estimate.mean(0, keepdim=True), truth[None])[0])
    assert side["iterations"] == 20 and side["stop_reason"] == "max_iters"
    assert abs(side["psnr"] - mean) < 1e-4 and abs(side["psnrs"][-1] - mean) < 1e-4
    assert all(abs(float(p) - mean) > 1e-3 for p in members)  # not one member's own


def test_ensemble_seed_case_summarises_each_image_and_ratio(monkeypatch):
    """Three seeds' rows then a summary row per image and ratio, the ensemble's setting
    passed to the project side only."""
    import bench.cases as cases

    sides_called = []

    def fake_isolated(fn, **kw):
        sides_called.append((fn.__name__, kw.get("ensemble")))
        if fn.__name__ == "reference_image_fit":
            return {"ms_per_iter": 10.0, "seconds": 40.0, "psnr": 25.0, "peak_mem_mb": 300.0}
        return {
            "device": "cpu", "ms_per_iter": 15.0, "times": [1.0, 4.0], "psnrs": [24.0, 26.0],
            "iterations": 500, "stop_reason": "loss_floor", "seconds": 8.0, "psnr": 26.0,
            "peak_mem_mb": 350.0,
        }  # fmt: skip

    monkeypatch.setattr(cases, "isolated", fake_isolated)
    monkeypatch.setattr(cases, "_REFERENCE_RUNS", {})
    rows = cases.images(("brick",), (0, 1, 2), cases.ENSEMBLES[:1])
    assert [r["case"] for r in rows[:4]] == [
        "cpu64-brick-ensemble4x32", "cpu64-brick-seed1-ensemble4x32",
        "cpu64-brick-seed2-ensemble4x32", "cpu64-brick-ensemble4x32-summary",
    ]  # fmt: skip
    assert len(rows) == 8 and rows[7]["ratio"] == 0.1
    assert rows[3]["seeds_ending_at_or_above_reference"] == 3
    assert rows[3]["time_to_target_speedup"] == 10.0
    assert ("reference_image_fit", None) in sides_called
    assert sides_called.count(("project_image_fit", (4, 32))) == 6


def test_project_side_is_the_pipelines_fit():
    """The single-decoder side is :func:`untrained_cs.pipeline.run` on the problem that
    :func:`untrained_cs.problems.build` makes of the case (the reference sees its matrix)."""
    from bench.sides import image_problem, project_image_fit
    from untrained_cs.methods import GeneratorFit
    from untrained_cs.pipeline import run
    from untrained_cs.problems import CSMeasurement, ImageSignal, ProblemSpec, build

    side = project_image_fit("moon", 32, 0.25, 8, 4, 30, seed=3)
    problem = image_problem("moon", 32, 0.25, seed=3)
    same = build(ProblemSpec(ImageSignal("moon", 32), CSMeasurement(ratio=0.25), 3))
    assert torch.equal(problem.operator.matrix, same.operator.matrix)
    record = run(problem, GeneratorFit(channels=8, layers=4, max_iters=30), device="cpu")
    assert side["iterations"] == record.metrics["iterations"] == 30
    assert abs(side["psnr"] - record.metrics["psnr"]) < 1e-4  # float32 vs float64 scoring
    assert abs(side["psnrs"][-1] - side["psnr"]) < 1e-4


@pytest.mark.slow  # two 1100-iteration fits: scripts/test.sh runs it after the fast suite
def test_mri_levers_name_valid_fits_and_mri_flags(capsys):
    """Every lever is a valid fit; every volume lever's flags parse as `mri` flags; a
    tiny cell runs and prints one scored row per lever."""
    from bench.mri_levers import LEVERS, VOLUME_FLAGS
    from bench.mri_levers import main as levers
    from untrained_cs.cli import build_parser
    from untrained_cs.methods import GeneratorFit

    for fields in LEVERS.values():
        GeneratorFit(**fields)
    for flags in VOLUME_FLAGS.values():
        build_parser().parse_args(["mri", "--slices", "all", *flags])
    argv = ["--accelerations", "4", "--masks", "random", "--size", "32", "--no-baselines"]
    assert levers([*argv, "--levers", "tv term 1e-2", "projection"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["method"] for r in rows] == ["tv term 1e-2", "projection"]
    assert all(r["psnr"] > 15 and 0 < r["ssim"] <= 1 for r in rows)
