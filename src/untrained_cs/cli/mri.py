"""`untrained-cs mri`: reconstruct an MRI slice from undersampled k-space (Section 5)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..defaults import fit_defaults
from ..generators import GENERATORS
from ..mri.data import DEFAULT_SIDE
from ..mri.masks import DEFAULT_CENTER
from ..mri.problem import MRIProblem
from ..problems import MRIMeasurement, MRISignal, Problem, ProblemSpec
from ..problems.specs import MASK_KINDS, MRI_MODELS
from ..resources import check_memory, mri_bytes
from .arguments import (
    add_baseline_arguments,
    add_fit_arguments,
    add_generator_arguments,
    add_save_argument,
    baseline_names,
    integer,
    number,
    positive,
)
from .common import quality, with_baselines
from .mri_volume import run_volume, slice_range
from .solve import method_spec, solve

DEFAULTS = fit_defaults("mri", "deep-decoder")
#: the baselines of a default run: the ones that keep it about a minute on 2 cores (ℓ1 and
#: TV to convergence more than double it: bench/RESULTS.md); `--baselines all` adds them
BASELINES = "zero_filled,min_norm"


def add_parser(sub: Any) -> None:
    sig, meas = MRISignal(), MRIMeasurement()
    centres = ", ".join(f"{f:g} at {r:g}x" for r, f in DEFAULT_CENTER.items())
    p = sub.add_parser(
        "mri",
        help="reconstruct an MRI slice from undersampled multi-coil k-space",
        description="Reconstruct an MRI slice from Cartesian-undersampled k-space with an "
        "un-trained generator, fitted until convergence, next to classical baselines solved "
        "on the same forward model (zero-filling and least squares by default; "
        "--baselines all adds l1-wavelet and TV). Default: dipy's T1 slice "
        f"({DEFAULT_SIDE}x{DEFAULT_SIDE}), {sig.coils} simulated coils, "
        f"{meas.acceleration:g}x {meas.mask} mask; a "
        f"{DEFAULTS['layers']}-layer, {DEFAULTS['channels']}-channel deep decoder, Adam lr "
        f"{DEFAULTS['lr']:g} ({DEFAULTS['schedule']} schedule), a TV term of "
        f"{DEFAULTS['tv_weight']:g} x max|A^T y|, at most {DEFAULTS['max_iters']} iterations.",
    )
    p.add_argument("--kspace", type=Path, default=None, help="fastMRI .h5 file (default: dipy)")
    p.add_argument(
        "--slice", type=integer(0), default=None, help="slice of the .h5 (default middle)"
    )
    p.add_argument(
        "--slices",
        type=slice_range,
        default=None,
        metavar="A:B|all",
        help="reconstruct slices A..B-1 of the .h5 (or all) as one batched fit, with "
        "fastMRI's volume scores and reconstruction.h5",
    )
    p.add_argument(
        "--acceleration",
        type=number(1.0),
        default=meas.acceleration,
        help="R >= 1 (default %(default)g)",
    )
    p.add_argument(
        "--center-fraction",
        type=number(0.0, 1.0),
        default=None,
        help=f"fully sampled centre fraction (default {centres}; in proportion at other R)",
    )
    p.add_argument("--mask", choices=MASK_KINDS, default=meas.mask)
    p.add_argument(
        "--coils",
        type=positive(int),
        default=sig.coils,
        help="simulated coils (default %(default)s)",
    )
    p.add_argument("--snr", type=number(), default=None, help="k-space SNR in dB (default none)")
    p.add_argument("--size", type=positive(int), default=None, help="resample the default slice")
    p.add_argument(
        "--model",
        choices=MRI_MODELS,
        default=meas.model,
        help="sense (simulated maps, real image) or 2ch (re, im per coil; the default for "
        ".h5 files); auto picks sense when maps are known",
    )
    add_generator_arguments(p, "mri", GENERATORS[:2])
    add_fit_arguments(p, "mri")
    add_save_argument(p)
    add_baseline_arguments(p, default=BASELINES)
    p.set_defaults(run=run)


def problem_spec(args: argparse.Namespace) -> ProblemSpec:
    kspace = None if args.kspace is None else str(args.kspace)
    return ProblemSpec(
        MRISignal(kspace, args.slice, args.size, args.coils, args.snr),
        MRIMeasurement(args.acceleration, args.center_fraction, args.mask, args.model),
        args.seed,
    )


def run(args: argparse.Namespace) -> int:
    args.baseline_names = baseline_names(args.baselines)
    if getattr(args, "slices", None) is not None:
        return run_volume(args)
    spec, method = problem_spec(args), method_spec(args)
    check_resources(args)
    return solve(args, "mri", spec, method, headline, title)


def headline(metrics: dict[str, Any]) -> str:
    if metrics.get("psnr") is None:  # a test file's undersampled k-space: no ground truth
        line = (
            f"{quality(metrics)}, {metrics['iterations']} iterations "
            f"({metrics['stop_reason']}), {metrics['seconds']:.1f} s on {metrics['device']}"
        )
        return with_baselines(line, metrics)
    base = metrics.get("baselines") or {}
    others = ", ".join(f"{k} {v['psnr']:.2f}" for k, v in base.items())
    best = max(base.items(), key=lambda kv: kv[1]["psnr"] or -1e9, default=None)
    beaten = best is not None and (best[1]["psnr"] or -1e9) > metrics["psnr"]
    verdict = f"; {best[0]} is better" if beaten and best else ""
    compared = f"{others}{verdict}; " if others else ""
    return (
        f"PSNR {metrics['psnr']:.2f} dB ({compared}oracle best "
        f"{metrics['best_psnr']:.2f} at it {metrics['best_iteration']}), SSIM "
        f"{metrics['ssim']:.3f}, {metrics['iterations']} iterations "
        f"({metrics['stop_reason']}), {metrics['seconds']:.1f} s on {metrics['device']}"
    )


def title(problem: Problem) -> str:
    """The run's title: forward model, mask kind and achieved acceleration."""
    if not isinstance(problem, MRIProblem):
        raise TypeError(f"`mri` titles MRI problems, got a {problem.kind} problem")
    mask = problem.mri.mask
    return f"{problem.mri.model} model, {mask.kind} mask {mask.achieved_acceleration:.2f}x"


def check_resources(args: argparse.Namespace) -> None:
    """Refuse, before loading anything, a slice or coil count the machine cannot hold."""
    side = args.size or DEFAULT_SIDE
    parts = mri_bytes(args.generator, side * side, args.channels, args.layers, args.coils)
    check_memory(parts, "use a smaller --size or fewer --coils")
