"""`python -m bench [CASE ...] [--json] [--list]`: run benchmark cases, print the ratios.

With no case it runs every CPU case (and the GPU cases when CUDA is present). Run from the
repository root. Each case prints one JSON object per row with ``--json``, else a table.
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

from .cases import CPU_CASES, GPU_CASES, run_case

COLUMNS = (
    "case",
    "device",
    "reference_ms_per_iter",
    "project_ms_per_iter",
    "speedup_per_iter",
    "time_to_target_speedup",
    "peak_mem_mb",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("cases", nargs="*", help="case names (see --list)")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    parser.add_argument("--list", action="store_true", help="name the cases and exit")
    args = parser.parse_args(argv)
    known = {**CPU_CASES, **GPU_CASES}
    if args.list:
        for name, fn in known.items():
            doc = (fn.__doc__ or "GPU variant").strip().splitlines()[0]
            print(f"{name:26s} {doc}")
        return 0
    names = args.cases or [*CPU_CASES, *(GPU_CASES if torch.cuda.is_available() else [])]
    unknown = [n for n in names if n not in known]
    if unknown:
        sys.stderr.write(f"python -m bench: error: unknown case(s) {unknown}; see --list\n")
        return 2
    if not args.json:
        print(" | ".join(COLUMNS))
    for name in names:
        for row in run_case(name):
            if args.json:
                print(json.dumps(row), flush=True)
            else:
                print(" | ".join(str(row.get(c, "")) for c in COLUMNS), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
