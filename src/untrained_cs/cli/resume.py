"""`untrained-cs resume DIR.partial`: continue an interrupted run from its saved state.

The run folder's ``resume.json`` holds the command and its options; the fit continues from
``checkpoint.pt`` with the thread count it started with (so that, on the CPU, the finished
folder holds the same numbers as a run that was never interrupted).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..runfolder import CHECKPOINT, PARTIAL_SUFFIX, RESUME
from .common import UsageError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("resume", help="continue an interrupted run (DIR.partial)")
    p.add_argument("partial", type=Path, help="the interrupted run's DIR.partial folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(run=run)


def load_resume(partial: Path) -> dict[str, Any]:
    """The saved command and options of an interrupted run (UsageError when there is none)."""
    if not partial.name.endswith(PARTIAL_SUFFIX) or not partial.is_dir():
        raise UsageError(f"{partial} is not an interrupted run folder (NAME{PARTIAL_SUFFIX})")
    if not (partial / CHECKPOINT).is_file() or not (partial / RESUME).is_file():
        raise UsageError(f"{partial} holds no saved fit state ({CHECKPOINT}, {RESUME})")
    try:
        saved = json.loads((partial / RESUME).read_text())
        saved["command"], saved["options"]  # noqa: B018 (both must be there)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{partial / RESUME} cannot be read: {exc}") from None
    return saved


def run(args: argparse.Namespace) -> int:
    from ..runtime import set_threads
    from . import mri, reconstruct

    commands = {"reconstruct": reconstruct, "mri": mri}
    saved = load_resume(args.partial)
    if saved["command"] not in commands:
        raise UsageError(f"cannot resume a {saved['command']!r} run")
    options = dict(saved["options"])
    if options.get("kspace") is not None:
        options["kspace"] = Path(options["kspace"])
    ns = argparse.Namespace(**options)
    ns.out, ns.overwrite = None, False
    ns.quiet, ns.json = args.quiet, args.json
    ns.stop_requests, ns.resume_from = args.stop_requests, Path(args.partial).absolute()
    ns.command = saved["command"]
    set_threads(int(saved.get("threads") or 1))
    return int(commands[saved["command"]].run(ns))
