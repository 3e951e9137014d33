"""`untrained-cs theory basis|weights|linear|jacobian|two-layer`: the paper's mechanism.

Each tool computes the numbers behind one figure or theorem curve, writes ``<tool>.png``
and ``metrics.json`` (the numbers) into a run folder, and prints one summary line (or the
JSON with ``--json``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..experiments import figure2, figure3, figure4, theorem1, theorem2
from ..generators.kernels import KERNELS
from ..plots import theory as theory_plots
from ..resources import check_memory
from ..writer import write_json
from .common import (
    UsageError,
    add_output_arguments,
    add_threads_argument,
    integer,
    number,
    positive,
    report,
    staged_run,
)

Tool = tuple[dict[str, Any], Callable[[Path, dict[str, Any]], None], str]


def _arg(p: argparse.ArgumentParser, flag: str, default: Any, text: str = "", **kw: Any) -> None:
    """One option whose help ends with its default (taken from the experiment's DEFAULTS)."""
    if isinstance(default, tuple):
        default = list(default)
    p.add_argument(flag, default=default, help=f"{text} (default %(default)s)".lstrip(), **kw)


def _common(p: argparse.ArgumentParser) -> None:
    _arg(p, "--seed", 0, "base seed", type=integer(0, 2**63 - 1))
    add_threads_argument(p)
    add_output_arguments(p, "the numbers")
    p.set_defaults(run=run)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "theory",
        help="the paper's theory as tools (Figures 2-4, Theorems 1-3)",
        description="Trigonometric basis, kernel weights, linear-generator theorem, Jacobian "
        "spectra and the two-layer theorem; each writes a PNG and metrics.json.",
    )
    tools = p.add_subparsers(dest="tool", metavar="TOOL", required=True)
    _basis_parser(tools)
    _weights_parser(tools)
    _linear_parser(tools)
    _jacobian_parser(tools)
    _two_layer_parser(tools)


_INT, _REAL = positive(int), positive(float)


def _basis_parser(tools: Any) -> None:
    d = figure2.DEFAULTS
    p = tools.add_parser("basis", help="Figure 2: basis functions (eq 10) and a p-smooth signal")
    _arg(p, "--n", d.n, "signal length", type=_INT)
    _arg(p, "--functions", d.functions, "positions in [1, n]: the constant, then cos/sin "
         "pairs of rising frequency", type=integer(1), nargs="+")  # fmt: skip
    _arg(p, "--p", d.p, "smoothness of the example", type=_INT)
    _common(p)


def _weights_parser(tools: Any) -> None:
    d = figure3.DEFAULTS
    p = tools.add_parser("weights", help="Figure 3: eq (11) kernel weights, γ, cross-checks")
    _arg(p, "--kernel", d.kernel, choices=KERNELS)
    _arg(p, "--width", d.widths, "kernel width(s); sigma/gamma in the JSON are for the first",
         type=_REAL, nargs="+")  # fmt: skip
    _arg(p, "--n", d.n, "signal length", type=_INT)
    p.add_argument(
        "--kernel-file", type=Path, default=None,
        help="a length-n kernel (.npy), normalised to unit norm (n is its length; --n, "
        "--kernel and --width are then ignored)",
    )  # fmt: skip
    _arg(p, "--mc-channels", d.mc_channels, "k values of the Monte-Carlo E[JJᵀ] check "
         "(none: skip)", type=_INT, nargs="*")  # fmt: skip
    _arg(p, "--mc-n", d.mc_n, "length for the MC check", type=_INT)
    _arg(p, "--mc-draws", d.mc_draws, "random C per k", type=_INT)
    _common(p)


def _linear_parser(tools: Any) -> None:
    d = theorem1.DEFAULTS
    p = tools.add_parser("linear", help="Theorem 1: linear generator, error vs bound over m")
    _arg(p, "--n", d.n, "signal length", type=_INT)
    _arg(p, "--wide", d.wide, "columns of J (>= n)", type=_INT)
    _arg(p, "--gamma", d.gamma, "σ_i² = γ^i, γ in (0, 1)", type=number(0.0, 1.0, open_low=True))
    _arg(p, "--m", d.ms, "measurement counts", type=_INT, nargs="+")
    _arg(p, "--trials", d.trials, "Gaussian A per m", type=_INT)
    _arg(p, "--gd-iters", d.gd_iters, "GD steps from 0 (0: skip)", type=integer(0))
    _common(p)


def _jacobian_parser(tools: Any) -> None:
    d = figure4.DEFAULTS
    p = tools.add_parser("jacobian", help="Figure 4: deep decoder Jacobian spectrum over GD")
    _arg(p, "--n", d.n, "signal length", type=_INT)
    _arg(p, "--channels", d.channels, "channels k", type=_INT)
    _arg(p, "--layers", d.layers, "layers d", type=_INT)
    _arg(p, "--upsample", d.upsample, choices=figure4.UPSAMPLE_1D)
    _arg(p, "--iterations", d.iterations, "GD iterations of the snapshots", type=integer(0),
         nargs="+")  # fmt: skip
    _arg(p, "--ratio", d.ratio, "m/n of the Gaussian A", type=number(0.0, 1.0, open_low=True))
    _arg(p, "--p", d.p, "smoothness of x*", type=_INT)
    _arg(p, "--top", d.top, "values compared", type=_INT)
    p.add_argument("--matrix-free", action="store_true", help="Lanczos top-k, no dense J")
    _common(p)


def _two_layer_parser(tools: Any) -> None:
    d = theorem2.DEFAULTS
    p = tools.add_parser("two-layer", help="Theorems 2/3: ReLU(UC)v by GD, error vs eq (13)")
    _arg(p, "--n", d.n, "signal length", type=_INT)
    _arg(p, "--channels", d.channels, "channels k", type=_INT)
    _arg(p, "--kernel", d.kernel, choices=KERNELS)
    _arg(p, "--width", d.width, "kernel width", type=_REAL)
    _arg(p, "--p", d.p, "smoothness of x*", type=_INT)
    _arg(p, "--m", d.ms, "measurement counts", type=_INT, nargs="+")
    _arg(p, "--xi", d.xi, "Theorem 3's ξ", type=_REAL)
    _arg(p, "--trials", d.trials, "independent draws per m", type=_INT)
    _arg(p, "--max-iters", d.max_iters, "gradient-descent iteration cap", type=_INT)
    _common(p)


def _basis(args: argparse.Namespace) -> Tool:
    bad = [i for i in args.functions if not 1 <= i <= args.n]
    if bad:
        raise UsageError(f"--functions must lie in [1, {args.n}], got {bad}")
    if args.p > args.n:
        raise UsageError(f"--p must be <= --n = {args.n}, got {args.p}")
    data = figure2.figure2_data(args.n, args.functions, args.p, args.seed)
    line = f"basis n={args.n}: orthonormality error {data['orthonormality_error']:.2e}"
    return data, theory_plots.figure2, line


def _weights(args: argparse.Namespace) -> Tool:
    if args.kernel_file is not None:
        data = figure3.kernel_file_data(
            args.kernel_file, args.mc_channels, args.mc_draws, args.seed
        )
    else:
        if args.n < 2:
            raise UsageError(f"--n must be >= 2, got {args.n}")
        data = figure3.figure3_data(
            args.n, args.width, args.kernel, args.mc_channels, args.mc_n, args.mc_draws, args.seed
        )
    gammas = ", ".join(f"{r['label']}: γ={r['gamma']:.4f}" for r in data["kernels"])
    mc = data["monte_carlo"]
    tail = f"; MC deviation {mc['deviation'][-1]:.3f} at k={mc['channels'][-1]}" if mc else ""
    return data, theory_plots.weights, f"weights {gammas}{tail}"


def _linear(args: argparse.Namespace) -> Tool:
    if not 0 < args.gamma < 1:
        raise UsageError(f"--gamma must lie in (0, 1), got {args.gamma}")
    if args.wide < args.n:
        raise UsageError(f"--wide must be >= --n = {args.n}, got {args.wide}")
    bad = [m for m in args.m if not 3 <= m <= args.n]
    if bad:
        raise UsageError(f"--m values must lie in [3, {args.n}], got {bad}")
    data = theorem1.theorem1_data(
        args.n, args.wide, args.gamma, args.m, args.trials, args.gd_iters, args.seed
    )
    ratios = ", ".join(f"{r:.2g}" for r in data["ratio"])
    line = f"linear γ={args.gamma}: measured/bound(7) over m {args.m}: {ratios}"
    return data, theory_plots.theorem1, line


def _jacobian(args: argparse.Namespace) -> Tool:
    if not 0 < args.ratio <= 1:
        raise UsageError(f"--ratio must lie in (0, 1], got {args.ratio}")
    if min(args.iterations) < 0:
        raise UsageError(f"--iterations must be >= 0, got {args.iterations}")
    if args.n < 2**args.layers and args.upsample != "fixed":
        raise UsageError(f"--n must be >= 2^layers = {2**args.layers}, got {args.n}")
    if args.top >= args.n or args.p > args.n:
        raise UsageError(f"--top and --p must be < --n = {args.n}")
    data = figure4.figure4_data(
        args.n, args.channels, args.layers, args.upsample, args.iterations, args.ratio,
        args.p, args.top, args.seed, args.matrix_free,
    )  # fmt: skip
    its = data["iterations"]
    line = (
        f"jacobian {data['layers']}x{data['channels']} n={data['n']}: top-{args.top} change "
        f"{data['change_top']:.3f} between iterations {its[0]} and {its[-1]}"
    )
    return data, theory_plots.figure4, line


def _two_layer(args: argparse.Namespace) -> Tool:
    bad = [m for m in args.m if m > args.n]
    if bad or args.p > args.n:
        raise UsageError(f"--m values and --p must be <= --n = {args.n}, got m {bad}, p {args.p}")
    data = theorem2.theorem2_data(
        args.n, args.channels, args.kernel, args.width, args.p, args.m, args.xi,
        args.trials, args.max_iters, args.seed,
    )  # fmt: skip
    errs = ", ".join(f"{e:.2g}" for e in data["error"])
    line = f"two-layer p={args.p}: error over m {args.m}: {errs}"
    return data, theory_plots.theorem2, line


TOOLS = {
    "basis": _basis,
    "weights": _weights,
    "linear": _linear,
    "jacobian": _jacobian,
    "two-layer": _two_layer,
}


def memory_parts(args: argparse.Namespace) -> dict[str, int]:
    """What the tool will hold at its largest (dense float64 matrices), before running it."""
    f8 = 8
    if args.tool == "basis":
        return {"basis matrix": 3 * f8 * args.n**2}
    if args.tool == "weights":
        n = args.n
        if args.kernel_file is not None:
            n = figure3.load_kernel(args.kernel_file).numel()
        k = max(args.mc_channels, default=0)
        return {"Σ(U)": 4 * f8 * n**2, "Monte-Carlo Jacobians": 2 * f8 * args.mc_n**2 * k}
    if args.tool == "linear":
        return {"J": 3 * f8 * args.n * args.wide, "A": f8 * args.trials * max(args.m) * args.n}
    if args.tool == "jacobian":
        params = args.layers * args.channels**2
        dense = 0 if args.matrix_free else 3 * f8 * args.n * params
        return {"Jacobian": dense, "activations": 64 * f8 * args.n * args.channels}
    return {"generators": 24 * f8 * args.trials * args.n * args.channels}


def run(args: argparse.Namespace) -> int:
    check_memory(memory_parts(args), "choose smaller sizes")
    with staged_run(args.out, f"theory-{args.tool}", args.overwrite) as folder:
        data, plot, line = TOOLS[args.tool](args)
        data = {"tool": args.tool, **data}
        plot(folder.staging / f"{args.tool}.png", data)
        write_json(folder.staging / "metrics.json", data)
    report(data, folder.out, args.json, line)
    return 0
