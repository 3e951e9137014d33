"""`untrained-cs reconstruct`: recover an image from compressive measurements."""

from __future__ import annotations

import argparse
from typing import Any

from ..defaults import fit_defaults
from ..fit import resolve_device
from ..generators import GENERATORS
from ..operators.registry import OPERATORS, operator_text, parse_operator, rows_for_ratio
from ..problems import CSMeasurement, ImageSignal, ProblemSpec
from ..resources import check_memory, generator_bytes, operator_bytes
from .common import (
    add_baseline_arguments,
    add_fit_arguments,
    add_save_argument,
    baseline_names,
    number,
    positive,
)
from .solve import method_spec, solve

#: the registered operators that measure an image (the MRI models take k-space: `mri`)
OPERATOR_CHOICES = ("gaussian", "structured", "mask", "identity", "downsample", "blur")


def image_size(text: str) -> int | tuple[int, int]:
    """``--size``: ``N`` or ``HxW`` (each at least 8)."""
    parts = str(text).lower().replace("×", "x").split("x")
    try:
        sides = [int(float(p)) for p in parts]
        if len(sides) not in (1, 2) or any(float(p) != int(float(p)) for p in parts):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or HxW, got {text!r}") from None
    if min(sides) < 8:
        raise argparse.ArgumentTypeError(f"sizes must be >= 8, got {text!r}")
    return sides[0] if len(sides) == 1 or sides[0] == sides[1] else (sides[0], sides[1])


def operator_option(text: str) -> str:
    """``--operator``: a registered image operator with its options, in canonical form."""
    try:
        name, options = parse_operator(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if name not in OPERATOR_CHOICES:
        raise argparse.ArgumentTypeError(
            f"{name!r} does not measure images; choose from {', '.join(OPERATOR_CHOICES)}"
        )
    return operator_text(name, options)


DEFAULTS = fit_defaults("image", "deep-decoder")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "reconstruct",
        help="recover an image from m = ratio*n random measurements",
        description="Recover an image from compressive measurements y = A x* by fitting an "
        "un-trained generator until convergence. Defaults: cameraman at 64x64, "
        "m = n/4 Gaussian measurements, 5-layer deep decoder with 64 channels.",
    )
    sig, meas = ImageSignal(), CSMeasurement()
    p.add_argument(
        "--image",
        default=sig.image,
        help="bundled image name (see `untrained-cs images`) or file path (default %(default)s)",
    )
    p.add_argument(
        "--size",
        type=image_size,
        default=sig.size,
        help="N for N x N, or HxW (any sizes; the image is centre-cropped to the aspect "
        "first, default %(default)s)",
    )
    p.add_argument(
        "--grey",
        action="store_true",
        help="convert a colour image to luminance (default: keep its channels, RGBA as RGB)",
    )
    p.add_argument(
        "--operator",
        type=operator_option,
        default=meas.operator,
        metavar="NAME[:key=value,...]",
        help=f"one of {', '.join(OPERATOR_CHOICES)}, with options, e.g. downsample:factor=4,"
        "kernel=bicubic or blur:sigma=2,boundary=valid (default %(default)s)",
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
        help="measurement noise std (default %(default)s)",
    )
    p.add_argument("--generator", choices=GENERATORS[:2], default="deep-decoder")
    p.add_argument(
        "--channels",
        type=positive(int),
        default=DEFAULTS["channels"],
        help="deep decoder k (default %(default)s)",
    )
    p.add_argument(
        "--layers",
        type=positive(int),
        default=DEFAULTS["layers"],
        help="deep decoder d (default %(default)s)",
    )
    add_fit_arguments(p, "image")
    add_save_argument(p)
    add_baseline_arguments(p, default="none")
    p.set_defaults(run=run)


def problem_spec(args: argparse.Namespace) -> ProblemSpec:
    return ProblemSpec(
        ImageSignal(args.image, args.size, 1 if getattr(args, "grey", False) else None),
        CSMeasurement(args.operator, args.ratio, noise_std=args.noise_std),
        args.seed,
    )


def run(args: argparse.Namespace) -> int:
    spec, method = problem_spec(args), method_spec(args)
    args.baseline_names = baseline_names(args.baselines)
    check_resources(args)
    return solve(args, "reconstruct", spec, method, headline, _title(args))


def headline(metrics: dict[str, Any]) -> str:
    line = (
        f"PSNR {metrics['psnr']:.2f} dB, SSIM {metrics['ssim']:.3f}, "
        f"{metrics['iterations']} iterations ({metrics['stop_reason']}), "
        f"{metrics['seconds']:.1f} s on {metrics['device']}"
    )
    base = metrics.get("baselines") or {}
    if base:
        line += "; " + ", ".join(f"{k} {v['psnr']:.2f} dB" for k, v in base.items())
    return line


def _title(args: argparse.Namespace):
    name = args.operator.split(":")[0]
    ratio = f" m/n = {args.ratio:g}" if OPERATORS[name].uses_ratio else ""
    return lambda problem: f"{args.generator}, {args.operator}{ratio}"


def check_resources(args: argparse.Namespace) -> None:
    """Refuse, before loading anything, a size the machine cannot hold."""
    side = args.size if isinstance(args.size, tuple) else (args.size, args.size)
    n = 3 * side[0] * side[1]  # at most 3 channels
    m = rows_for_ratio((n,), args.ratio)
    parts = {
        "operator": operator_bytes(args.operator.split(":")[0], n, m),
        "generator": generator_bytes(args.generator, n, args.channels, args.layers),
        "image": 4 * 8 * n,
    }
    dense = parts["operator"] > parts["generator"]
    hint = "use --operator structured or a smaller --size" if dense else "use a smaller --size"
    if not dense and args.generator == "deep-decoder":
        hint += " or fewer --channels"
    check_memory(parts, hint, resolve_device(args.device))
