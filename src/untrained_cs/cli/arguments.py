"""The options subcommands share, as argparse arguments and types: numbers, the fit,
stopping, generator, baseline, save and output options (each default the library's)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..fit import StopRule
from ..pipeline import CHECKPOINT_EVERY
from .common import UsageError


def integer(low: int | None = 1, high: int | None = None):
    """argparse type: an integer in [low, high]; ``1e3`` is accepted (it is integral)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
            if not (math.isfinite(f) and f.is_integer()):
                raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
            value = int(f)
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high}, got {text}")
        return value

    return parse


def number(low: float | None = None, high: float | None = None, open_low: bool = False):
    """argparse type: a finite number in [low, high] (``(low, high]`` with ``open_low``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if low is not None and (value < low or (open_low and value == low)):
            raise argparse.ArgumentTypeError(
                f"must be {'>' if open_low else '>='} {low:g}, got {text}"
            )
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high:g}, got {text}")
        return value

    return parse


def positive(kind: type = float):
    """argparse type: a finite number > 0 (an integer when ``kind`` is int)."""
    return integer(1) if kind is int else number(0.0, open_low=True)


def operator_choice(choices: Sequence[str], what: str):
    """argparse type: a registered operator among ``choices`` with its options, returned in
    canonical form (``what`` the signals it measures, for the error)."""
    from ..operators.registry import operator_text, parse_operator

    def parse(text: str) -> str:
        try:
            name, options = parse_operator(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if name not in choices:
            raise argparse.ArgumentTypeError(
                f"{name!r} does not measure {what}; choose from {', '.join(choices)}"
            )
        return operator_text(name, options)

    return parse


def add_threads_argument(p: Any) -> None:
    p.add_argument(
        "--threads",
        type=integer(1),
        default=None,
        help="torch CPU threads (default: the cores this process may use, shared among "
        "this tool's commands running at once; give other heavy jobs a share too)",
    )


def add_fit_arguments(p: argparse.ArgumentParser, problem_kind: str) -> None:
    """The fit and output options every reconstruction subcommand shares (same names).

    Defaults are the library's (:mod:`untrained_cs.defaults`, :class:`StopRule`); unset
    ones (None) are resolved there for the chosen generator.
    """
    from ..defaults import ADAM_LR, SCHEDULES, fit_defaults
    from ..fit.optim import OPTIMIZERS
    from ..methods import RECIPES, GeneratorFit
    from ..problems import ProblemSpec

    rule, dd = StopRule(), fit_defaults(problem_kind, "deep-decoder")
    g = p.add_argument_group("fit")
    g.add_argument(
        "--optimizer",
        choices=list(OPTIMIZERS),
        default=GeneratorFit.optimizer,
        help="Adam (published practice; --schedule below) or plain GD",
    )
    g.add_argument(
        "--recipe",
        choices=RECIPES,
        default=GeneratorFit.recipe,
        help="project: the --schedule below, stopped at convergence; published: the "
        f"published deep-decoder practice, Adam at a constant lr {ADAM_LR:g} unless --lr, for "
        "exactly --max-iters iterations (default %(default)s)",
    )
    g.add_argument(
        "--schedule",
        choices=list(SCHEDULES),
        default=None,
        help=f"learning-rate schedule of the project recipe: decay (warm-up, then halving), "
        f"hold (the peak, then fast halving: MRI), plateau (halve when the loss stalls), "
        f"constant (default: {dd['schedule']} for the "
        f"deep decoder here; GD constant); a schedule other than the default starts from "
        f"Adam {ADAM_LR:g} unless --lr",
    )
    g.add_argument(
        "--lr",
        type=positive(float),
        default=None,
        help=f"learning rate (default: Adam {dd['lr']:g} for the deep decoder; GD 1/L estimate)",
    )
    g.add_argument(
        "--tv-weight",
        type=number(0.0),
        default=None,
        metavar="W",
        help="add W x max|A^T y| x TV(G) to the fit's loss (0: the paper's loss; default "
        f"{dd.get('tv_weight', 0):g} here, 0 under GD or --recipe published)",
    )
    g.add_argument(
        "--max-iters",
        type=positive(int),
        default=None,
        help=f"iteration cap (default {dd['max_iters']} for the deep decoder)",
    )
    g.add_argument(
        "--tol",
        type=positive(float),
        default=rule.tol,
        help="converged when the windowed best loss improves by less than this "
        f"(relative, default {rule.tol:g})",
    )
    g.add_argument(
        "--loss-floor",
        type=number(0.0, 1.0, open_low=True),
        default=rule.loss_floor,
        help="converged when loss <= this x ½||y||² (default %(default)g)",
    )
    add_stop_arguments(g)
    g.add_argument(
        "--ensemble",
        type=positive(int),
        default=1,
        metavar="K",
        help="fit K generators from K seeds in one batched fit and return their mean; "
        "spread.png/.npy: the members' per-pixel standard deviation (default %(default)s)",
    )
    g.add_argument(
        "--seed",
        type=integer(0, 2**63 - 1),
        default=ProblemSpec.seed,
        help="root seed: the generator's, the operator's and the noise's seeds derive from it",
    )
    g.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    g.add_argument(
        "--compile",
        action="store_true",
        help="compile the fit's forward pass with torch.compile: the first run of a shape "
        "pays the compilation (cached on disk after), falls back to eager where it fails",
    )
    add_threads_argument(g)
    g.add_argument(
        "--checkpoint-every",
        type=number(1.0),
        default=CHECKPOINT_EVERY,
        help="seconds between saves of the fit's state into DIR.partial (default %(default)g)",
    )
    add_output_arguments(p)


def add_stop_arguments(g: Any) -> None:
    """--stop and --holdout-fraction: what ends a fit on noisy data."""
    from ..methods import NOISY_DEFAULT, STOPS, GeneratorFit

    g.add_argument(
        "--stop",
        choices=STOPS,
        default=GeneratorFit.stop,
        help="what ends the fit: the convergence rule, the iterate of lowest residual on "
        "held-out measurements, or the discrepancy principle (needs the noise level); auto: "
        f"converge on noiseless data, {NOISY_DEFAULT} on noisy data (default %(default)s)",
    )
    g.add_argument(
        "--holdout-fraction",
        type=number(0.0, 1.0, open_low=True),
        default=GeneratorFit.holdout_fraction,
        help="share of the measurements held out by --stop holdout (default %(default)s)",
    )


def add_generator_arguments(
    p: argparse.ArgumentParser, kind: str, generators: Sequence[str], layers_note: str = ""
) -> None:
    """--generator, --channels and --layers, defaulting to the deep decoder's for ``kind``."""
    from ..defaults import fit_defaults

    d = fit_defaults(kind, "deep-decoder")
    p.add_argument("--generator", choices=tuple(generators), default="deep-decoder")
    p.add_argument("--channels", type=positive(int), default=d["channels"],
                   help="deep decoder k (default %(default)s)")  # fmt: skip
    p.add_argument("--layers", type=positive(int), default=d["layers"],
                   help=f"deep decoder d ({layers_note}default %(default)s)")  # fmt: skip


def add_baseline_arguments(p: argparse.ArgumentParser, default: str) -> None:
    """--baselines and --weight-choice: classical solvers on the problem's own operator."""
    from ..defaults import HOLDOUT_FRACTION
    from ..methods import SOLVER_NAMES, Solver
    from ..solvers import WEIGHT_CHOICES

    g = p.add_argument_group("baselines")
    g.add_argument(
        "--baselines",
        default=default,
        help=f"comma list of {','.join(SOLVER_NAMES)}, all, or none (default %(default)s)",
    )
    g.add_argument(
        "--weight-choice",
        choices=WEIGHT_CHOICES,
        default=None,
        help="how ℓ1/TV weights are picked: by the ground truth (oracle), the discrepancy "
        f"principle (needs the noise level) or a held-out {HOLDOUT_FRACTION:.0%}% of y "
        f"(default {Solver.weight_choice}; holdout for measured data without a truth)",
    )


def add_save_argument(p: argparse.ArgumentParser) -> None:
    """--save: the estimate's number formats beside ``estimate.npy`` (always written)."""
    from ..io import FORMATS

    p.add_argument(
        "--save",
        default="",
        metavar="FORMATS",
        help=f"also write the float estimate as: comma list of {', '.join(FORMATS)} "
        "(estimate.npy is always written; nifti for volumes)",
    )


def save_formats(args: argparse.Namespace, volume: bool = False) -> tuple[str, ...]:
    """The formats ``--save`` names (``none``: no other), checked (a UsageError naming a
    bad one)."""
    from ..io import check_formats

    text = getattr(args, "save", "")
    try:
        return check_formats([] if text.strip().lower() == "none" else text.split(","), volume)
    except ValueError as exc:
        raise UsageError(f"--save: {exc}") from None


def baseline_names(text: str) -> tuple[str, ...]:
    """The solvers named by ``--baselines`` (a UsageError for an unknown one)."""
    from ..methods import SOLVER_NAMES

    if text.strip().lower() in ("", "none"):
        return ()
    if text.strip().lower() == "all":
        return SOLVER_NAMES
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in SOLVER_NAMES]
    if bad:
        raise UsageError(
            f"--baselines: unknown {bad}; choose from {', '.join(SOLVER_NAMES)} or none"
        )
    return names


def add_output_arguments(p: argparse.ArgumentParser, what: str = "the metrics") -> None:
    """--out, --overwrite, --quiet, --json: the output options of every subcommand."""
    o = p.add_argument_group("output")
    o.add_argument(
        "--out", type=Path, default=None, help="run folder (default runs/<command>-<time>)"
    )
    o.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --out when it holds an earlier run of this tool (only then)",
    )
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    o.add_argument("--json", action="store_true", help=f"print {what} as JSON")
