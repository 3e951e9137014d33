"""The pipeline: run(problem, method) -> Record, one scoring, defaults resolved per problem."""

from __future__ import annotations

import pytest
import torch

from untrained_cs.methods import NOISY_DEFAULT, GeneratorFit, Solver, method_from_dict
from untrained_cs.mri.masks import center_columns
from untrained_cs.pipeline import noisy_stop, resolve, run
from untrained_cs.problems import (
    CSMeasurement,
    ImageSignal,
    MRIMeasurement,
    MRISignal,
    ProblemSpec,
    SmoothSignal,
    build,
    spec_hash,
)

TINY = GeneratorFit(channels=8, layers=3, max_iters=60)


def test_a_fit_and_a_solver_give_records_scored_the_same_way():
    problem = build(ProblemSpec(ImageSignal("camera", 32), CSMeasurement(ratio=0.5)))
    fit_rec = run(problem, TINY, device="cpu")
    tv_rec = run(problem, Solver("tv"), device="cpu")
    for rec in (fit_rec, tv_rec):
        assert {"psnr", "ssim", "mse", "nmse", "rel_error", "seconds", "device"} <= set(rec.metrics)
        assert rec.estimate.shape == problem.truth.shape
    assert fit_rec.key == spec_hash(problem.spec, resolve(problem, TINY))
    assert fit_rec.key != tv_rec.key and tv_rec.extra["weight_choice"] == "oracle"
    assert fit_rec.history["psnr"][-1, 0] == pytest.approx(fit_rec.metrics["psnr"], abs=1e-4)
    assert method_from_dict(fit_rec.method) == resolve(problem, TINY)


def test_stop_auto_converges_on_clean_data_and_uses_the_noisy_default_on_noisy_data():
    clean = build(ProblemSpec(ImageSignal("camera", 32), CSMeasurement()))
    noisy = build(ProblemSpec(ImageSignal("camera", 32), CSMeasurement(noise_std=0.05)))
    assert resolve(clean, TINY).stop == "converge"
    assert resolve(noisy, TINY).stop == NOISY_DEFAULT
    rec = run(noisy, GeneratorFit(channels=8, layers=3, max_iters=400, stop="discrepancy"))
    assert rec.metrics["stop_rule"] == "discrepancy"


def test_smooth_signals_run_through_the_same_pipeline():
    problem = build(ProblemSpec(SmoothSignal(64, 4), CSMeasurement(m=24)))
    rec = run(problem, GeneratorFit("two-layer", optimizer="gd", max_iters=200), device="cpu")
    assert rec.estimate.shape == (1, 64) and rec.metrics["ssim"] is None
    assert rec.metrics["rel_error"] < 1.0


def test_mri_holdout_takes_sampled_entries_outside_the_centre_only():
    problem = build(ProblemSpec(MRISignal(size=32, coils=2), MRIMeasurement(4.0)))
    stop = noisy_stop(problem, GeneratorFit(stop="holdout"))
    mask = problem.mri.mask
    allowed = mask.columns.bool() & ~center_columns(32, mask.center_fraction).bool()
    assert stop.candidates is not None
    cols = stop.candidates.reshape(-1, 32).any(0)
    assert torch.equal(cols, allowed)


def test_a_batched_fit_matches_single_fits_member_by_member():
    from untrained_cs.pipeline import run_batch

    specs = [ProblemSpec(SmoothSignal(64, 4), CSMeasurement(m=24), seed=s) for s in (3, 4)]
    problems = [build(s) for s in specs]
    method = GeneratorFit("two-layer", optimizer="gd", max_iters=100, stop="converge")
    batched = run_batch(problems, method, device="cpu")
    for rec, problem in zip(batched, problems, strict=True):
        single = run(problem, method, device="cpu")
        assert rec.key == single.key
        assert rec.metrics["rel_error"] == pytest.approx(single.metrics["rel_error"], rel=1e-3)
        assert rec.metrics["iterations"] == single.metrics["iterations"]


def test_the_published_recipe_runs_every_iteration_at_a_constant_lr():
    problem = build(ProblemSpec(SmoothSignal(32, 3), CSMeasurement(m=24)))
    easy = GeneratorFit(channels=8, layers=3, max_iters=300, lr=0.01, loss_floor=0.5)
    project = run(problem, easy, device="cpu")
    assert project.metrics["stop_reason"] == "loss_floor" and project.metrics["iterations"] < 300
    published = run(
        problem,
        GeneratorFit(
            channels=8, layers=3, max_iters=300, lr=0.01, loss_floor=0.5, recipe="published"
        ),
        device="cpu",
    )
    assert published.metrics["iterations"] == 300
    assert published.metrics["stop_reason"] == "max_iters"
    assert set(published.history["lr"].ravel().tolist()) == {0.01}
    assert "recipe" not in project.method and published.method["recipe"] == "published"
    with pytest.raises(ValueError, match="recipe must be one of"):
        GeneratorFit(recipe="fast")


def test_each_kind_resolves_its_learning_rate_schedule():
    image = GeneratorFit().resolved("image")
    assert (image.schedule, image.lr) == ("decay", 0.05)
    assert image.rule_overrides()["warmup"] > 0 and image.rule_overrides()["plateau"] is False
    assert GeneratorFit().resolved("smooth").schedule == "plateau"
    gd = GeneratorFit("two-layer", optimizer="gd").resolved("smooth")
    assert gd.schedule == "constant" and "schedule" not in gd.to_dict()
    published = GeneratorFit(recipe="published").resolved("image")
    assert published.lr == 0.005  # the paper's constant rate, not the project's default
    assert "warmup" not in published.rule_overrides() and published.schedule == "constant"
    assert "schedule" not in published.to_dict()
    # another schedule than the kind's starts from the paper's rate, not the kind's
    assert GeneratorFit(schedule="plateau").resolved("image").lr == 0.005
    assert "schedule" not in GeneratorFit(schedule="plateau").to_dict()
    with pytest.raises(ValueError, match="schedule must be one of"):
        GeneratorFit(schedule="cosine")
    with pytest.raises(ValueError, match="schedule applies to the project recipe"):
        GeneratorFit(recipe="published", schedule="decay")


def test_smooth_signals_are_fitted_with_signed_outputs():
    problem = build(ProblemSpec(SmoothSignal(32, 3), CSMeasurement(m=32), seed=2))
    assert (problem.truth < 0).sum() > 8  # this draw has both signs
    record = run(problem, GeneratorFit(channels=16, layers=3, max_iters=1500, lr=0.01),
                 device="cpu")  # fmt: skip
    assert (record.estimate < 0).any() and record.metrics["rel_error"] < 0.2


def test_kernel_width_sets_the_two_layer_kernel_and_only_enters_the_key_when_given():
    from untrained_cs.pipeline import build_generator

    problem = build(ProblemSpec(SmoothSignal(64, 3), CSMeasurement(m=16)))
    default = GeneratorFit("two-layer", optimizer="gd")
    wide = GeneratorFit("two-layer", optimizer="gd", kernel_width=16.0)
    assert "kernel_width" not in default.to_dict() and wide.to_dict()["kernel_width"] == 16.0
    assert method_from_dict(wide.to_dict()) == wide
    support = [int((build_generator(problem, m).kernel > 0).sum()) for m in (default, wide)]
    assert support == [7, 31]  # half-widths 4 and 16: 2w - 1 taps
    with pytest.raises(ValueError, match="two-layer generator only"):
        GeneratorFit("deep-decoder", kernel_width=4.0)


def test_the_2ch_decoder_starts_at_the_scale_of_the_coil_images():
    from untrained_cs.mri.problem import COIL_PEAK
    from untrained_cs.pipeline import build_generator

    spec = ProblemSpec(MRISignal(size=32, coils=2), MRIMeasurement(acceleration=4, model="2ch"))
    problem = build(spec)
    gen = build_generator(problem, GeneratorFit(channels=8, layers=3))
    mri = problem.mri
    assert gen.output_scale == pytest.approx(mri.output_scale()) and gen.output_scale < 1
    zero_filled = mri.operator.unsample(mri.y).abs().max()
    assert gen.output_scale * COIL_PEAK == pytest.approx(float(zero_filled), rel=1e-5)


def test_the_progress_total_is_where_the_schedule_anneals() -> None:
    """The MRI default stops annealed at the first check after 800 + 7 × 40 iterations
    (1100, as its fits end), far below its 3000 cap; a plateau fit may run to its cap."""
    assert GeneratorFit().resolved("mri").expected_iterations() == 1100
    assert GeneratorFit(schedule="plateau").resolved("mri").expected_iterations() == 3000
    assert GeneratorFit(max_iters=500).resolved("mri").expected_iterations() == 500
