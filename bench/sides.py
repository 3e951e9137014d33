"""The two sides every case compares, each run in its own process by the harness.

``reference_*`` functions run the plain recipe (bench/reference.py) or a loop of single
fits; ``project_*`` functions run the library's fit. All return plain dicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from untrained_cs.data import load_image
from untrained_cs.fit import fit
from untrained_cs.generators import DeepDecoder, Generator, TwoLayerGenerator
from untrained_cs.methods import GeneratorFit
from untrained_cs.metrics import psnr
from untrained_cs.operators import GaussianOperator, make_operator
from untrained_cs.problems import derive_seed, member_seeds
from untrained_cs.runtime import tune_process
from untrained_cs.theory import smooth_signal

from .reference import ReferenceFit


def image_problem(image: str, size: int, ratio: float, seed: int, operator: str = "gaussian"):
    """Truth, operator (seed + 1) and y = A x* for an image case, as every side builds it."""
    truth = load_image(image, size)
    op = make_operator(operator, tuple(truth.shape), ratio, seed=seed + 1)
    with torch.no_grad():
        y = op(truth[None])
    return truth, op, y


def reference_image_fit(
    image: str,
    size: int,
    ratio: float,
    channels: int,
    layers: int,
    iters: int,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, Any]:
    """The reference recipe on the same image and the same Gaussian matrix as the project."""
    truth, op, _ = image_problem(image, size, ratio, seed)
    run = ReferenceFit(truth, op.matrix[0], channels, layers, seed=seed, device=device).run(iters)
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
    channels: int,
    layers: int,
    max_iters: int,
    seed: int = 0,
    device: str = "cpu",
    operator: str = "gaussian",
    method: dict[str, Any] | None = None,
    ensemble: tuple[int, int] | None = None,
    **fit_options: Any,
) -> dict[str, Any]:
    """The project's fit with the wall time and PSNR at every check.

    Its settings are the CLI's for a CS image (:class:`GeneratorFit` resolved for images:
    learning rate and schedule), changed by ``method`` (GeneratorFit fields, e.g.
    ``{"schedule": "plateau"}``); ``fit_options`` are stopping-rule fields on top.
    ``tf32=True`` lets CUDA matmuls and convolutions use TensorFloat-32 (no effect on CPU).
    ``ensemble=(K, k)``: instead of one decoder of ``channels``, K decoders of k channels
    (seeds ``member_seeds(seed, K)``), each fitted to y by its own stopping rule in one
    batched fit; the estimate scored is their mean output (PSNR logged at every check).
    """
    tune_process()
    if fit_options.pop("tf32", False):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    spec = GeneratorFit(**(method or {})).resolved("image")
    fit_options = {**spec.rule_overrides(), "max_iters": max_iters, **fit_options}
    truth, op, y = image_problem(image, size, ratio, seed, operator)
    if ensemble is None:
        gen = DeepDecoder(tuple(truth.shape), channels=channels, layers=layers, seed=seed)
    else:
        members, width = ensemble
        gen = DeepDecoder(tuple(truth.shape), channels=width, layers=layers,
                          seed=member_seeds(seed, members))  # fmt: skip
        y = y.expand(members, *y.shape[1:])
    times: list[float] = []
    psnrs: list[float] = []
    latest: torch.Tensor | None = None  # an ensemble's current outputs (stopped members' last)
    target = truth[None].to(device)
    start = time.perf_counter()

    def log(rec: dict[str, Any]) -> None:
        nonlocal latest
        times.append(time.perf_counter() - start)
        if ensemble is None:
            psnrs.append(float(rec["psnr"][0]))
            return
        if latest is None:  # the first record (iteration 0) holds every member
            latest = rec["output"].clone()
        latest[torch.as_tensor(rec["members"], device=latest.device)] = rec["output"]
        psnrs.append(float(psnr(latest.mean(0, keepdim=True), target)[0]))

    res = fit(gen, op, y, truth=truth if ensemble is None else None, lr=spec.lr, callback=log,
              device=device, **fit_options)  # fmt: skip
    its = max(res.stop_iteration)
    estimate = res.estimate.mean(0, keepdim=True)
    return {
        "ms_per_iter": 1000.0 * res.seconds / max(its, 1),
        "seconds": res.seconds,
        "iterations": its,
        "stop_reason": "/".join(sorted(set(res.stop_reason))),
        "psnr": float(psnr(estimate, truth[None])[0]),
        "times": times,
        "psnrs": psnrs,
        "device": res.device,
    }


Build = Callable[[list[int]], tuple[Generator, GaussianOperator]]
Score = Callable[[torch.Tensor, torch.Tensor], list[float]]


def _timed_fits(
    targets: torch.Tensor,
    build: Build,
    score: Score,
    batched: bool,
    first: int | None,
    iters: int,
    log_truth: bool,
    **options: Any,
):
    """Fit problems ``build(indices)`` for ``targets``: all in one batched call, or the
    ``first`` ones one by one. Every fit runs exactly ``iters`` steps (no stopping rule)."""
    fixed = {
        "max_iters": iters,
        "tol": 1e-30,
        "loss_floor": 1e-30,
        "check_every": 50,
        "window": 50,
        **options,
    }
    groups = [list(range(len(targets)))] if batched else [[b] for b in range(first or len(targets))]
    scores: list[float] = []
    start = time.perf_counter()
    for idx in groups:
        gen, op = build(idx)
        x = targets[idx]
        res = fit(gen, op, op(x), truth=x if log_truth else None, **fixed)
        scores += score(res.estimate, x)
    seconds = time.perf_counter() - start
    done = sum(len(g) for g in groups)
    return {
        "fits": done,
        "seconds": seconds,
        "fits_per_second": done / seconds,
        "ms_per_iter_per_fit": 1000.0 * seconds / (done * iters),
        "scores": scores,
        "device": options.get("device", "cpu"),
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
    """``count`` two-layer GD fits of p-smooth signals (seeds and m differ): one batched
    call, or a loop over the ``first`` ones (timed, then compared per fit by the caller).
    Scores are relative errors."""
    tune_process()
    seeds = member_seeds(0, count)  # the project's one seed derivation (root 0)
    signals = torch.stack(
        [
            smooth_signal(n, p, seed=derive_seed(0, "signal", b)).float().reshape(1, n)
            for b in range(count)
        ]
    )
    rows = [m_values[b % len(m_values)] for b in range(count)]

    def build(idx: list[int]) -> tuple[Generator, GaussianOperator]:
        sub = [rows[b] for b in idx]  # one index: exactly GaussianOperator(m_b, seed_b)
        op_seeds = [derive_seed(0, "operator", b) for b in idx]
        op = GaussianOperator((1, n), max(sub), seed=op_seeds, rows=sub)
        gen_seeds = [seeds[b] for b in idx]
        return TwoLayerGenerator((1, n), channels, ("triangular", 8.0), seed=gen_seeds), op

    def rel_error(est: torch.Tensor, x: torch.Tensor) -> list[float]:
        return ((est - x).flatten(1).norm(dim=1) / x.flatten(1).norm(dim=1)).tolist()

    return _timed_fits(
        signals,
        build,
        rel_error,
        batched,
        first,
        iters,
        log_truth=False,
        optimizer="gd",
        device=device,
    )


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
    """``count`` deep-decoder Adam fits at size² (images x seeds): one batched call or a
    loop over the ``first`` ones. Scores are PSNRs."""
    tune_process()
    names = ["camera", "grass", "brick", "moon"]
    images = torch.stack([load_image(names[b % len(names)], size) for b in range(count)])

    def build(idx: list[int]) -> tuple[Generator, GaussianOperator]:
        op = GaussianOperator((1, size, size), size * size // 4, seed=[2000 + b for b in idx])
        return DeepDecoder((1, size, size), channels, layers, seed=idx), op

    def score(est: torch.Tensor, x: torch.Tensor) -> list[float]:
        return psnr(est, x).tolist()

    return _timed_fits(images, build, score, batched, first, iters, log_truth=True, device=device)
