"""The two sides every case compares, each run in its own process by the harness.

``reference_*`` functions run the plain recipe (bench/reference.py) or a loop of single
fits; ``project_*`` functions run the library's fit. All return plain dicts.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import torch

from untrained_cs.fit import FitResult, fit
from untrained_cs.methods import GeneratorFit
from untrained_cs.metrics import psnr
from untrained_cs.pipeline import FitControl, build_generator, resolve, run, run_batch
from untrained_cs.problems import (
    CSMeasurement,
    ImageSignal,
    Problem,
    ProblemSpec,
    SmoothSignal,
    build,
    member_seeds,
)
from untrained_cs.runtime import tune_process

from .reference import ReferenceFit


def image_problem(
    image: str,
    size: int,
    ratio: float,
    seed: int,
    operator: str = "gaussian",
    image_channels: int | None = 1,
) -> Problem:
    """The image case's problem, built by the library from its spec (root seed ``seed``).

    ``image_channels``: 1 (grey, the default), or None (the image's own: colour images
    stay RGB, truth ``[3, H, W]``, the operator acting on all 3·H·W entries).
    """
    measurement = CSMeasurement(operator=operator, ratio=ratio)
    signal = ImageSignal(image, size, channels=image_channels)
    return build(ProblemSpec(signal, measurement, seed))


def reference_image_fit(
    image: str,
    size: int,
    ratio: float,
    channels: int,
    layers: int,
    iters: int,
    seed: int = 0,
    device: str = "cpu",
    image_channels: int | None = 1,
) -> dict[str, Any]:
    """The reference recipe on the same image and the same Gaussian matrix as the project
    (its output has the truth's channels: 3 for a colour image)."""
    problem = image_problem(image, size, ratio, seed, image_channels=image_channels)
    matrix = problem.operator.matrix[0]
    run = ReferenceFit(problem.truth, matrix, channels, layers, seed=seed, device=device).run(iters)
    final = 10 * torch.log10(torch.tensor(1.0 / run.mse[-1])).item()
    return {
        "ms_per_iter": run.ms_per_iter,
        "seconds": run.seconds,
        "iterations": iters,
        "psnr": final,
        "device": device,
    }


def project_image_fit(
    image: str,
    size: int,
    ratio: float,
    channels: int | None,
    layers: int | None,
    max_iters: int | None,
    seed: int = 0,
    device: str = "cpu",
    operator: str = "gaussian",
    method: dict[str, Any] | None = None,
    ensemble: tuple[int, int] | None = None,
    tf32: bool = False,
    image_channels: int | None = 1,
    compile: bool = False,
) -> dict[str, Any]:
    """The project's fit (:func:`untrained_cs.pipeline.run`) with the wall time and PSNR at
    every check.

    Its settings are the CLI's for a CS image (:class:`GeneratorFit` resolved for images),
    with ``channels``, ``layers`` and ``max_iters`` (None: the default), changed by
    ``method`` (GeneratorFit fields, e.g. ``{"schedule": "plateau"}``). ``tf32=True`` lets
    CUDA matmuls and convolutions use TensorFloat-32 (no effect on CPU).
    ``ensemble=(K, k)``: instead of one decoder of ``channels``, K decoders of k channels
    (:func:`member_seeds` of the root seed), each fitted to y by its own stopping rule in
    one batched fit; the estimate scored is their mean output (PSNR logged at every
    check). ``image_channels``: see :func:`image_problem`. ``compile``: the fit runs
    compiled (``FitControl(compile=True)``; its seconds include the compilation). The
    returned ``settings`` are the fit's resolved ones.
    """
    tune_process()
    if tf32:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    problem = image_problem(image, size, ratio, seed, operator, image_channels)
    spec = GeneratorFit(channels=channels, layers=layers, max_iters=max_iters, **(method or {}))
    times: list[float] = []
    psnrs: list[float] = []
    start = time.perf_counter()
    if ensemble is None:

        def log(rec: dict[str, Any]) -> None:
            times.append(time.perf_counter() - start)
            psnrs.append(float(rec["psnr"][0]))

        control = FitControl(compile=compile)
        res = run(problem, spec, callback=log, device=device, control=control).fit
        assert res is not None
    else:
        res = _ensemble_fit(problem, spec, ensemble, device, times, psnrs, start)
    its = max(res.stop_iteration)
    estimate = res.estimate.mean(0, keepdim=True)
    return {
        "ms_per_iter": 1000.0 * res.seconds / max(its, 1),
        "seconds": res.seconds,
        "iterations": its,
        "stop_reason": "/".join(sorted(set(res.stop_reason))),
        "psnr": float(psnr(estimate, problem.truth[None])[0]),
        "times": times,
        "psnrs": psnrs,
        "device": res.device,
        "settings": _settings(resolve(problem, spec)),
    }


def _settings(spec: GeneratorFit) -> dict[str, Any]:
    """The resolved fit settings a bench row reports."""
    keys = ("channels", "layers", "lr", "max_iters", "schedule", "stop")
    return {k: getattr(spec, k) for k in keys}


def _ensemble_fit(
    problem: Problem,
    spec: GeneratorFit,
    ensemble: tuple[int, int],
    device: str,
    times: list[float],
    psnrs: list[float],
    start: float,
) -> FitResult:
    """K decoders of k channels fitted to the problem's y in one batched fit, the PSNR of
    their mean output logged at every check (the pipeline scores single members only)."""
    members, width = ensemble
    spec = resolve(problem, dataclasses.replace(spec, channels=width))
    gen = build_generator(problem, spec, member_seeds(problem.spec.seed, members))
    y = problem.y.expand(members, *problem.y.shape[1:])
    target = problem.truth[None].to(device)
    latest: torch.Tensor | None = None  # the members' current outputs (stopped ones' last)

    def log(rec: dict[str, Any]) -> None:
        nonlocal latest
        times.append(time.perf_counter() - start)
        if latest is None:  # the first record (iteration 0) holds every member
            latest = rec["output"].clone()
        latest[torch.as_tensor(rec["members"], device=latest.device)] = rec["output"]
        psnrs.append(float(psnr(latest.mean(0, keepdim=True), target)[0]))

    return fit(gen, problem.operator, y, lr=spec.lr, callback=log, device=device,
               **spec.rule_overrides())  # fmt: skip


def _timed_fits(
    specs: list[ProblemSpec],
    method: GeneratorFit,
    batched: bool,
    first: int | None,
    score: str,
    device: str,
) -> dict[str, Any]:
    """Fit the problems of ``specs``: all in one batched fit (:func:`run_batch`), or the
    ``first`` ones one by one (:func:`run`). ``score`` is the metric each record reports."""
    problems = [build(s) for s in (specs if batched else specs[: first or len(specs)])]
    start = time.perf_counter()
    if batched:
        records = run_batch(problems, method, device=device)
    else:
        records = [run(p, method, device=device) for p in problems]
    seconds = time.perf_counter() - start
    iters = method.max_iters or 1
    return {
        "fits": len(records),
        "seconds": seconds,
        "fits_per_second": len(records) / seconds,
        "ms_per_iter_per_fit": 1000.0 * seconds / (len(records) * iters),
        "scores": [float(r.metrics[score]) for r in records],
        "device": records[0].metrics["device"],
    }


def two_layer_fits(
    count: int,
    batched: bool,
    n: int = 256,
    p: int = 8,
    channels: int = 64,
    iters: int = 300,
    m_values: tuple[int, ...] = (32, 64, 96, 128),
    first: int | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """``count`` two-layer GD fits of p-smooth signals (root seed b, m cycling over
    ``m_values``), each exactly ``iters`` steps: one batched fit, or a loop over the
    ``first`` ones (timed, then compared per fit by the caller). Scores are relative
    errors."""
    tune_process()
    specs = [ProblemSpec(SmoothSignal(n, p), CSMeasurement(m=m_values[b % len(m_values)]), b)
             for b in range(count)]  # fmt: skip
    method = GeneratorFit("two-layer", channels, optimizer="gd", max_iters=iters,
                          recipe="published", kernel_width=8.0)  # fmt: skip
    return _timed_fits(specs, method, batched, first, "rel_error", device)


def deep_decoder_fits(
    count: int,
    batched: bool,
    size: int = 32,
    channels: int = 32,
    layers: int = 4,
    iters: int = 300,
    first: int | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """``count`` deep-decoder Adam fits at size² (images cycling over four, root seed b, m =
    n/4), each exactly ``iters`` steps at the published constant rate: one batched fit or
    a loop over the ``first`` ones. Scores are PSNRs."""
    tune_process()
    names = ["camera", "grass", "brick", "moon"]
    specs = [ProblemSpec(ImageSignal(names[b % len(names)], size), CSMeasurement(), b)
             for b in range(count)]  # fmt: skip
    method = GeneratorFit(channels=channels, layers=layers, max_iters=iters, recipe="published")
    return _timed_fits(specs, method, batched, first, "psnr", device)
