"""What every subcommand shares when it runs: errors, run folders, progress, the summary
line; the options they share are in :mod:`.arguments`."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

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


def options(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed options as recorded in metrics.json (no handlers, no output paths)."""
    skip = {"run", "out", "stop_requests", "resume_from", "overwrite", "quiet", "json"}
    return {k: v for k, v in vars(args).items() if k not in skip and not callable(v)}


def default_out(command: str) -> Path:
    return Path("runs") / f"{command}-{time.strftime('%Y%m%d-%H%M%S')}"


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


def quality(metrics: dict[str, Any]) -> str:
    """PSNR and SSIM, or without a ground truth the data residuals (measured data, test
    files)."""
    if metrics.get("psnr") is not None:
        ssim = metrics.get("ssim")
        return f"PSNR {metrics['psnr']:.2f} dB, SSIM {'-' if ssim is None else f'{ssim:.3f}'}"
    text = f"no ground truth: residual {metrics['residual']:.3g}"
    if metrics.get("heldout_residual") is not None:
        text += f", held-out residual {metrics['heldout_residual']:.3g}"
    return text


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
