"""What every subcommand shares: errors, run folders, progress, fit options, outputs."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..fit import StopRule
from ..pipeline import CHECKPOINT_EVERY
from ..runfolder import CHECKPOINT, OutputError, RunFolder
from ..writer import to_json


class UsageError(Exception):
    """Bad input from the user: reported as one line on stderr, exit code 2."""


class Interrupted(Exception):
    """SIGTERM (or SIGINT) asked the run to stop: exit 143 (130).

    ``resume`` is set when the fit's state was saved (the folder to resume from) and
    ``iteration`` where it stopped.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum
        self.resume: Path | None = None
        self.iteration: int | None = None
        #: what was kept, for commands that keep their finished work (sweeps)
        self.kept: str | None = None

    def message(self) -> str:
        import signal

        name = signal.Signals(self.signum).name
        if self.kept is not None:
            return f"interrupted by {name}; {self.kept}"
        if self.resume is None:
            return f"interrupted by {name}; nothing was written"
        return (
            f"interrupted by {name} at iteration {self.iteration}; the fit's state is saved: "
            f"continue with `untrained-cs resume {self.resume}`"
        )


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line and exits with code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


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
        f"plateau (halve when the loss stalls), constant (default: {dd['schedule']} for the "
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
        help=f"comma list of {','.join(SOLVER_NAMES)}, or none (default %(default)s)",
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
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in SOLVER_NAMES]
    if bad:
        raise UsageError(
            f"--baselines: unknown {bad}; choose from {', '.join(SOLVER_NAMES)} or none"
        )
    return names


def options(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed options as recorded in metrics.json (no handlers, no output paths)."""
    skip = {"run", "out", "stop_requests", "resume_from", "overwrite", "quiet", "json"}
    return {k: v for k, v in vars(args).items() if k not in skip and not callable(v)}


def default_out(command: str) -> Path:
    return Path("runs") / f"{command}-{time.strftime('%Y%m%d-%H%M%S')}"


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


class WriteError(RuntimeError):
    """The run finished but its folder could not be written (a run-time failure, exit 1)."""


@contextmanager
def staged_run(
    out: Path | None, command: str, overwrite: bool = False, resume: bool = False
) -> Iterator[RunFolder]:
    """Create the run folder (staged in ``DIR.partial``) before any work; commit on success.

    The folder is checked and probed for writing on entry (bad ``--out``: UsageError);
    ``resume`` takes over the staging folder of an interrupted run. Leaving the block
    normally moves the complete folder into place. An exception removes the staging folder
    unless it holds a checkpoint and the run was interrupted, the disk failed or it was a
    resumed run (its state is never thrown away).
    """
    folder = RunFolder(out or default_out(command), f"untrained-cs {command}", overwrite)
    try:
        folder.create(resume=resume)
    except OutputError as exc:
        raise UsageError(str(exc)) from None
    try:
        yield folder
        folder.commit()
    except BaseException as exc:
        keep = resume or is_interrupt(exc) or isinstance(exc, OSError)
        kept = keep and (folder.staging / CHECKPOINT).exists()
        if not kept:
            folder.discard()
        if isinstance(exc, OSError):
            then = f"; its fit state is kept: `untrained-cs resume {folder.staging}`"
            message = f"could not write the run folder {folder.shown}: {exc}"
            raise WriteError(message + (then if kept else "")) from None
        raise


def is_interrupt(exc: BaseException) -> bool:
    return isinstance(exc, KeyboardInterrupt | Interrupted)


class Progress:
    """A tqdm bar over iterations fed by the fit engine's check callback."""

    def __init__(self, total: int, quiet: bool, desc: str) -> None:
        self.bar = None
        if not quiet:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, desc=desc, unit="it", dynamic_ncols=True, file=sys.stderr, leave=False
            )
        self.done = 0

    def __call__(self, rec: dict[str, Any]) -> None:
        if self.bar is None:
            return
        post = {"loss": f"{float(np.nanmax(rec['loss'])):.3g}"}
        if "psnr" in rec:
            post["psnr"] = f"{float(np.nanmin(rec['psnr'])):.2f}"
        self.bar.set_postfix(post, refresh=False)  # before the update that redraws the bar
        self.bar.update(rec["iteration"] - self.done)
        self.done = rec["iteration"]

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@contextmanager
def keeping(metrics: dict[str, Any]) -> Iterator[None]:
    """Write a run's files; if the disk fails, print the metrics on stdout so none is lost."""
    try:
        yield
    except OSError:
        print(to_json(metrics))
        raise


def with_baselines(line: str, metrics: dict[str, Any]) -> str:
    """A summary line followed by each baseline's PSNR (its name alone when it has none)."""
    base = metrics.get("baselines") or {}
    shown = [k if v.get("psnr") is None else f"{k} {v['psnr']:.2f} dB" for k, v in base.items()]
    return line + ("; " + ", ".join(shown) if shown else "")


def report(metrics: dict[str, Any], out: Path, as_json: bool, headline: str) -> None:
    """Print the metrics object (``--json``) or one summary line, to stdout."""
    if as_json:
        print(to_json(metrics))
    else:
        print(f"{headline} -> {out}")
