"""The two sides every case compares, each run in its own process by the harness.

``reference_*`` functions run the plain recipe (bench/reference.py) or a loop of single
fits; ``project_*`` functions run the library's fit. All return plain dicts.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from untrained_cs.cli.speed import tune_process
from untrained_cs.data import load_image
from untrained_cs.fit import fit
from untrained_cs.generators import DeepDecoder, TwoLayerGenerator
from untrained_cs.metrics import psnr
from untrained_cs.operators import GaussianOperator, make_operator
from untrained_cs.theory import smooth_signal

from .reference import run_reference


def _image_problem(image: str, size: int, ratio: float, seed: int, operator: str = "gaussian"):
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
    truth, op, _ = _image_problem(image, size, ratio, seed)
    run = run_reference(truth, op.matrix[0], channels, layers, iters, seed=seed, device=device)
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
    **fit_options: Any,
) -> dict[str, Any]:
    """The project's fit (default rule) with the wall time and PSNR at every check."""
    tune_process()
    truth, op, y = _image_problem(image, size, ratio, seed, operator)
    gen = DeepDecoder(tuple(truth.shape), channels=channels, layers=layers, seed=seed)
    times: list[float] = []
    psnrs: list[float] = []
    start = time.perf_counter()

    def log(rec: dict[str, Any]) -> None:
        times.append(time.perf_counter() - start)
        psnrs.append(float(rec["psnr"][0]))

    res = fit(
        gen, op, y, truth=truth, callback=log, device=device, max_iters=max_iters, **fit_options
    )
    its = res.stop_iteration[0]
    return {
        "ms_per_iter": 1000.0 * res.seconds / max(its, 1),
        "seconds": res.seconds,
        "iterations": its,
        "stop_reason": res.stop_reason[0],
        "psnr": float(psnr(res.estimate, truth[None])[0]),
        "times": times,
        "psnrs": psnrs,
        "device": res.device,
    }


def _two_layer_problems(count: int, n: int, p: int, m_values: list[int]):
    signals = torch.stack([smooth_signal(n, p, seed=s).float().reshape(1, n) for s in range(count)])
    rows = [m_values[b % len(m_values)] for b in range(count)]
    return signals, rows


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
    """``count`` two-layer GD fits of p-smooth signals: one batched call, or a loop.

    The loop runs only the ``first`` problems (timed, then scaled to ``count`` by the
    caller). Every fit runs exactly ``iters`` steps (the stopping rule is switched off).
    """
    tune_process()
    signals, rows = _two_layer_problems(count, n, p, list(m_values))
    fixed = {
        "optimizer": "gd",
        "max_iters": iters,
        "tol": 1e-30,
        "loss_floor": 1e-30,
        "check_every": 50,
        "window": 50,
        "device": device,
    }
    errors = []
    start = time.perf_counter()
    if batched:
        op = GaussianOperator((1, n), max(rows), seed=[1000 + b for b in range(count)], rows=rows)
        gen = TwoLayerGenerator((1, n), channels, ("triangular", 8.0), seed=list(range(count)))
        res = fit(gen, op, op(signals), **fixed)
        errors = (
            (res.estimate - signals).flatten(1).norm(dim=1) / signals.flatten(1).norm(dim=1)
        ).tolist()
        done = count
    else:
        done = first or count
        for b in range(done):
            op_b = GaussianOperator((1, n), rows[b], seed=1000 + b)
            gen_b = TwoLayerGenerator((1, n), channels, ("triangular", 8.0), seed=b)
            res = fit(gen_b, op_b, op_b(signals[b : b + 1]), **fixed)
            errors.append(((res.estimate[0] - signals[b]).norm() / signals[b].norm()).item())
    seconds = time.perf_counter() - start
    return {
        "fits": done,
        "seconds": seconds,
        "fits_per_second": done / seconds,
        "ms_per_iter_per_fit": 1000.0 * seconds / (done * iters),
        "rel_errors": errors,
        "device": device,
    }


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
    """``count`` deep-decoder Adam fits at size² (images x seeds): one batched call or a loop."""
    tune_process()
    names = ["camera", "grass", "brick", "moon"]
    images = torch.stack([load_image(names[b % len(names)], size) for b in range(count)])
    m = size * size // 4
    fixed = {
        "max_iters": iters,
        "tol": 1e-30,
        "loss_floor": 1e-30,
        "check_every": 50,
        "window": 50,
        "device": device,
    }
    psnrs: list[float] = []
    start = time.perf_counter()
    if batched:
        op = GaussianOperator((1, size, size), m, seed=[2000 + b for b in range(count)])
        gen = DeepDecoder((1, size, size), channels, layers, seed=list(range(count)))
        res = fit(gen, op, op(images), truth=images, **fixed)
        psnrs = psnr(res.estimate, images).tolist()
        done = count
    else:
        done = first or count
        for b in range(done):
            op_b = GaussianOperator((1, size, size), m, seed=2000 + b)
            gen_b = DeepDecoder((1, size, size), channels, layers, seed=b)
            res = fit(gen_b, op_b, op_b(images[b : b + 1]), truth=images[b], **fixed)
            psnrs.append(float(psnr(res.estimate, images[b : b + 1])[0]))
    seconds = time.perf_counter() - start
    return {
        "fits": done,
        "seconds": seconds,
        "fits_per_second": done / seconds,
        "ms_per_iter_per_fit": 1000.0 * seconds / (done * iters),
        "psnrs": psnrs,
        "device": device,
    }
