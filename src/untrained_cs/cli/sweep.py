"""`untrained-cs sweep run|status|export|report`: grids of fits from a YAML config, run in
this process or on a Dask cluster (local worker processes, or a running scheduler).

`sweep run` holds the folder's coordinator lock (a second one is refused, exit 2), prints
its plan (fits, tasks, then a probed time) before any fit is expanded, and with
``--dry-run`` stops there. A damaged store is refused (exit 2) by every action but
`export`, which saves the rows still readable; a disk that fills up stops the run in one
line (exit 1), every task stored before kept.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from .arguments import integer
from .common import Interrupted, UsageError, WriteError
from .reproduce import _duration

CONFIG_COPY = "config.yaml"
#: a config of more fits than this says, after its plan, that it expands them first
ANNOUNCE_FITS = 10_000


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sweep", help="run a grid of fits from a YAML config, resumably")
    tools = p.add_subparsers(dest="tool", metavar="ACTION", required=True)
    r = tools.add_parser("run", help="run the fits not yet done (again: continue)")
    r.add_argument("config", type=Path, help="the sweep's YAML config")
    r.add_argument("--out", type=Path, required=True, help="the sweep folder")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (fits, tasks, probed time) and stop; nothing is written",
    )
    where = r.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=integer(1),
        default=None,
        metavar="N",
        help="run the tasks on a local Dask cluster of N worker processes (default: in this "
        "process); the cores are shared among them",
    )
    where.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the tasks on the running Dask cluster of this scheduler (tcp://HOST:8786)",
    )
    s = tools.add_parser("status", help="fits done / failed / to do")
    s.add_argument("folder", type=Path)
    e = tools.add_parser("export", help="the results table as CSV or Parquet")
    e.add_argument("folder", type=Path)
    e.add_argument(
        "--format",
        choices=["csv", "parquet"],
        default="csv",
        help="results.csv or results.parquet in the folder (default %(default)s)",
    )
    g = tools.add_parser("report", help="pictures: error against m, phase diagram over m × p")
    g.add_argument("folder", type=Path)
    g.add_argument(
        "--threshold", type=float, default=0.1, help="success: relative error below this"
    )
    for q in (r, s, e, g):
        q.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    actions = {"run": _run, "status": _status, "export": _export, "report": _report}
    return int(actions[args.tool](args))


def _check_folder(folder: Path, creating: bool) -> None:
    from ..sweeps.lock import LOCK_NAME
    from ..sweeps.store import DB_NAME

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    if creating and folder.is_dir() and any(folder.iterdir()):
        if not ((folder / DB_NAME).exists() or (folder / LOCK_NAME).exists()):
            raise UsageError(f"--out {folder} is a non-empty folder that is not a sweep folder")
    if not creating and not (folder / DB_NAME).exists():
        raise UsageError(f"{folder} is not a sweep folder (no {DB_NAME})")


def _run(args: argparse.Namespace) -> int:
    from ..sweeps import load, run_sweep
    from ..sweeps.lock import hold
    from ..sweeps.store import StoreError

    config = load(args.config)  # too many fits: refused here, before any is made
    _check_folder(args.out, creating=True)
    with ExitStack() as stack:
        if not args.dry_run:
            stack.enter_context(hold(args.out))  # a second coordinator: refused here
        _plan(config, args)
        if args.dry_run:
            return 0
        executor = stack.enter_context(_executor(args.workers, args.scheduler))
        _write_whole(args.out / CONFIG_COPY, args.config.read_bytes())
        if config.count() > ANNOUNCE_FITS and not args.quiet:
            sys.stderr.write(f"making and checking the {config.count()} fits ...\n")
        fits = config.fits()
        _write_whole(args.out / "fits.json", _fits_json(fits))
        try:
            counts = run_sweep(config, args.out, executor=executor, progress=not args.quiet)
        except Interrupted as exc:
            exc.kept = (f"every finished task is stored in {args.out}; run the same command "
                        "again to continue")  # fmt: skip
            raise
        except StoreError as exc:  # a full disk: one line, exit 1, the store consistent
            raise WriteError(str(exc)) from None
    print(_line(len(fits), counts, args.out))
    return 0


def _plan(config: Any, args: argparse.Namespace) -> None:
    """Print the plan: the fits and tasks at once, then the time from timed probes."""
    from ..experiments.probe import probe_fit
    from ..sweeps.outline import estimate, outline

    done = min(_stored(args.out).get("done", 0), config.count())
    counted = outline(config, slots=args.workers or 1)
    about = "about " if counted.sampled else ""
    stored = f"; {done} already done" if done else ""
    print(f"plan: {_many(counted.fits, 'fit')} in {about}{_many(counted.tasks, 'task')} "
          f"({_many(counted.shapes, 'shape')}){stored}", flush=True)  # fmt: skip
    if done >= counted.fits:
        return
    timed = estimate(config, counted, probe_fit)
    if timed.seconds is None:
        print("estimate: none (the probe times image and p-smooth CS fits only)", flush=True)
        return
    left = timed.seconds * (timed.fits - done) / timed.fits
    shown = "under 1 s" if left < 1 else f"at most {_duration(left)}"
    probed = "its shape" if timed.shapes == 1 else f"{timed.probed} of {timed.shapes} shapes"
    print(f"estimate: {shown} on this machine's CPU, one task at a time (timed probe "
          f"of {probed}; every fit run to its iteration cap: fits that converge stop "
          "sooner)", flush=True)  # fmt: skip


def _many(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _stored(folder: Path) -> dict[str, int]:
    """The status counts of the folder's store (checked; none when there is none yet)."""
    from ..sweeps.store import DB_NAME, Store

    if not (folder / DB_NAME).exists():
        return {}
    store = Store(folder, readonly=True)
    try:
        return store.counts()
    finally:
        store.close()


def _fits_json(fits: list[Any]) -> bytes:
    """fits.json: every fit's key, problem and method, one fit per line."""
    lines = (json.dumps({"key": f.key, "problem": f.problem.to_dict(),
                         "method": f.method.to_dict()}) for f in fits)  # fmt: skip
    return ("[\n" + ",\n".join(lines) + "\n]\n").encode()


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``path`` through a temporary file renamed into place (whole or unchanged);
    a failure is one line naming the file (WriteError, exit 1)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise WriteError(f"could not write {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def _executor(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """None (in this process), or a Dask executor on local workers or a running cluster."""
    if workers is None and scheduler is None:
        yield None
        return
    from ..runtime import tune_process

    require("distributed", "cluster", "--workers and --scheduler")
    from ..sweeps.distributed import dask_executor

    with ExitStack() as stack:  # closes the client (and the cluster started here) on exit
        try:
            # local workers get this command's process tuning (see untrained_cs.runtime)
            executor = stack.enter_context(dask_executor(workers, scheduler, setup=tune_process))
        except ValueError as exc:  # a malformed or unreachable scheduler address
            raise UsageError(str(exc)) from None
        yield executor


def _status(args: argparse.Namespace) -> int:
    from ..sweeps import Store, load

    _check_folder(args.folder, creating=False)
    keys = {f.key for f in load(args.folder / CONFIG_COPY).fits()}
    store = Store(args.folder, readonly=True)
    try:
        print(_line(len(keys), store.counts(keys), args.folder))
    finally:
        store.close()
    return 0


def require(module: str, extra: str, what: str) -> None:
    """A UsageError naming the install command when an optional part is not installed."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise UsageError(
            f"{what} needs {module}, which is not installed: pip install 'untrained-cs[{extra}]'"
        )


def _export(args: argparse.Namespace) -> int:
    from ..sweeps.store import DamagedStore, salvage, write_csv, write_parquet

    if args.format == "parquet":
        require("pyarrow", "parquet", "--format parquet")
    write = write_parquet if args.format == "parquet" else write_csv
    try:
        rows = _rows(args.folder)
    except DamagedStore:  # save what can still be read, beside (never over) an export
        rows, complete = salvage(args.folder)
        out = args.folder / f"results.salvaged.{args.format}"
        _export_whole(write, rows, out)
        print(f"{len(rows)} rows -> {out}")
        sys.stderr.write(
            f"untrained-cs sweep export: warning: {args.folder / 'results.sqlite'} is damaged: "
            f"these are the {len(rows)} rows that could be read"
            f"{'' if complete else ' (some could not)'}; move it aside and run the sweep "
            "again to compute the rest\n"
        )
        return 0
    out = args.folder / f"results.{args.format}"
    _export_whole(write, rows, out)
    print(f"{len(rows)} rows -> {out}")
    return 0


def _export_whole(write: Any, rows: list[dict[str, Any]], out: Path) -> None:
    """``write(rows, out)`` through a temporary file: ``out`` is whole or unchanged."""
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        write(rows, tmp)
        os.replace(tmp, out)
    except OSError as exc:
        raise WriteError(f"could not write {out}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _report(args: argparse.Namespace) -> int:
    from ..plots.sweep import error_against_m, phase_diagram

    rows = _rows(args.folder)
    lines = error_against_m(args.folder / "report_error.png", rows)
    drawn = ["report_error.png"]
    if phase_diagram(args.folder / "report_phase.png", rows, args.threshold):
        drawn.append("report_phase.png")
    print(f"{lines} curves; {', '.join(drawn)} -> {args.folder}")
    return 0


def _rows(folder: Path) -> list[dict[str, Any]]:
    """Every stored row of a sweep folder (UsageError when it is not one; DamagedStore when
    its store is damaged)."""
    from ..sweeps import Store

    _check_folder(folder, creating=False)
    store = Store(folder, readonly=True)
    try:
        return store.rows()
    finally:
        store.close()


def _line(total: int, counts: dict[str, int], folder: Path) -> str:
    done, failed = counts.get("done", 0), counts.get("failed", 0)
    return f"{done} done, {failed} failed, {total - done - failed} to do of {total} -> {folder}"
