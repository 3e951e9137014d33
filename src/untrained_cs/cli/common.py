"""What every subcommand shares: errors, run folders, progress, fit options, outputs."""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..fit import FitResult, StopRule
from ..runfolder import CHECKPOINT, OutputError, RunFolder


class UsageError(Exception):
    """Bad input from the user: reported as one line on stderr, exit code 2."""


class Interrupted(Exception):
    """SIGTERM (or SIGINT) asked the run to stop: exit 143 (130)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


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


def add_fit_arguments(p: argparse.ArgumentParser, max_iters: int = 10000) -> None:
    """The fit and output options every reconstruction subcommand shares (same names)."""
    rule = StopRule()
    g = p.add_argument_group("fit")
    g.add_argument(
        "--optimizer",
        choices=["adam", "gd"],
        default="adam",
        help="Adam (published practice, plateau lr schedule) or plain GD",
    )
    g.add_argument(
        "--lr",
        type=positive(float),
        default=None,
        help="learning rate (Adam default 0.005; GD default 1/L estimate)",
    )
    g.add_argument(
        "--max-iters",
        type=positive(int),
        default=max_iters,
        help=f"iteration cap (default {max_iters})",
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
    g.add_argument(
        "--seed",
        type=integer(0, 2**63 - 1),
        default=0,
        help="root seed: the generator's, the operator's and the noise's seeds derive from it",
    )
    g.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    add_output_arguments(p)


def fit_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "optimizer": args.optimizer,
        "lr": args.lr,
        "max_iters": args.max_iters,
        "tol": args.tol,
        "loss_floor": args.loss_floor,
        "device": args.device,
    }


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
def staged_run(out: Path | None, command: str, overwrite: bool = False) -> Iterator[RunFolder]:
    """Create the run folder (staged in ``DIR.partial``) before any work; commit on success.

    The folder is checked and probed for writing on entry (bad ``--out``: UsageError).
    Leaving the block normally moves the complete folder into place; an exception removes
    the staging folder unless it holds a checkpoint (an interrupted, resumable run).
    """
    folder = RunFolder(out or default_out(command), f"untrained-cs {command}", overwrite)
    try:
        folder.create()
    except OutputError as exc:
        raise UsageError(str(exc)) from None
    try:
        yield folder
        folder.commit()
    except BaseException as exc:
        if not (is_interrupt(exc) and (folder.staging / CHECKPOINT).exists()):
            folder.discard()
        if isinstance(exc, OSError):
            raise WriteError(f"could not write the run folder {folder.shown}: {exc}") from None
        raise


def is_interrupt(exc: BaseException) -> bool:
    return isinstance(exc, KeyboardInterrupt | Interrupted)


def check_out(out: Path, overwrite: bool = False) -> None:
    """Refuse an unusable ``--out`` before any work (see :mod:`untrained_cs.runfolder`)."""
    try:
        RunFolder(out, "check", overwrite).check()
    except OutputError as exc:
        raise UsageError(str(exc)) from None


@contextmanager
def run_folder(out: Path, overwrite: bool = False) -> Iterator[Path]:
    """Stage a folder for ``out`` and move it into place only when the block succeeds."""
    with staged_run(out, "theory", overwrite) as folder:
        yield folder.staging


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
        self.bar.update(rec["iteration"] - self.done)
        self.done = rec["iteration"]
        post = {"loss": f"{float(np.nanmax(rec['loss'])):.3g}"}
        if "psnr" in rec:
            post["psnr"] = f"{float(np.nanmin(rec['psnr'])):.2f}"
        self.bar.set_postfix(post, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def write_history(path: Path, result: FitResult, member: int = 0) -> None:
    """history.csv: one row per logged iteration (loss, lr, and mse/psnr with the truth)."""
    h = result.history
    cols = [c for c in ("loss", "lr", "mse", "psnr") if c in h]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["iteration", *cols])
        for i, it in enumerate(h["iteration"]):
            w.writerow([int(it), *(f"{h[c][i, member]:.8g}" for c in cols)])


def write_json(path: Path, obj: dict[str, Any]) -> None:
    path.write_text(to_json(obj, indent=2) + "\n")


def to_json(obj: Any, indent: int | None = None) -> str:
    """Strict JSON: numpy and paths converted, NaN and ±inf written as ``null``."""
    return json.dumps(_finite(obj), indent=indent, allow_nan=False)


def _finite(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _finite(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_finite(v) for v in o]
    if isinstance(o, np.ndarray):
        return _finite(o.tolist())
    if isinstance(o, np.generic):
        return _finite(o.item())
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, Path):
        return str(o)
    if o is None or isinstance(o, str | int | bool):
        return o
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


@contextmanager
def keeping(metrics: dict[str, Any]) -> Iterator[None]:
    """Write a run's files; if the disk fails, print the metrics on stdout so none is lost."""
    try:
        yield
    except OSError:
        print(to_json(metrics))
        raise


def report(metrics: dict[str, Any], out: Path, as_json: bool, headline: str) -> None:
    """Print the metrics object (``--json``) or one summary line, to stdout."""
    if as_json:
        print(to_json(metrics))
    else:
        print(f"{headline} -> {out}")
