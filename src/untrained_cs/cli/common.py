"""What every subcommand shares: errors, run folders, progress, fit options, outputs."""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..fit import FitResult, StopRule


class UsageError(Exception):
    """Bad input from the user: reported as one line on stderr, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line and exits with code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def positive(kind: type = float):
    """argparse type: a number > 0, named in the error otherwise."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


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
        type=positive(float),
        default=rule.loss_floor,
        help="converged when loss <= this x ½||y||² (default %(default)g)",
    )
    g.add_argument(
        "--seed", type=int, default=0, help="seed of the generator; the operator uses seed + 1"
    )
    g.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    o = p.add_argument_group("output")
    o.add_argument(
        "--out", type=Path, default=None, help="run folder (default runs/<command>-<time>)"
    )
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    o.add_argument("--json", action="store_true", help="print the metrics object as JSON")


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


def check_out(out: Path) -> None:
    """Refuse a non-empty folder that is not an earlier run folder (never clobber data)."""
    if out.exists():
        if not out.is_dir():
            raise UsageError(f"--out {out} exists and is not a folder")
        if any(out.iterdir()) and not (out / "metrics.json").exists():
            raise UsageError(f"--out {out} is a non-empty folder that is not a run folder")


@contextmanager
def run_folder(out: Path) -> Iterator[Path]:
    """Write into a temporary sibling folder and move it into place only on success.

    A failure or interrupt leaves nothing behind; an earlier run in ``out`` is replaced.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)


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
    path.write_text(json.dumps(obj, indent=2, default=_jsonable) + "\n")


def _jsonable(o: Any) -> Any:
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def report(metrics: dict[str, Any], out: Path, as_json: bool, headline: str) -> None:
    """Print the metrics object (``--json``) or one summary line, to stdout."""
    if as_json:
        print(json.dumps(metrics, default=_jsonable))
    else:
        print(f"{headline} -> {out}")
