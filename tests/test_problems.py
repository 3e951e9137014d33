"""Problem specs: JSON round trip, stable hashes, one seed derivation, build(spec)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
import torch

from untrained_cs.problems import (
    CSMeasurement,
    ImageSignal,
    MRIMeasurement,
    MRISignal,
    ProblemSpec,
    SmoothSignal,
    build,
    derive_seed,
    member_seeds,
    spec_hash,
)

SPECS = [
    ProblemSpec(),
    ProblemSpec(ImageSignal("grass", 32), CSMeasurement("structured", 0.1, noise_std=0.01), 7),
    ProblemSpec(SmoothSignal(64, 4), CSMeasurement("mask", m=20), 2**40),
    ProblemSpec(MRISignal(size=64, coils=4, snr=30.0), MRIMeasurement(4.0, 0.08, "equispaced")),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.signal.kind)
def test_json_round_trip(spec):
    text = json.dumps(spec.to_dict())
    assert ProblemSpec.from_dict(json.loads(text)) == spec
    assert spec_hash(ProblemSpec.from_dict(json.loads(text))) == spec_hash(spec)


def test_hash_is_stable_across_processes():
    code = (
        "import json, sys\n"
        "from untrained_cs.problems import ProblemSpec, spec_hash\n"
        "for line in sys.stdin: print(spec_hash(ProblemSpec.from_dict(json.loads(line))))\n"
    )
    lines = "".join(json.dumps(s.to_dict()) + "\n" for s in SPECS)
    out = subprocess.run(
        [sys.executable, "-c", code], input=lines, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [spec_hash(s) for s in SPECS]


ALTERNATIVES = {
    "image": ("brick", "grass"),
    "size": (48, 96),
    "n": (48, 96),
    "p": (3, 5),
    "coils": (3, 5),
    "snr": (20.0, 25.0),
    "operator": ("structured", "mask"),
    "ratio": (0.3, 0.4),
    "noise_std": (0.1, 0.2),
    "acceleration": (6.0, 4.0),
    "center_fraction": (0.1, 0.2),
    "mask": ("random", "equispaced"),
    "model": ("2ch", "sense"),
}


def _changes(spec: ProblemSpec):
    """One changed copy per field of the spec (every signal and measurement field, the seed)."""
    yield spec.replace(seed=spec.seed + 1)
    for part in ("signal", "measurement"):
        for f in dataclasses.fields(getattr(spec, part)):
            if f.name not in ALTERNATIVES:
                continue  # kspace/slice need a file; m replaces the ratio (covered there)
            value = getattr(getattr(spec, part), f.name)
            new = next(v for v in ALTERNATIVES[f.name] if v != value)
            yield spec.replace(**{f"{part}.{f.name}": new})


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[3]], ids=["cs", "mri"])
def test_changing_any_field_changes_the_hash(spec):
    hashes = {spec_hash(spec)}
    changed = list(_changes(spec))
    assert len(changed) >= 4
    for other in changed:
        assert other != spec
        hashes.add(spec_hash(other))
    assert len(hashes) == len(changed) + 1


@pytest.mark.parametrize(
    "build_spec, message",
    [
        (lambda: CSMeasurement(ratio=1.5), "ratio"),
        (lambda: CSMeasurement(noise_std=float("nan")), "noise_std must be finite"),
        (lambda: ImageSignal(size=4), "size"),
        (lambda: SmoothSignal(16, 17), "p must be <= n"),
        (lambda: MRIMeasurement(acceleration=0.5), "acceleration"),
        (lambda: ProblemSpec(seed=-1), "seed"),
        (lambda: ProblemSpec(seed=2**64), "seed"),
        (lambda: ProblemSpec(MRISignal(), CSMeasurement()), "cannot be measured"),
        (lambda: ProblemSpec.from_dict({"signal": {"kind": "image", "colour": 1}}), "colour"),
    ],
)
def test_bad_values_name_the_field(build_spec, message):
    with pytest.raises(ValueError, match=message):
        build_spec()


def test_seed_derivation_is_deterministic_and_independent():
    assert derive_seed(0, "operator") == derive_seed(0, "operator")
    seeds = {derive_seed(r, p) for r in range(50) for p in ("generator", "operator", "noise")}
    assert len(seeds) == 150  # no two purposes or roots share a stream
    assert member_seeds(5, 3) == [derive_seed(5, "generator", b) for b in range(3)]
    assert all(0 <= s < 2**63 for s in seeds)
    with pytest.raises(ValueError, match="purpose"):
        derive_seed(0, "nope")


def test_build_is_reproducible_and_noise_has_its_std():
    spec = ProblemSpec(ImageSignal("camera", 32), CSMeasurement(ratio=0.5, noise_std=0.05))
    a, b = build(spec), build(spec)
    assert torch.equal(a.y, b.y) and a.noise_std == 0.05
    clean = build(spec.replace(**{"measurement.noise_std": 0.0}))
    noise = a.y - clean.y
    assert abs(float(noise.std()) - 0.05) < 0.005
    other = build(spec.replace(seed=1))
    assert not torch.equal(other.y, a.y)


def test_m_given_directly_and_smooth_signals():
    p = build(ProblemSpec(SmoothSignal(64, 4), CSMeasurement(m=20)))
    assert p.m == 20 and p.truth.shape == (1, 64)
    assert abs(float(p.truth.norm()) - 1.0) < 1e-6
    with pytest.raises(ValueError, match="m must be <= n"):
        build(ProblemSpec(SmoothSignal(16, 4), CSMeasurement(m=17)))


def test_each_kind_answers_the_pipeline_through_its_typed_interface():
    from untrained_cs.mri.problem import COIL_PEAK, MRIProblem
    from untrained_cs.problems import CSProblem, Problem

    image = build(ProblemSpec(ImageSignal("camera", 16), CSMeasurement(ratio=0.5)))
    smooth = build(ProblemSpec(SmoothSignal(32, 3), CSMeasurement(m=16)))
    sense = build(ProblemSpec(MRISignal(size=32, coils=2), MRIMeasurement(4.0, model="sense")))
    twoch = build(ProblemSpec(MRISignal(size=32, coils=2), MRIMeasurement(4.0, model="2ch")))
    assert isinstance(image, CSProblem) and isinstance(smooth, CSProblem)
    assert isinstance(sense, MRIProblem) and isinstance(twoch, MRIProblem)
    assert [p.kind for p in (image, smooth, sense, twoch)] == ["image", "smooth", "mri", "mri"]
    assert [p.signed_output for p in (image, smooth, sense, twoch)] == [False, True, False, True]
    # only images are compared with the truth by the engine itself
    assert image.fit_truth is image.truth
    assert smooth.fit_truth is None and sense.fit_truth is None and twoch.fit_truth is None
    assert image.output_scale() == sense.output_scale() == 1.0
    # a signed signal's generator starts at the rms the data imply (the truth's, ±25 %)
    rms = float(smooth.known_truth.square().mean().sqrt())
    assert smooth.output_scale() == pytest.approx(rms, rel=0.25)
    peak = float(twoch.mri.operator.unsample(twoch.y).abs().max())
    assert twoch.output_scale() * COIL_PEAK == pytest.approx(peak, rel=1e-6)
    assert image.holdout_candidates() is None and image.baseline_grid is None
    assert image.facts() == {} and not hasattr(image, "extra")
    out = torch.rand(2, *twoch.operator.in_shape)
    assert twoch.to_image(out).shape == (2, *twoch.truth.shape)
    torch.testing.assert_close(twoch.to_image(out), twoch.mri.images(out))
    assert torch.equal(image.to_image(out), out)  # CS estimates are the outputs themselves
    assert sense.facts()["model"] == "sense" and sense.facts()["achieved_acceleration"] == 4.0
    with pytest.raises(TypeError, match="abstract"):
        Problem(image.spec, image.truth, image.operator, image.y)  # type: ignore[abstract]


def test_the_zero_filled_estimate_is_the_adjoint_unless_the_problem_has_its_own():
    from untrained_cs.methods import Solver
    from untrained_cs.mri.baselines import zero_filled
    from untrained_cs.pipeline import run

    image = build(ProblemSpec(ImageSignal("camera", 16), CSMeasurement(ratio=0.5)))
    assert image.zero_filled() is None  # the plain adjoint, computed by the pipeline
    expected = image.operator.adjoint(image.y)[0]
    torch.testing.assert_close(run(image, Solver("zero_filled")).estimate, expected)
    mri = build(ProblemSpec(MRISignal(size=32, coils=2), MRIMeasurement(4.0)))
    own = mri.zero_filled()
    assert own is not None and torch.equal(own, zero_filled(mri.mri))
    assert torch.equal(run(mri, Solver("zero_filled")).estimate, own)


def test_mri_holdout_candidates_are_the_sampled_entries_outside_the_centre():
    from untrained_cs.mri.masks import center_columns

    problem = build(ProblemSpec(MRISignal(size=32, coils=2), MRIMeasurement(4.0), seed=5))
    held = problem.holdout_candidates()
    assert held is not None and held.shape == problem.y.shape and held.dtype == torch.bool
    mask = problem.mri.mask
    outside = mask.columns.bool() & ~center_columns(32, mask.center_fraction).bool()
    assert torch.equal(held[0, 0, 0], outside) and bool((held == held[:, :1, :1]).all())
    assert 0 < int(outside.sum()) < mask.sampled


def test_build_reaches_other_kinds_only_through_their_registered_builder(monkeypatch):
    from untrained_cs.mri.problem import build_problem
    from untrained_cs.problems import problem as module

    spec = ProblemSpec(MRISignal(size=32, coils=2), MRIMeasurement(4.0))
    assert module.BUILDERS[MRISignal] is build_problem
    monkeypatch.setattr(module, "BUILDERS", {})
    with pytest.raises(ValueError, match="no builder of mri problems is registered"):
        build(spec)
    module.register_builder(MRISignal, lambda s: "built")
    assert build(spec) == "built"


def test_imaging_operators_are_measurements_with_canonical_options():
    """An operator with options is one canonical text (defaults left out), so equal
    settings hash alike; operators whose m follows from their options store no ratio."""
    from untrained_cs.problems import spec_hash

    a = CSMeasurement("downsample:kernel=bicubic, factor=4")
    b = CSMeasurement("downsample:factor=4,kernel=bicubic", ratio=0.5)
    assert a.operator == "downsample:factor=4,kernel=bicubic" and a.ratio is None
    assert spec_hash(ProblemSpec(measurement=a)) == spec_hash(ProblemSpec(measurement=b))
    assert CSMeasurement("blur:sigma=1.5").operator == "blur"  # the default sigma
    assert CSMeasurement("gaussian").ratio == 0.25
    problem = build(ProblemSpec(ImageSignal("camera", 32), a, seed=1))
    assert problem.y.shape == (1, 1, 8, 8) and problem.m == 64
    torch.testing.assert_close(problem.y.mean(), problem.truth.mean(), atol=0.02, rtol=0)
    with pytest.raises(ValueError, match="has no option width"):
        CSMeasurement("blur:width=2")
