"""`untrained-cs reconstruct`: recover an image from compressive measurements."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from ..fit import fit
from ..generators import GENERATORS, make_generator
from ..metrics import mse, psnr, ssim
from ..operators import check_ratio
from ..problems import CSMeasurement, ImageSignal, ProblemSpec, build, derive_seed
from .common import (
    Progress,
    UsageError,
    add_fit_arguments,
    fit_kwargs,
    keeping,
    number,
    positive,
    report,
    staged_run,
    write_history,
    write_json,
)

OPERATOR_CHOICES = ("gaussian", "structured", "mask")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "reconstruct",
        help="recover an image from m = ratio*n random measurements",
        description="Recover an image from compressive measurements y = A x* by fitting an "
        "un-trained generator until convergence. Defaults: cameraman at 64x64, "
        "m = n/4 Gaussian measurements, 5-layer deep decoder with 64 channels.",
    )
    p.add_argument("--image", default="camera", help="bundled image name or file path")
    p.add_argument("--size", type=positive(int), default=64, help="image side N (N x N)")
    p.add_argument("--operator", choices=OPERATOR_CHOICES, default="gaussian")
    p.add_argument(
        "--ratio", type=number(0.0, 1.0, open_low=True), default=0.25, help="m/n in (0, 1]"
    )
    p.add_argument("--noise-std", type=number(0.0), default=0.0, help="measurement noise std")
    p.add_argument("--generator", choices=GENERATORS, default="deep-decoder")
    p.add_argument("--channels", type=positive(int), default=64, help="deep decoder k")
    p.add_argument("--layers", type=positive(int), default=5, help="deep decoder d")
    add_fit_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        check_ratio(args.ratio)
    except ValueError as exc:
        raise UsageError(f"--ratio: {exc}") from None
    if args.noise_std < 0:
        raise UsageError(f"--noise-std must be >= 0, got {args.noise_std}")
    with staged_run(args.out, "reconstruct", args.overwrite) as folder:
        metrics = _fit_and_write(args, folder.staging)
    headline = (
        f"PSNR {metrics['psnr']:.2f} dB, SSIM {metrics['ssim']:.3f}, "
        f"{metrics['iterations']} iterations ({metrics['stop_reason']}), "
        f"{metrics['seconds']:.1f} s on {metrics['device']}"
    )
    report(metrics, folder.out, args.json, headline)
    return 0


def _fit_and_write(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    spec = ProblemSpec(
        ImageSignal(args.image, args.size),
        CSMeasurement(args.operator, args.ratio, noise_std=args.noise_std),
        args.seed,
    )
    gen_seed, op_seed = derive_seed(spec.seed, "generator"), derive_seed(spec.seed, "operator")
    problem = build(spec)
    generator = make_generator(
        args.generator, tuple(problem.truth.shape), args.channels, args.layers, seed=gen_seed
    )
    progress = Progress(args.max_iters, args.quiet, "reconstruct")
    try:
        result = fit(
            generator,
            problem.operator,
            problem.y,
            truth=problem.truth,
            callback=progress,
            **fit_kwargs(args),
        )
    finally:
        progress.close()
    estimate = result.estimate[0]
    truth = problem.truth
    metrics: dict[str, Any] = {
        **result.summary(),
        "psnr": float(psnr(estimate[None], truth[None])[0]),
        "ssim": ssim(estimate, truth),
        "mse": float(mse(estimate[None], truth[None])[0]),
        "n": problem.n,
        "m": problem.m,
        "parameters": generator.num_parameters(),
        "config": {
            **{k: v for k, v in vars(args).items() if k not in ("run", "out")},
            "generator_seed": gen_seed,
            "operator_seed": op_seed,
            "fit": result.config,
        },
    }
    with keeping(metrics):
        plots.save_image(tmp / "reconstruction.png", estimate)
        plots.save_image(tmp / "truth.png", truth)
        plots.comparison(
            tmp / "comparison.png",
            [("truth", truth), (f"estimate {metrics['psnr']:.2f} dB", estimate)],
            error=("|error|", (estimate - truth).abs()),
        )
        h = result.history
        plots.curves(
            tmp / "curves.png",
            h["iteration"],
            {"loss ½‖AG(θ)−y‖²": h["loss"][:, 0], "true MSE ‖G(θ)−x*‖²/n": h["mse"][:, 0]},
            best_iteration=metrics.get("best_iteration"),
            title=f"{args.generator}, {args.operator} m/n = {args.ratio:g}",
        )
        write_history(tmp / "history.csv", result)
        np.save(tmp / "measurements.npy", problem.y.numpy())
        write_json(tmp / "metrics.json", metrics)
    return metrics
