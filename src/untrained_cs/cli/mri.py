"""`untrained-cs mri`: reconstruct an MRI slice from undersampled k-space (Section 5)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from ..mri.baselines import SOLVERS
from ..mri.data import MRIData, add_noise, default_image, read_fastmri, simulate
from ..mri.masks import MASK_KINDS
from ..mri.reconstruct import (
    DEFAULT_CHANNELS,
    DEFAULT_LAYERS,
    MODELS,
    MRI_GENERATORS,
    MRIProblem,
    MRIRun,
    make_mri_generator,
    make_problem,
    reconstruct,
)
from .common import (
    Progress,
    UsageError,
    add_fit_arguments,
    fit_kwargs,
    keeping,
    positive,
    report,
    staged_run,
    write_json,
)

DEFAULT_ITERS = 3000
DEFAULT_LR = 0.05


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "mri",
        help="reconstruct an MRI slice from undersampled multi-coil k-space",
        description="Reconstruct an MRI slice from Cartesian-undersampled k-space with an "
        "un-trained generator, fitted until convergence, next to zero-filling, l1-wavelet "
        "and TV baselines (their weights picked by the ground truth). Default: dipy's T1 "
        "slice (256x256), 8 simulated coils, 8x random mask; a 5-layer, 32-channel deep "
        f"decoder, Adam lr {DEFAULT_LR:g}, at most {DEFAULT_ITERS} iterations (tuned so the "
        "default run takes a few minutes on a 2-core CPU).",
    )
    p.add_argument("--kspace", type=Path, default=None, help="fastMRI .h5 file (default: dipy)")
    p.add_argument("--slice", type=int, default=None, help="slice of the .h5 (default middle)")
    p.add_argument("--acceleration", type=float, default=8.0, help="R >= 1 (default 8)")
    p.add_argument(
        "--center-fraction",
        type=float,
        default=None,
        help="fully sampled centre fraction (default 0.08 at 4x, 0.04 at 8x)",
    )
    p.add_argument("--mask", choices=MASK_KINDS, default="random")
    p.add_argument("--coils", type=positive(int), default=8, help="simulated coils (default 8)")
    p.add_argument("--snr", type=float, default=None, help="k-space SNR in dB (default none)")
    p.add_argument("--size", type=positive(int), default=None, help="resample the default slice")
    p.add_argument(
        "--model",
        choices=MODELS,
        default="auto",
        help="sense (simulated maps, real image) or 2ch (re, im per coil; the default for "
        ".h5 files); auto picks sense when maps are known",
    )
    p.add_argument("--generator", choices=MRI_GENERATORS, default="deep-decoder")
    p.add_argument("--channels", type=positive(int), default=DEFAULT_CHANNELS)
    p.add_argument("--layers", type=positive(int), default=DEFAULT_LAYERS)
    p.add_argument(
        "--baselines",
        default=",".join(SOLVERS),
        help="comma list of l1_wavelet,tv ('none' for zero-filled only)",
    )
    add_fit_arguments(p, max_iters=DEFAULT_ITERS)
    p.set_defaults(run=run)


def _baselines(text: str) -> tuple[str, ...]:
    if text.strip().lower() in ("", "none"):
        return ()
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in SOLVERS]
    if bad:
        raise UsageError(f"--baselines: unknown {bad}; choose from {sorted(SOLVERS)} or none")
    return names


def _check(args: argparse.Namespace) -> None:
    if not (math.isfinite(args.acceleration) and args.acceleration >= 1):
        raise UsageError(f"--acceleration must be >= 1, got {args.acceleration}")
    if args.center_fraction is not None and not 0 <= args.center_fraction <= 1:
        raise UsageError(f"--center-fraction must lie in [0, 1], got {args.center_fraction}")
    if args.snr is not None and not math.isfinite(args.snr):
        raise UsageError(f"--snr must be a finite number of dB, got {args.snr}")
    if args.kspace is not None and args.size is not None:
        raise UsageError("--size resamples the default slice only; drop it with --kspace")


def load(args: argparse.Namespace) -> MRIData:
    """The data the options name: a fastMRI slice, or the simulated default slice."""
    if args.kspace is not None:
        data = read_fastmri(args.kspace, args.slice)
        if args.snr is not None:
            data.kspace, data.noise_std = add_noise(data.kspace, args.snr, args.seed + 2)
        return data
    if args.slice is not None:
        raise UsageError("--slice needs --kspace")
    return simulate(default_image(args.size), args.coils, args.snr, seed=args.seed + 2)


def run(args: argparse.Namespace) -> int:
    _check(args)
    if args.lr is None and args.optimizer == "adam":
        args.lr = DEFAULT_LR  # tuned for the MRI default (GD keeps its 1/L default)
    names = _baselines(args.baselines)
    with staged_run(args.out, "mri", args.overwrite) as folder:
        metrics = _fit_and_write(args, names, folder.staging)
    zf = metrics["baselines"]["zero_filled"]["psnr"]
    headline = (
        f"PSNR {metrics['psnr']:.2f} dB (zero-filled {zf:.2f}, oracle best "
        f"{metrics['best_psnr']:.2f} at it {metrics['best_iteration']}), SSIM "
        f"{metrics['ssim']:.3f}, {metrics['iterations']} iterations "
        f"({metrics['stop_reason']}), {metrics['seconds']:.1f} s on {metrics['device']}"
    )
    report(metrics, folder.out, args.json, headline)
    return 0


def _fit_and_write(args: argparse.Namespace, names: tuple[str, ...], tmp: Path) -> dict:
    data = load(args)
    problem = make_problem(
        data, args.acceleration, args.center_fraction, args.mask, args.seed + 1, args.model
    )
    generator = make_mri_generator(
        args.generator, problem, args.channels, args.layers, seed=args.seed
    )
    progress = Progress(args.max_iters, args.quiet, "mri")
    try:
        result = reconstruct(problem, generator, names, callback=progress, **fit_kwargs(args))
    finally:
        progress.close()
    metrics = _metrics(args, problem, result, generator.num_parameters())
    with keeping(metrics):
        _write(tmp, args, problem, result)
        write_json(tmp / "metrics.json", metrics)
    return metrics


def _metrics(args: argparse.Namespace, problem: MRIProblem, run: MRIRun, params: int):
    summary = run.fit.summary()
    return {
        "psnr": run.psnr,
        "ssim": run.ssim,
        "best_psnr": run.best_psnr,
        "best_iteration": run.best_iteration,
        "baselines": {
            name: {"psnr": b.psnr, "ssim": b.ssim, "weight": b.weight}
            for name, b in run.baselines.items()
        },
        "baseline_weights": "picked from a grid by the ground truth (oracle)",
        "iterations": summary["iterations"],
        "stop_reason": summary["stop_reason"],
        "converged": summary["converged"],
        "loss": summary["loss"],
        "seconds": summary["seconds"],
        "baseline_seconds": round(run.baseline_seconds, 3),
        "device": summary["device"],
        "achieved_acceleration": problem.mask.achieved_acceleration,
        "model": problem.model,
        "parameters": params,
        "image_shape": list(problem.data.kspace.shape),
        "config": {
            **{k: v for k, v in vars(args).items() if k not in ("run", "out")},
            "generator_seed": args.seed,
            "mask_seed": args.seed + 1,
            "noise_seed": args.seed + 2,
            "source": problem.data.source,
            "slice_index": problem.data.slice_index,
            "fit": run.fit.config,
        },
    }


def _write(tmp: Path, args: argparse.Namespace, problem: MRIProblem, run: MRIRun) -> None:
    peak = problem.data_range
    truth, est = problem.target, run.estimate
    zf = run.baselines["zero_filled"]
    plots.save_image(tmp / "reconstruction.png", est / peak)
    plots.comparison(
        tmp / "comparison.png",
        [
            ("ground truth", truth / peak),
            (f"zero-filled {zf.psnr:.2f} dB", zf.image / peak),
            (f"{args.generator} {run.psnr:.2f} dB", est / peak),
        ],
        error=("|error| deep decoder", (est - truth).abs() / peak),
    )
    h = run.history
    plots.curves(
        tmp / "curves.png",
        h["iteration"],
        {
            "loss ½‖AG(θ)−y‖²": h["loss"][:, 0],
            "true MSE": h["mse"][:, 0],
            "PSNR (dB)": h["psnr"][:, 0],
            "SSIM": h["ssim"][:, 0],
        },
        best_iteration=run.best_iteration,
        title=f"{args.generator}, {problem.mask.kind} mask "
        f"{problem.mask.achieved_acceleration:.2f}x",
    )
    cols = ("loss", "lr", "mse", "psnr", "ssim")
    table = np.column_stack([h["iteration"], *(h[c][:, 0] for c in cols)])
    np.savetxt(
        tmp / "history.csv",
        table,
        delimiter=",",
        header="iteration," + ",".join(cols),
        comments="",
        fmt=["%d"] + ["%.8g"] * len(cols),
    )
