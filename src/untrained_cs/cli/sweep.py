"""`untrained-cs sweep run|status|export|report`: grids of fits from a YAML config, run in
this process or on a Dask cluster (local worker processes, or a running scheduler)."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from .common import Interrupted, UsageError, integer

CONFIG_COPY = "config.yaml"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sweep", help="run a grid of fits from a YAML config, resumably")
    tools = p.add_subparsers(dest="tool", metavar="ACTION", required=True)
    r = tools.add_parser("run", help="run the fits not yet done (again: continue)")
    r.add_argument("config", type=Path, help="the sweep's YAML config")
    r.add_argument("--out", type=Path, required=True, help="the sweep folder")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
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
    from ..sweeps.store import DB_NAME

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    if creating and folder.is_dir() and any(folder.iterdir()):
        if not (folder / DB_NAME).exists():
            raise UsageError(f"--out {folder} is a non-empty folder that is not a sweep folder")
    if not creating and not (folder / DB_NAME).exists():
        raise UsageError(f"{folder} is not a sweep folder (no {DB_NAME})")


def _run(args: argparse.Namespace) -> int:
    from ..sweeps import load, run_sweep

    config = load(args.config)
    _check_folder(args.out, creating=True)
    with _executor(args.workers, args.scheduler) as executor:  # a bad address: no folder
        args.out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.config, args.out / CONFIG_COPY)
        fits = config.fits()
        listed = [{"key": f.key, "problem": f.problem.to_dict(), "method": f.method.to_dict()}
                  for f in fits]  # fmt: skip
        (args.out / "fits.json").write_text(json.dumps(listed, indent=1) + "\n")
        try:
            counts = run_sweep(config, args.out, executor=executor, progress=not args.quiet)
        except Interrupted as exc:
            exc.kept = (f"every finished task is stored in {args.out}; run the same command "
                        "again to continue")  # fmt: skip
            raise
    print(_line(len(fits), counts, args.out))
    return 0


@contextmanager
def _executor(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """None (in this process), or a Dask executor on local workers or a running cluster."""
    if workers is None and scheduler is None:
        yield None
        return
    from ..runtime import tune_process
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
    store = Store(args.folder)
    try:
        print(_line(len(keys), store.counts(keys), args.folder))
    finally:
        store.close()
    return 0


def _export(args: argparse.Namespace) -> int:
    from ..sweeps.store import write_csv, write_parquet

    rows = _rows(args.folder)
    out = args.folder / f"results.{args.format}"
    (write_parquet if args.format == "parquet" else write_csv)(rows, out)
    print(f"{len(rows)} rows -> {out}")
    return 0


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
    """Every stored row of a sweep folder (UsageError when it is not one)."""
    from ..sweeps import Store

    _check_folder(folder, creating=False)
    store = Store(folder)
    try:
        return store.rows()
    finally:
        store.close()


def _line(total: int, counts: dict[str, int], folder: Path) -> str:
    done, failed = counts.get("done", 0), counts.get("failed", 0)
    return f"{done} done, {failed} failed, {total - done - failed} to do of {total} -> {folder}"
