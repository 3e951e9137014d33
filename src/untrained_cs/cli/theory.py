"""`untrained-cs theory TOOL`: the paper's mechanism, one tool per figure or theorem curve.

The tools are those of :mod:`untrained_cs.experiments.registry` (each a view of one
experiment); a tool's flags are its settings dataclass's fields (:mod:`.flags`), plus
``--seed`` and the output options. Each writes ``<tool>.png`` and ``metrics.json`` (the
numbers) into a run folder and prints one summary line (or the JSON with ``--json``).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..experiments.registry import TOOLS, tool
from ..resources import check_memory
from ..writer import write_json
from .arguments import add_output_arguments, add_threads_argument, integer
from .common import report, staged_run
from .flags import add_settings_arguments, settings_from_args


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "theory",
        help="the paper's theory as tools (Figures 2-4, Theorems 1-3)",
        description="Trigonometric basis, kernel weights, Jacobian spectra, the "
        "linear-generator theorem and the two-layer theorem; each writes a PNG and "
        "metrics.json.",
    )
    tools = p.add_subparsers(dest="tool", metavar="TOOL", required=True)
    for name in TOOLS:
        t = tool(name)
        q = tools.add_parser(name, help=t.help)
        add_settings_arguments(q, t.settings_type)
        q.add_argument("--seed", type=integer(0, 2**63 - 1), default=0,
                       help="base seed (default %(default)s)")  # fmt: skip
        add_threads_argument(q)
        add_output_arguments(q, "the numbers")
        q.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    t = tool(args.tool)
    settings = settings_from_args(t.settings_type, args)
    check_memory(t.memory(settings), "choose smaller sizes")
    with staged_run(args.out, f"theory-{args.tool}", args.overwrite) as folder:
        data = t.data(settings, args.seed)
        line = t.summary(settings, data)
        data = {"tool": args.tool, **data}
        t.plot(folder.staging / f"{args.tool}.png", data)
        write_json(folder.staging / "metrics.json", data)
    report(data, folder.out, args.json, line)
    return 0
