"""The inverse-problems case (issue 22): denoising, ×4 super-resolution and deblurring.

Grey bundled images (camera, moon, brick, coins; root seed 0), each problem built by the library
from its spec with a registered operator (canonical text in :data:`PROBLEMS`), and solved
through ``pipeline.run`` by every method of :data:`METHODS`:

* ``deep_decoder``: the project's default fit (nothing set; on noisy data the default stop
  is the hold-out rule, which uses no ground truth);
* ``tv`` and ``l1_wavelet``: the classical solvers, their weight chosen on the library's
  grid by :data:`WEIGHT_CHOICE` (no ground truth);
* ``min_norm`` (A⁺ y by CG: the noisy image itself for denoising) and ``zero_filled``
  (Aᵀ y) for reference.

One process per image and problem (all methods in it, one after the other, one thread);
a method's seconds are its ``pipeline.run`` wall time, problem building excluded.
"""

from __future__ import annotations

import time
from typing import Any

from untrained_cs.methods import GeneratorFit, Method, Solver
from untrained_cs.pipeline import run
from untrained_cs.problems import CSMeasurement, ImageSignal, ProblemSpec, build
from untrained_cs.runtime import tune_process

from .harness import isolated

IMAGES = ("camera", "moon", "brick", "coins")
#: the problems: operator (canonical text), noise std σ (images in [0, 1]), image size.
#: ×4 super-resolution runs at 128² (y is 32², m = n/16), 64² → 16² being too coarse.
PROBLEMS: dict[str, dict[str, Any]] = {
    "denoise": {"operator": "identity", "noise_std": 0.1, "size": 64},
    "superres4": {
        "operator": "downsample:factor=4,kernel=bicubic",
        "noise_std": 0.01,
        "size": 128,
    },
    "deblur": {"operator": "blur:sigma=2.0", "noise_std": 0.01, "size": 64},
}
#: the ground-truth-free rule choosing TV's and ℓ1-wavelet's weight
WEIGHT_CHOICE = "holdout"
METHODS: dict[str, Method] = {
    "deep_decoder": GeneratorFit(),
    "tv": Solver("tv", weight_choice=WEIGHT_CHOICE),
    "l1_wavelet": Solver("l1_wavelet", weight_choice=WEIGHT_CHOICE),
    "min_norm": Solver("min_norm", weight_choice=WEIGHT_CHOICE),
    "zero_filled": Solver("zero_filled", weight_choice=WEIGHT_CHOICE),
}


def spec_of(image: str, problem: str, seed: int = 0) -> ProblemSpec:
    """The spec of one image under one problem of :data:`PROBLEMS`."""
    p = PROBLEMS[problem]
    measurement = CSMeasurement(operator=p["operator"], noise_std=p["noise_std"])
    return ProblemSpec(ImageSignal(image, p["size"], channels=1), measurement, seed)


def solve_all(
    image: str, problem: str, seed: int = 0, methods: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Every method (or those named) on one problem: PSNR, SSIM, seconds and its facts."""
    tune_process()
    built = build(spec_of(image, problem, seed))
    out: dict[str, Any] = {}
    for name in methods or tuple(METHODS):
        start = time.perf_counter()
        rec = run(built, METHODS[name], device="cpu")
        result = {
            "psnr": round(rec.metrics["psnr"], 2),
            "ssim": round(rec.metrics["ssim"], 4),
            "seconds": round(time.perf_counter() - start, 2),
        }
        if rec.fit is not None:
            result["iterations"] = rec.metrics["iterations"]
            result["stop_reason"] = rec.metrics["stop_reason"]
            result["settings"] = {k: rec.method[k] for k in ("channels", "layers", "stop")}
        elif rec.extra.get("weight") is not None:
            result["weight"] = rec.extra["weight"]
            result["weight_choice"] = rec.extra["weight_choice"]
        out[name] = result
    return {"m": built.m, "n": built.n, "methods": out}


def inverse_row(image: str, problem: str, seed: int = 0) -> dict[str, Any]:
    """One image under one problem, every method solved in one fresh process."""
    solved = isolated(solve_all, image=image, problem=problem, seed=seed)
    methods = solved["methods"]
    spec = spec_of(image, problem, seed)
    return {
        "case": f"inverse-{problem}-{image}",
        "device": "cpu",
        "image": image,
        "problem": problem,
        "operator": spec.measurement.operator,
        "noise_std": spec.measurement.noise_std,
        "size": PROBLEMS[problem]["size"],
        "m": solved["m"],
        "n": solved["n"],
        "seed": seed,
        "weight_choice": WEIGHT_CHOICE,
        "methods": methods,
        "best_psnr": max(methods, key=lambda k: methods[k]["psnr"]),
        "peak_mem_mb": round(solved["peak_mem_mb"], 1),
    }


def inverse() -> list[dict[str, Any]]:
    """Denoising, ×4 super-resolution, deblurring: deep decoder vs TV vs ℓ1-wavelet.

    Denoising σ 0.1 (64²), ×4 bicubic super-resolution (128², noise 0.01), Gaussian blur of
    σ 2 px (64², noise 0.01) on camera, moon, brick and coins; A⁺y and Aᵀy for reference.
    """
    return [inverse_row(image, problem) for problem in PROBLEMS for image in IMAGES]
