"""Sweep throughput: a sweep of two-layer fits over m and seeds, run the way tasks run it.

Three sides, each in a fresh process (:func:`bench.harness.isolated`), on the same fits
(p-smooth signals of length n, Theorem 2's sizes: k = 256 channels, plain GD with the
default 1/L step, the default convergence rule):

* ``per-m-frozen``: one batched fit per m, stopped members kept in the batch at lr 0
  (how sweeps ran before: one task per m, the slowest member setting everyone's cost);
* ``per-m-compacted``: one batched fit per m, stopped members dropped from the batch;
* ``packed-compacted``: every fit in one batch across m (rows zero-padded to the largest
  m), stopped members dropped.

Each row reports wall seconds, fits per second, and two machine-independent counts:
``member_iterations`` (the rows the passes computed: the logged compute-batch sizes
integrated over iterations, padded rows of a packed batch not counted) and
``needed_iterations`` (the sum of the members' own stop iterations, what an ideal batch
computes). Run from the repository root::

    python -m bench.sweep_throughput [--count 256] [--max-iters 3000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

from untrained_cs.methods import GeneratorFit
from untrained_cs.pipeline import Record, run_batch
from untrained_cs.problems import CSMeasurement, ProblemSpec, SmoothSignal, build
from untrained_cs.runtime import tune_process

from .harness import isolated

#: Theorem 2's measurement counts (experiments/theorem2.py DEFAULTS)
MS = (4, 8, 12, 16, 24, 32, 48)
SIDES = {
    "per-m-frozen": (False, False),
    "per-m-compacted": (False, True),
    "packed-compacted": (True, True),
}


def _computed(record: Record) -> float:
    """Member-iterations the passes of a record's batch computed, from its history: the
    size logged at a row is the compute batch since the row before (it shrinks only
    right after a logged iteration)."""
    h = record.history
    assert h is not None
    its, sizes = h["iteration"], h["compute_batch"]
    return float(sizes[0] + (sizes[1:] * np.diff(its)).sum())


def sweep_side(
    packed: bool,
    compact: bool,
    count: int = 256,
    n: int = 64,
    p: int = 5,
    channels: int = 256,
    max_iters: int = 3000,
    device: str = "cpu",
) -> dict[str, Any]:
    """Run ``count`` fits (m cycling over :data:`MS`, seed b) as one batch or one per m."""
    tune_process()
    specs = [ProblemSpec(SmoothSignal(n, p), CSMeasurement(m=MS[b % len(MS)]), seed=b)
             for b in range(count)]  # fmt: skip
    problems = [build(s) for s in specs]
    method = GeneratorFit("two-layer", channels, optimizer="gd", max_iters=max_iters,
                          stop="converge")  # fmt: skip
    groups = [problems] if packed else [[q for q in problems if q.m == m] for m in MS]
    start = time.perf_counter()
    computed, records = 0.0, []
    for group in groups:
        if not group:
            continue
        out = run_batch(group, method, device=device, compact=compact)
        computed += _computed(out[0])
        records += out
    seconds = time.perf_counter() - start
    return {
        "fits": len(records),
        "seconds": seconds,
        "fits_per_second": len(records) / seconds,
        "member_iterations": computed,
        "needed_iterations": float(sum(r.metrics["iterations"] for r in records)),
        "mean_rel_error": float(np.mean([r.metrics["rel_error"] for r in records])),
        "stop_reasons": sorted({r.metrics["stop_reason"] for r in records}),
    }


def sweep_throughput(count: int = 256, max_iters: int = 3000, device: str = "cpu") -> list[dict]:
    """One row per side (see module docstring), each side in a fresh process."""
    rows = []
    for name, (packed, compact) in SIDES.items():
        side = isolated(sweep_side, packed=packed, compact=compact, count=count,
                        max_iters=max_iters, device=device)  # fmt: skip
        rows.append({
            "case": f"sweep-throughput-{name}",
            "device": device,
            "fits": side["fits"],
            "seconds": round(side["seconds"], 2),
            "fits_per_second": round(side["fits_per_second"], 3),
            "member_iterations": int(side["member_iterations"]),
            "needed_iterations": int(side["needed_iterations"]),
            "computed_per_needed": round(side["member_iterations"] / side["needed_iterations"], 3),
            "mean_rel_error": round(side["mean_rel_error"], 5),
            "stop_reasons": side["stop_reasons"],
            "peak_mem_mb": round(side["peak_mem_mb"], 1),
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep_throughput", description=__doc__)
    parser.add_argument("--count", type=int, default=256, help="fits in the sweep")
    parser.add_argument("--max-iters", type=int, default=3000, help="GD iteration cap")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    args = parser.parse_args(argv)
    for row in sweep_throughput(args.count, args.max_iters, args.device):
        print(json.dumps(row) if args.json else " | ".join(f"{k}={v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
