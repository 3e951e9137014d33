"""Case ``volume``: one 3D deep decoder on the whole volume vs 2D deep decoders slice by slice.

The problem is the bundled brain volume at the ``volume`` command's default size (64 x 64 x
10, intensities divided by their 99.9th percentile), measured slice by slice: every slice by
its own structured operator (``structured-slices``, m_s = n_s / 4 per slice, m = n / 4), so
that both sides see literally the same measurements: the 3D decoder fits the volume's y
through the slice operator, the 2D decoders fit the same numbers as one batched fit of D
members (member d = slice d, measured by draw d of the operator's
:meth:`~untrained_cs.operators.slices.SliceStructuredOperator.per_slice`).

Sides (each in a fresh process, one thread, the same fit settings: Adam peaking at 0.05
under the decay schedule, the convergence rule, at most ``MAX_ITERS`` iterations; each 2D
member stops by its own rule, the 3D fit as a whole):

- ``2d``: D decoders of ``K2D`` channels (5 layers), one per slice;
- ``3d-same-params``: one 3D decoder whose channels give about the slice decoders'
  parameters summed (5k² + 11k ≈ D (5k₂² + 11k₂));
- ``3d-same-width``: one 3D decoder of ``K2D`` channels (1/D of the parameters: the
  ``volume`` command's default).

Each row: PSNR over the volume (data range 1), the mean and the worst of the slices'
PSNRs, SSIM (mean over slices), the parameters, iterations, wall seconds and ms per
iteration. Two context rows: 3D TV and 3D l1-wavelet (Daubechies) on the same measurements,
their weights chosen with the truth (oracle), as the ``volume`` command's baselines do.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch

from untrained_cs.defaults import fit_defaults
from untrained_cs.fit import fit
from untrained_cs.generators.factory import make_generator
from untrained_cs.methods import GeneratorFit, Solver
from untrained_cs.metrics import psnr, scores
from untrained_cs.operators.slices import SliceStructuredOperator
from untrained_cs.pipeline import resolve, run
from untrained_cs.problems import (
    CSMeasurement,
    ProblemSpec,
    VolumeProblem,
    VolumeSignal,
    build,
    member_seeds,
)

from .harness import isolated

#: channels of every slice decoder (the `volume` command's default width)
K2D = fit_defaults("volume", "deep-decoder")["channels"]
LAYERS = 5
MAX_ITERS = 3000
RATIO = 0.25


def problem(seed: int = 0) -> VolumeProblem:
    """The bundled brain at the command's default size, measured slice by slice."""
    spec = ProblemSpec(VolumeSignal(), CSMeasurement("structured-slices", RATIO), seed)
    built = build(spec)
    assert isinstance(built, VolumeProblem)
    return built


def decoder_parameters(channels: int, layers: int = LAYERS) -> int:
    """Trained parameters of a one-channel deep decoder: d k x k mixings, the norms' 2dk
    affine terms, the k-weight head (the same in 2D and 3D: 1x1(x1) convolutions)."""
    return layers * channels * channels + 2 * layers * channels + channels


def matched_channels(total: int, layers: int = LAYERS) -> int:
    """The channels whose decoder's parameters come closest to ``total``."""
    k = int(math.sqrt(total / layers))
    return min(range(max(1, k - 3), k + 4), key=lambda c: abs(decoder_parameters(c) - total))


def method(channels: int) -> GeneratorFit:
    """The fit both sides run: the volume defaults with ``channels`` and ``MAX_ITERS``."""
    return GeneratorFit(channels=channels, layers=LAYERS, max_iters=MAX_ITERS)


def _scores(estimate: torch.Tensor, truth: torch.Tensor) -> dict[str, float]:
    """Volume PSNR and SSIM (mean over slices), and the mean of the slices' PSNRs."""
    est, tru = estimate.reshape(truth.shape).cpu(), truth.cpu()
    whole = scores(est, tru, 1.0)
    per_slice = psnr(est[0].unsqueeze(1), tru[0].unsqueeze(1), 1.0)  # [D]
    return {
        "psnr": round(whole["psnr"], 2),
        "slice_mean_psnr": round(float(per_slice.mean()), 2),
        "worst_slice_psnr": round(float(per_slice.min()), 2),
        "ssim": round(float(whole["ssim"]), 4),
    }


def fit_3d(channels: int, seed: int = 0) -> dict[str, Any]:
    """One 3D decoder of ``channels`` fitted to the whole volume (the pipeline's fit)."""
    torch.set_num_threads(1)
    prob = problem(seed)
    record = run(prob, method(channels), device="cpu")
    res = record.fit
    assert res is not None
    its = int(res.stop_iteration[0])
    return {
        **_scores(record.estimate, prob.truth),
        "parameters": record.metrics["parameters"],
        "iterations": its,
        "stop_reason": res.stop_reason[0],
        "seconds": round(res.seconds, 1),
        "ms_per_iter": round(1000.0 * res.seconds / max(its, 1), 1),
    }


def fit_2d(channels: int, seed: int = 0) -> dict[str, Any]:
    """D 2D decoders of ``channels``, one per slice, fitted in one batched fit to the same
    measurements (slice d's rows of y, slice d's draw of the operator)."""
    torch.set_num_threads(1)
    prob = problem(seed)
    op = prob.operator
    assert isinstance(op, SliceStructuredOperator)
    slices = op.per_slice()
    depth = op.slices
    y = prob.y.reshape(depth, -1)
    truth = prob.truth[0].unsqueeze(1)  # [D, 1, H, W]
    spec = resolve(prob, method(channels))
    gen = make_generator("deep-decoder", truth.shape[1:], channels, LAYERS,
                         seed=member_seeds(prob.spec.seed, depth))  # fmt: skip
    start = time.perf_counter()
    res = fit(gen, slices, y, truth=truth, lr=spec.lr, device="cpu", **spec.rule_overrides())
    seconds = time.perf_counter() - start
    its = [int(i) for i in res.stop_iteration]
    estimate = res.estimate[:, 0][None]  # [D, 1, H, W] -> [1, D, H, W]
    return {
        **_scores(estimate, prob.truth),
        "parameters": depth * gen.num_parameters(),
        "parameters_per_slice": gen.num_parameters(),
        "iterations": max(its),
        "iterations_mean": round(sum(its) / len(its), 1),
        "stop_reason": "/".join(sorted(set(res.stop_reason))),
        "seconds": round(seconds, 1),
        "ms_per_iter": round(1000.0 * seconds / max(max(its), 1), 1),
    }


def baseline(name: str, seed: int = 0) -> dict[str, Any]:
    """A classical solver on the same volume problem (3D TV or 3D l1-wavelet; oracle
    weight from the solvers' grid): context for both decoders."""
    torch.set_num_threads(1)
    prob = problem(seed)
    record = run(prob, Solver(name), device="cpu")
    return {
        **_scores(record.estimate, prob.truth),
        "weight": record.extra.get("weight"),
        "seconds": record.metrics["seconds"],
    }


def volume_case() -> list[dict[str, Any]]:
    """3D decoder on the brain volume vs 2D decoders slice by slice (same measurements)."""
    prob = problem()
    depth, h, w = prob.truth.shape[1:]
    k3 = matched_channels(depth * decoder_parameters(K2D))
    common = {
        "volume": f"brain {depth}x{h}x{w}",
        "operator": "structured-slices",
        "ratio": RATIO,
        "device": "cpu",
        "threads": 1,
        "max_iters": MAX_ITERS,
    }
    sides = [
        ("volume-2d", isolated(fit_2d, channels=K2D), K2D),
        ("volume-3d-same-params", isolated(fit_3d, channels=k3), k3),
        ("volume-3d-same-width", isolated(fit_3d, channels=K2D), K2D),
    ]
    reference = sides[0][1]
    rows = []
    for name, side, channels in sides:
        rows.append({
            "case": name, **common, "channels": channels, **side,
            "peak_mem_mb": round(side["peak_mem_mb"], 1),
            "reference_ms_per_iter": reference["ms_per_iter"],
            "project_ms_per_iter": side["ms_per_iter"],
            "speedup_per_iter": None, "time_to_target_speedup": None,
            "psnr_vs_2d": round(side["psnr"] - reference["psnr"], 2),
        })  # fmt: skip
    for name in ("tv", "l1_wavelet"):
        side = isolated(baseline, name=name)
        rows.append({
            "case": f"volume-{name.replace('_', '-')}-3d", **common, **side,
            "peak_mem_mb": round(side["peak_mem_mb"], 1),
            "psnr_vs_2d": round(side["psnr"] - reference["psnr"], 2),
        })  # fmt: skip
    return rows
