"""`untrained-cs reconstruct`: recover an image from compressive measurements."""

from __future__ import annotations

import argparse
import math
from typing import Any

from ..defaults import fit_defaults
from ..fit import resolve_device
from ..generators import GENERATORS
from ..io.arrays import array_shape
from ..io.images import image_shape, keep_aspect
from ..operators.registry import OPERATORS, rows_for_ratio
from ..problems import CSMeasurement, ImageSignal, MeasuredData, MeasuredSignal, ProblemSpec
from ..resources import check_memory, generator_bytes, operator_bytes
from .arguments import (
    add_baseline_arguments,
    add_fit_arguments,
    add_generator_arguments,
    add_save_argument,
    baseline_names,
    integer,
    number,
    operator_choice,
)
from .common import UsageError, quality, with_baselines
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


#: ``--operator``: a registered image operator with its options, in canonical form
operator_option = operator_choice(OPERATOR_CHOICES, "images")


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
        default=None,
        help=f"bundled image name (see `untrained-cs images`) or file path (default {sig.image})",
    )
    p.add_argument(
        "--size",
        type=image_size,
        default=None,
        help="N: the shorter side (the aspect ratio kept; with --crop N x N), or HxW "
        f"(centre-cropped to that aspect first, never distorted; default {sig.size})",
    )
    p.add_argument(
        "--crop",
        action="store_true",
        help="with --size N: centre-crop to N x N instead of keeping the aspect ratio",
    )
    p.add_argument(
        "--grey",
        action="store_true",
        help="convert a colour image to luminance (default: keep its channels, RGBA as RGB)",
    )
    p.add_argument(
        "--operator",
        type=operator_option,
        default=None,
        metavar="NAME[:key=value,...]",
        help=f"one of {', '.join(OPERATOR_CHOICES)}, with options, e.g. downsample:factor=4,"
        f"kernel=bicubic or blur:sigma=2,boundary=valid (default {meas.operator}); with "
        "--measurements, the operator of this tool that measured y",
    )
    p.add_argument(
        "--ratio",
        type=number(0.0, 1.0, open_low=True),
        default=None,
        help=f"m/n in (0, 1] (default {meas.ratio})",
    )
    p.add_argument(
        "--noise-std",
        type=number(0.0),
        default=None,
        help=f"measurement noise std (default {meas.noise_std})",
    )
    add_measured_arguments(p)
    add_generator_arguments(p, "image", GENERATORS[:2])
    add_fit_arguments(p, "image")
    add_save_argument(p)
    add_baseline_arguments(p, default="none")
    p.set_defaults(run=run)


def add_measured_arguments(p: argparse.ArgumentParser) -> None:
    """Measurements a user brings instead of an image this tool measures."""
    g = p.add_argument_group(
        "your measurements",
        "reconstruct from y and A you bring (no image is loaded or measured): y from "
        "--measurements, A from --matrix (dense m x n, columns in the row-major order of "
        "--shape) or by --operator name with the seed that drew it",
    )
    g.add_argument("--measurements", metavar="FILE", help="y: .npy, .npz, .h5 or .mat")
    g.add_argument("--matrix", metavar="FILE", help="A, m x n: .npy, .npz, .h5 or .mat")
    g.add_argument(
        "--shape",
        type=signal_shape,
        metavar="H,W[,C]",
        help="the signal's shape as your arrays hold it: H,W (grey), H,W,C (channel-last "
        "colour, C = 1 or 3), or n (a 1D signal)",
    )
    g.add_argument(
        "--truth", metavar="FILE", help="the true signal (of --shape), to score PSNR/SSIM"
    )
    g.add_argument(
        "--key",
        type=key_option,
        default=None,
        metavar="NAME|ROLE=NAME,...",
        help="the array's name in container files (.npz/.h5/.mat): one name for every file, "
        "or per role: measurements=y,matrix=A,truth=x",
    )
    g.add_argument(
        "--operator-seed",
        type=integer(0, 2**63 - 1),
        default=None,
        help="the seed that drew a named --operator (default: the one a simulated run with "
        "this --seed draws)",
    )
    g.add_argument(
        "--signed",
        action="store_true",
        help="the signal takes any real values (default: an image in [0, 1])",
    )


#: the roles --key names arrays for
KEY_ROLES = ("measurements", "matrix", "truth")
#: options of the simulated path that do not apply to measurements a user brings
SIMULATED_ONLY = ("image", "size", "ratio", "noise_std")
#: options of measured data that do not apply to a simulated image
MEASURED_ONLY = ("matrix", "shape", "truth", "operator_seed")


def signal_shape(text: str) -> tuple[int, ...]:
    """``--shape``: n, H,W or H,W,C (positive integers)."""
    parts = [p.strip() for p in str(text).lower().replace("x", ",").split(",") if p.strip()]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected n, H,W or H,W,C, got {text!r}") from None
    if not 1 <= len(shape) <= 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected n, H,W or H,W,C, got {text!r}")
    return shape


def key_option(text: str) -> str:
    """``--key``: checked, kept as text (the run's options are saved as plain values)."""
    array_keys(text)
    return text


def array_keys(text: str | None) -> dict[str, str]:
    """``--key``: NAME (every role) or ROLE=NAME,… → the name per role."""
    if text is None:
        return {}
    if "=" not in text:
        return dict.fromkeys(KEY_ROLES, text.strip())
    keys = {}
    for item in filter(None, (i.strip() for i in text.split(","))):
        role, _, name = item.partition("=")
        if role.strip() not in KEY_ROLES or not name.strip():
            raise argparse.ArgumentTypeError(
                f"--key: expected NAME or ROLE=NAME with ROLE in {', '.join(KEY_ROLES)}, "
                f"got {item!r}"
            )
        keys[role.strip()] = name.strip()
    return keys


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def problem_spec(args: argparse.Namespace) -> ProblemSpec:
    """The problem the options describe: an image this tool measures, or y and A a user
    brings (``--measurements``); options of the other path are refused."""
    if getattr(args, "measurements", None) is None:
        given = [_flag(k) for k in MEASURED_ONLY if getattr(args, k, None) is not None]
        if given or getattr(args, "signed", False):
            raise UsageError(f"{(given or ['--signed'])[0]} applies to --measurements only")
        sig, meas = ImageSignal(), CSMeasurement()
        image = sig.image if args.image is None else args.image
        size = sig.size if args.size is None else args.size
        if isinstance(size, int) and not getattr(args, "crop", False):
            size = keep_aspect(image_shape(image), size)
        return ProblemSpec(
            ImageSignal(image, size, 1 if getattr(args, "grey", False) else None),
            CSMeasurement(
                meas.operator if args.operator is None else args.operator,
                meas.ratio if args.ratio is None else args.ratio,
                noise_std=meas.noise_std if args.noise_std is None else args.noise_std,
            ),
            args.seed,
        )
    given = [_flag(k) for k in SIMULATED_ONLY if getattr(args, k, None) is not None]
    given += [_flag(k) for k in ("grey", "crop") if getattr(args, k, False)]
    if given:
        raise UsageError(f"{given[0]} does not apply to --measurements (y is given)")
    if args.shape is None:
        raise UsageError("--measurements needs --shape (the signal's H,W[,C] or n)")
    if (args.matrix is None) == (args.operator is None):
        raise UsageError("--measurements needs one of --matrix FILE and --operator NAME")
    if args.operator_seed is not None and args.operator is None:
        raise UsageError("--operator-seed applies to a named --operator")
    keys = array_keys(args.key)
    return ProblemSpec(
        MeasuredSignal(args.shape, args.truth, keys.get("truth"), signed=args.signed),
        MeasuredData(
            args.measurements,
            keys.get("measurements"),
            matrix=args.matrix,
            matrix_key=keys.get("matrix"),
            operator=args.operator,
            operator_seed=args.operator_seed,
        ),
        args.seed,
    )


def run(args: argparse.Namespace) -> int:
    spec, method = problem_spec(args), method_spec(args)
    args.baseline_names = baseline_names(args.baselines)
    check_resources(args, spec)
    return solve(args, "reconstruct", spec, method, headline, _title(spec, args.generator))


def headline(metrics: dict[str, Any]) -> str:
    line = (
        f"{quality(metrics)}, {metrics['iterations']} iterations ({metrics['stop_reason']}), "
        f"{metrics['seconds']:.1f} s on {metrics['device']}"
    )
    return with_baselines(line, metrics)


def _title(spec: ProblemSpec, generator: str):
    meas = spec.measurement
    if isinstance(meas, MeasuredData):
        what = meas.operator or "your matrix"
        return lambda problem: f"{generator}, {what}, m = {problem.m}, n = {problem.n}"
    assert isinstance(meas, CSMeasurement)
    name = meas.operator.split(":")[0]
    ratio = f" m/n = {meas.ratio:g}" if OPERATORS[name].uses_ratio and meas.ratio else ""
    return lambda problem: f"{generator}, {meas.operator}{ratio}"


def check_resources(args: argparse.Namespace, spec: ProblemSpec) -> None:
    """Refuse, before loading anything, a size the machine cannot hold."""
    signal, meas = spec.signal, spec.measurement
    if isinstance(signal, MeasuredSignal):
        assert isinstance(meas, MeasuredData)
        n = math.prod(signal.shape)
        m = math.prod(array_shape(meas.measurements, meas.measurements_key, "measurements")[0])
        name = "gaussian" if meas.matrix is not None else (meas.operator or "").split(":")[0]
    else:
        assert isinstance(signal, ImageSignal) and isinstance(meas, CSMeasurement)
        side = signal.size if isinstance(signal.size, tuple) else (signal.size, signal.size)
        n = 3 * side[0] * side[1]  # at most 3 channels
        m = rows_for_ratio((n,), meas.ratio or 1.0)
        name = meas.operator.split(":")[0]
    parts = {
        "operator": operator_bytes(name, n, m),
        "generator": generator_bytes(args.generator, n, args.channels, args.layers),
        "image": 4 * 8 * n,
    }
    dense = parts["operator"] > parts["generator"]
    hint = "use --operator structured or a smaller --size" if dense else "use a smaller --size"
    if not dense and args.generator == "deep-decoder":
        hint += " or fewer --channels"
    check_memory(parts, hint, resolve_device(args.device))
