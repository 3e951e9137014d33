"""Sweep engine throughput: the same grid as a loop of single fits, as an in-process sweep,
and on a 2-worker Dask LocalCluster; fits per minute and the ratios against the loop.

Two grids (:data:`GRIDS`): 256 two-layer fits (p-smooth signals, n = 64, four m, 64 seeds,
plain GD) and 64 deep decoders at 32² (camera, m = n/4, 64 seeds, Adam, an iteration cap
so that the loop side stays minutes). The loop runs :func:`untrained_cs.pipeline.run` on
every fit; the sweeps run :func:`untrained_cs.sweeps.run_sweep` into a fresh folder (the
store, the planner, batched tasks with stopped members dropped and queued fits taking
their places). Each side runs in a fresh process. This VM's speed drifts by tens of
percent within minutes, so ``--repeat R`` runs R rounds of the sides in turn (loop,
in-process, cluster, loop, …) and reports each side's median seconds (and the range), the
ratios taken between medians. Run from the repository root::

    python -m bench.sweep_engine [--grid two-layer|deep-decoder] [--batch N] [--repeat R] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from .harness import isolated

GRIDS: dict[str, dict[str, Any]] = {
    "two-layer": {
        "base": {
            "problem": {"signal": {"kind": "smooth", "n": 64, "p": 5},
                        "measurement": {"kind": "cs", "operator": "gaussian", "m": 8}},
            "method": {"kind": "generator", "generator": "two-layer", "optimizer": "gd",
                       "max_iters": 3000},
        },
        "grid": {"measurement.m": [8, 16, 24, 32], "seed": list(range(64))},
        "batch": 64,
    },
    "deep-decoder": {
        "base": {
            "problem": {"signal": {"kind": "image", "image": "camera", "size": 32},
                        "measurement": {"kind": "cs", "operator": "gaussian", "ratio": 0.25}},
            "method": {"kind": "generator", "generator": "deep-decoder", "channels": 64,
                       "layers": 5, "max_iters": 500},
        },
        "grid": {"seed": list(range(64))},
        "batch": 16,
    },
}  # fmt: skip
SIDES = ("loop", "in-process", "local-cluster-2")


def run_side(grid: str, side: str, batch: int | None = None) -> dict[str, Any]:
    """Time one side on one grid (called in a fresh process)."""
    from untrained_cs.pipeline import run
    from untrained_cs.problems import build
    from untrained_cs.runtime import tune_process
    from untrained_cs.sweeps import Store, parse, run_sweep

    tune_process()
    config = parse({**GRIDS[grid], **({"batch": batch} if batch else {})}, grid)
    fits = config.fits()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        if side == "loop":
            errors = [run(build(f.problem), f.method, device="cpu").metrics["rel_error"]
                      for f in fits]  # fmt: skip
        else:
            executor = _cluster(2) if side.startswith("local-cluster") else None
            with executor or nullcontext() as ex:
                counts = run_sweep(config, Path(tmp), executor=ex, progress=False)
            assert counts.get("done") == len(fits), counts
            store = Store(Path(tmp))
            errors = [r["rel_error"] for r in store.rows()]
            store.close()
        seconds = time.perf_counter() - start
    return {"fits": len(fits), "seconds": seconds,
            "mean_rel_error": sum(errors) / len(errors)}  # fmt: skip


def _cluster(workers: int):
    from untrained_cs.runtime import tune_process
    from untrained_cs.sweeps.distributed import dask_executor

    return dask_executor(workers, setup=tune_process)


def engine_rows(
    grids: list[str], batch: int | None = None, repeat: int = 1
) -> list[dict[str, Any]]:
    """One row per (grid, side), with fits per minute and the speed-up over the loop (the
    median seconds of ``repeat`` interleaved rounds)."""
    rows = []
    for grid in grids:
        runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
        for _ in range(repeat):
            for side in SIDES:
                runs[side].append(isolated(run_side, grid=grid, side=side, batch=batch))
        loop_seconds = statistics.median(r["seconds"] for r in runs["loop"])
        for side in SIDES:
            seconds = [r["seconds"] for r in runs[side]]
            median, last = statistics.median(seconds), runs[side][-1]
            rows.append({
                "grid": grid, "side": side, "batch": batch or GRIDS[grid]["batch"],
                "fits": last["fits"],
                "seconds": round(median, 1),
                "range_s": [round(min(seconds), 1), round(max(seconds), 1)],
                "fits_per_minute": round(60 * last["fits"] / median, 1),
                "vs_loop": round(loop_seconds / median, 2),
                "mean_rel_error": round(last["mean_rel_error"], 5),
                "peak_mem_mb": round(max(r["peak_mem_mb"] for r in runs[side]), 1),
            })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep_engine", description=__doc__)
    parser.add_argument("--grid", choices=list(GRIDS), action="append", help="default: both")
    parser.add_argument("--batch", type=int, default=None,
                        help="members computed at once (default: the grid's)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds (medians)")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    for row in engine_rows(args.grid or list(GRIDS), args.batch, args.repeat):
        print(json.dumps(row) if args.json else " | ".join(f"{k}={v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
