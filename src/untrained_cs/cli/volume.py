"""`untrained-cs volume`: recover a volume D x H x W from compressive measurements."""

from __future__ import annotations

import argparse
from typing import Any

from ..defaults import fit_defaults
from ..fit import resolve_device
from ..io.volumes import volume_shape
from ..operators.registry import OPERATORS, rows_for_ratio
from ..problems import CSMeasurement, ProblemSpec, VolumeSignal
from ..resources import check_memory, generator_bytes, operator_bytes
from .arguments import (
    add_baseline_arguments,
    add_fit_arguments,
    add_generator_arguments,
    baseline_names,
    number,
    operator_choice,
)
from .common import UsageError, with_baselines
from .reconstruct import image_size
from .solve import method_spec, solve

#: the registered operators that measure a volume (structured: O(n); gaussian: a dense
#: matrix, refused when it would not fit in memory)
OPERATOR_CHOICES = ("structured", "structured-slices", "gaussian", "mask", "identity")
#: ``--size`` for the volume's own slice size
NATIVE = "native"
DEFAULTS = fit_defaults("volume", "deep-decoder")


def slice_size(text: str) -> int | tuple[int, int] | str:
    """``--size``: ``N``, ``HxW`` (each slice resized to it) or ``native`` (kept as the
    word, so that a saved run's options parse again on resume)."""
    return NATIVE if str(text).strip().lower() == NATIVE else image_size(text)


#: ``--operator``: a registered volume operator with its options, in canonical form
operator_option = operator_choice(OPERATOR_CHOICES, "volumes")


def add_parser(sub: Any) -> None:
    sig, meas = VolumeSignal(), CSMeasurement(operator="structured")
    p = sub.add_parser(
        "volume",
        help="recover a volume (D x H x W) from m = ratio*n random measurements",
        description="Recover a volume from compressive measurements y = A x* by fitting a 3D "
        "deep decoder (trilinear upsampling, 1x1x1 channel mixing) to the whole volume until "
        f"convergence. Defaults: dipy's bundled brain volume ({sig.volume}, 128x128x10) with "
        f"its slices resized to {sig.size}x{sig.size}, intensities divided by their "
        f"{sig.percentile:g}th percentile; m = n/4 structured measurements; a "
        f"{DEFAULTS['layers']}-layer deep decoder with {DEFAULTS['channels']} channels, "
        f"at most {DEFAULTS['max_iters']} iterations. Writes estimate.npy [1, D, H, W] and "
        "estimate.nii.gz (with the input's affine when it was NIfTI).",
    )
    p.add_argument(
        "--volume",
        default=sig.volume,
        help="'brain' (bundled), a NIfTI file (.nii, .nii.gz) or an array file (.npy, .npz, "
        ".h5, .mat) holding [D, H, W] (default %(default)s)",
    )
    p.add_argument(
        "--size",
        type=slice_size,
        default=sig.size,
        help=f"each slice resized to N x N or HxW, or {NATIVE} (default %(default)s)",
    )
    p.add_argument(
        "--percentile",
        type=number(50.0, 100.0),
        default=sig.percentile,
        help="intensities are divided by this percentile and clipped to [0, 1] (100: by "
        "the maximum; default %(default)g)",
    )
    p.add_argument(
        "--operator",
        type=operator_option,
        default=meas.operator,
        metavar="NAME",
        help=f"one of {', '.join(OPERATOR_CHOICES)} (structured-slices: each slice measured "
        "by its own structured operator; default %(default)s)",
    )
    p.add_argument(
        "--ratio",
        type=number(0.0, 1.0, open_low=True),
        default=meas.ratio,
        help="m/n in (0, 1] (default %(default)s)",
    )
    p.add_argument(
        "--noise-std",
        type=number(0.0),
        default=meas.noise_std,
        help="measurement noise std, on the [0, 1] scale (default %(default)s)",
    )
    add_generator_arguments(
        p, "volume", ("deep-decoder",), "the slices' in-plane sides must be >= 2^d; "
    )
    add_fit_arguments(p, "volume")
    p.add_argument(
        "--save",
        default="nifti",
        metavar="FORMATS",
        help="also write the float estimate as: comma list of nifti, tiff, or none "
        "(estimate.npy is always written; default %(default)s)",
    )
    add_baseline_arguments(p, default="none")
    p.set_defaults(run=run)


def problem_spec(args: argparse.Namespace) -> ProblemSpec:
    return ProblemSpec(
        VolumeSignal(args.volume, None if args.size == NATIVE else args.size, args.percentile),
        CSMeasurement(args.operator, args.ratio, noise_std=args.noise_std),
        args.seed,
    )


def run(args: argparse.Namespace) -> int:
    spec, method = problem_spec(args), method_spec(args)
    args.baseline_names = baseline_names(args.baselines)
    check_resources(args, spec)
    return solve(args, "volume", spec, method, headline, _title(args), volume=True)


def headline(metrics: dict[str, Any]) -> str:
    d, h, w = metrics["volume_shape"]
    line = (
        f"{d}x{h}x{w} volume: PSNR {metrics['psnr']:.2f} dB, SSIM {metrics['ssim']:.3f} "
        f"(slice mean), {metrics['iterations']} iterations ({metrics['stop_reason']}), "
        f"{metrics['seconds']:.1f} s on {metrics['device']}"
    )
    return with_baselines(line, metrics)


def _title(args: argparse.Namespace):
    name = args.operator.split(":")[0]
    ratio = f" m/n = {args.ratio:g}" if OPERATORS[name].uses_ratio else ""
    return lambda problem: f"3D {args.generator}, {args.operator}{ratio}"


def check_resources(args: argparse.Namespace, spec: ProblemSpec) -> None:
    """Refuse, before loading the data, a volume that is not 3D, too small for the decoder,
    or too large for the machine (one line each)."""
    signal = spec.signal
    assert isinstance(signal, VolumeSignal)
    d, h, w = volume_shape(signal.volume)
    if d < 2:
        raise UsageError(f"volume {signal.volume!r} has {d} slice; a volume needs at least 2")
    plane = signal.slice_shape or (h, w)
    if min(plane) < 2**args.layers:
        raise UsageError(
            f"slices of {plane[0]}x{plane[1]} are too small for a {args.layers}-layer deep "
            f"decoder (each side >= {2**args.layers}); use fewer --layers or a larger --size"
        )
    n = d * plane[0] * plane[1]
    name = args.operator.split(":")[0]
    m = rows_for_ratio((n,), args.ratio)
    parts = {
        "operator": operator_bytes(name, n, m),
        "generator": generator_bytes(args.generator, n, args.channels, args.layers),
        "volume": 4 * 8 * n,
    }
    dense = parts["operator"] > parts["generator"]
    hint = (
        "use --operator structured or a smaller --size"
        if dense
        else "use a smaller --size or fewer --channels"
    )
    check_memory(parts, hint, resolve_device(args.device))
