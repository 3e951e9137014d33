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

import numpy as np
import torch

from .. import theory_plots
from .common import UsageError, check_out, default_out, positive, report, run_folder, write_json


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--threads", type=positive(int), default=None, help="torch CPU threads")
    p.add_argument("--out", type=Path, default=None, help="run folder (default runs/theory-…)")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
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


def _basis_parser(tools: Any) -> None:
    p = tools.add_parser("basis", help="Figure 2: eq (10) functions and a p-smooth signal")
    p.add_argument("--n", type=positive(int), default=300, help="signal length (default 300)")
    p.add_argument(
        "--functions", type=int, nargs="+", default=[1, 2, 6, 21],
        help="eq (10) indices i in [0, n) to plot (default 1 2 6 21)",
    )  # fmt: skip
    p.add_argument("--p", type=positive(int), default=10, help="smoothness of the example")
    _common(p)


def _weights_parser(tools: Any) -> None:
    p = tools.add_parser("weights", help="Figure 3: eq (11) kernel weights, γ, cross-checks")
    p.add_argument("--kernel", choices=["triangular", "gaussian"], default="triangular")
    p.add_argument(
        "--width", type=positive(float), nargs="+", default=[4.0, 8.0, 16.0],
        help="kernel width(s); sigma/gamma in the JSON are for the first (default 4 8 16)",
    )  # fmt: skip
    p.add_argument("--n", type=positive(int), default=300, help="signal length (default 300)")
    p.add_argument(
        "--kernel-file", type=Path, default=None,
        help="a length-n kernel (.npy), normalised to unit norm (n is its length; --n, "
        "--kernel and --width are then ignored)",
    )  # fmt: skip
    p.add_argument(
        "--mc-channels", type=positive(int), nargs="*", default=[64, 256, 1024],
        help="k values of the Monte-Carlo E[JJᵀ] check (none: skip; default 64 256 1024)",
    )  # fmt: skip
    p.add_argument("--mc-n", type=positive(int), default=64, help="length for the MC check")
    p.add_argument("--mc-draws", type=positive(int), default=2, help="random C per k")
    _common(p)


def _linear_parser(tools: Any) -> None:
    p = tools.add_parser("linear", help="Theorem 1: linear generator, error vs bound over m")
    p.add_argument("--n", type=positive(int), default=128)
    p.add_argument("--wide", type=positive(int), default=512, help="columns of J (>= n)")
    p.add_argument("--gamma", type=float, default=0.9, help="σ_i² = γ^i, γ in (0, 1)")
    p.add_argument("--m", type=positive(int), nargs="+", default=list(range(12, 97, 12)))
    p.add_argument("--trials", type=positive(int), default=5)
    p.add_argument("--gd-iters", type=int, default=2000, help="GD steps from 0 (0: skip)")
    _common(p)


def _jacobian_parser(tools: Any) -> None:
    p = tools.add_parser("jacobian", help="Figure 4: deep decoder Jacobian spectrum over GD")
    p.add_argument("--n", type=positive(int), default=512)
    p.add_argument("--channels", type=positive(int), default=64)
    p.add_argument("--layers", type=positive(int), default=4)
    p.add_argument("--upsample", choices=["linear", "nearest", "fixed"], default="linear")
    p.add_argument("--iterations", type=int, nargs="+", default=[1, 75, 3500])
    p.add_argument("--ratio", type=float, default=0.5, help="m/n of the Gaussian A")
    p.add_argument("--p", type=positive(int), default=32, help="smoothness of x*")
    p.add_argument("--top", type=positive(int), default=50, help="values compared")
    p.add_argument("--matrix-free", action="store_true", help="Lanczos top-k, no dense J")
    _common(p)


def _two_layer_parser(tools: Any) -> None:
    p = tools.add_parser("two-layer", help="Theorems 2/3: ReLU(UC)v by GD, error vs eq (13)")
    p.add_argument("--n", type=positive(int), default=64)
    p.add_argument("--channels", type=positive(int), default=256)
    p.add_argument("--kernel", choices=["triangular", "gaussian"], default="triangular")
    p.add_argument("--width", type=positive(float), default=4.0)
    p.add_argument("--p", type=positive(int), default=5, help="smoothness of x*")
    p.add_argument("--m", type=positive(int), nargs="+", default=[4, 8, 12, 16, 24, 32, 48])
    p.add_argument("--xi", type=positive(float), default=0.1, help="Theorem 3's ξ")
    p.add_argument("--trials", type=positive(int), default=3)
    p.add_argument("--max-iters", type=positive(int), default=3000)
    _common(p)


def _load_kernel(path: Path) -> torch.Tensor:
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--kernel-file {path}: cannot read a .npy array ({exc})") from None
    arr = np.asarray(arr, dtype=np.float64).squeeze()
    if arr.ndim != 1 or arr.size < 2:
        raise UsageError(
            f"--kernel-file {path}: need a 1D kernel of length n >= 2, got {arr.shape}"
        )
    if not np.isfinite(arr).all() or not np.any(arr):
        raise UsageError(f"--kernel-file {path}: kernel must be finite and not all zero")
    u = torch.from_numpy(arr)
    return u / u.norm()


def _basis(args: argparse.Namespace) -> tuple[dict[str, Any], Callable, str]:
    from ..experiments.figure2 import figure2_data

    bad = [i for i in args.functions if not 0 <= i < args.n]
    if bad:
        raise UsageError(f"--functions must lie in [0, {args.n}), got {bad}")
    if args.p > args.n:
        raise UsageError(f"--p must be <= --n = {args.n}, got {args.p}")
    data = figure2_data(args.n, args.functions, args.p, args.seed)
    line = f"basis n={args.n}: orthonormality error {data['orthonormality_error']:.2e}"
    return data, theory_plots.figure2, line


def _weights(args: argparse.Namespace) -> tuple[dict[str, Any], Callable, str]:
    from ..experiments.figure3 import kernel_report, monte_carlo_check
    from ..generators.kernels import make_kernel
    from ..theory.weights import eigenvector_alignment

    if args.kernel_file is not None:
        kernels = [(_load_kernel(args.kernel_file), f"file {args.kernel_file.name}")]
    else:
        if args.n < 2:
            raise UsageError(f"--n must be >= 2, got {args.n}")
        kernels = [(make_kernel(args.kernel, args.n, w), f"{args.kernel} w={w:g}")
                   for w in args.width]  # fmt: skip
    reports = [kernel_report(u, label, explicit=u.numel() <= 2048) for u, label in kernels]
    first = kernels[0][0]
    data: dict[str, Any] = {
        "n": first.numel(), "sigma": reports[0]["sigma"], "gamma": reports[0]["gamma"],
        "kernels": reports, "monte_carlo": None,
    }  # fmt: skip
    if args.mc_channels:
        small = first if args.kernel_file is not None else make_kernel(
            args.kernel, args.mc_n, args.width[0])  # fmt: skip
        data["monte_carlo"] = {"n": small.numel(), **monte_carlo_check(
            small, args.mc_channels, args.mc_draws, args.seed)}  # fmt: skip
    if first.numel() <= 2048:
        ranks = [r for r in (1, 5, 11, 21) if r <= first.numel()]
        data["alignment"] = {str(r): v for r, v in eigenvector_alignment(first, ranks).items()}
    gammas = ", ".join(f"{r['label']}: γ={r['gamma']:.4f}" for r in reports)
    mc = data["monte_carlo"]
    tail = f"; MC deviation {mc['deviation'][-1]:.3f} at k={mc['channels'][-1]}" if mc else ""
    return data, theory_plots.weights, f"weights {gammas}{tail}"


def _linear(args: argparse.Namespace) -> tuple[dict[str, Any], Callable, str]:
    from ..theory.linear_theorem import theorem1_curve

    if not 0 < args.gamma < 1:
        raise UsageError(f"--gamma must lie in (0, 1), got {args.gamma}")
    if args.wide < args.n:
        raise UsageError(f"--wide must be >= --n = {args.n}, got {args.wide}")
    bad = [m for m in args.m if not 3 <= m <= args.n]
    if bad:
        raise UsageError(f"--m values must lie in [3, {args.n}], got {bad}")
    data = theorem1_curve(
        args.n, args.wide, args.gamma, args.m, args.trials, args.seed, max(0, args.gd_iters)
    )
    ratios = ", ".join(f"{r:.2g}" for r in data["ratio"])
    line = f"linear γ={args.gamma}: measured/bound(7) over m {args.m}: {ratios}"

    def plot(path: Path, d: dict[str, Any]) -> None:
        theory_plots.theorem_curve(path, d, ["bound7", "bound8"], "Theorem 1 (linear J)")

    return data, plot, line


def _jacobian(args: argparse.Namespace) -> tuple[dict[str, Any], Callable, str]:
    from ..experiments.figure4 import figure4_data

    if not 0 < args.ratio <= 1:
        raise UsageError(f"--ratio must lie in (0, 1], got {args.ratio}")
    if min(args.iterations) < 0:
        raise UsageError(f"--iterations must be >= 0, got {args.iterations}")
    if args.n < 2**args.layers and args.upsample != "fixed":
        raise UsageError(f"--n must be >= 2^layers = {2**args.layers}, got {args.n}")
    if args.top >= args.n or args.p > args.n:
        raise UsageError(f"--top and --p must be < --n = {args.n}")
    data = figure4_data(
        args.n, args.channels, args.layers, args.upsample, args.iterations, args.ratio,
        args.p, args.top, args.seed, args.matrix_free,
    )  # fmt: skip
    its = data["iterations"]
    line = (
        f"jacobian {data['layers']}x{data['channels']} n={data['n']}: top-{args.top} change "
        f"{data['change_top']:.3f} between iterations {its[0]} and {its[-1]}"
    )
    return data, theory_plots.figure4, line


def _two_layer(args: argparse.Namespace) -> tuple[dict[str, Any], Callable, str]:
    from ..theory.two_layer_theorem import theorem2_curve

    bad = [m for m in args.m if m > args.n]
    if bad or args.p > args.n:
        raise UsageError(f"--m values and --p must be <= --n = {args.n}, got m {bad}, p {args.p}")
    data = theorem2_curve(
        args.n, args.channels, args.width, args.kernel, args.p, args.m, args.xi,
        args.trials, args.seed, args.max_iters,
    )  # fmt: skip
    errs = ", ".join(f"{e:.2g}" for e in data["error"])
    line = f"two-layer p={args.p}: error over m {args.m}: {errs}"

    def plot(path: Path, d: dict[str, Any]) -> None:
        theory_plots.theorem_curve(path, d, ["bound13"], "Theorems 2/3 (ReLU(UC)v, GD)")

    return data, plot, line


TOOLS = {
    "basis": _basis,
    "weights": _weights,
    "linear": _linear,
    "jacobian": _jacobian,
    "two-layer": _two_layer,
}


def run(args: argparse.Namespace) -> int:
    out: Path = args.out or default_out(f"theory-{args.tool}")
    check_out(out)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    data, plot, line = TOOLS[args.tool](args)
    data = {"tool": args.tool, **data}
    with run_folder(out) as tmp:
        plot(tmp / f"{args.tool}.png", data)
        write_json(tmp / "metrics.json", data)
    report(data, out, args.json, line)
    return 0
