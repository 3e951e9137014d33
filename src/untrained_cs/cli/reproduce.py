"""`untrained-cs reproduce EXPERIMENT... --scale S`: the paper's figures and claims, checked.

Writes one folder: per experiment its figures and ``data.json``, and ``report.md`` (figures,
settings, claims tables) and ``claims.json`` over all of them. The paper's scale is a GPU
job; on a CPU it is refused with the probed time and memory unless ``--force``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from .arguments import add_output_arguments, add_threads_argument, integer
from .common import UsageError, staged_run
from .flags import Field, add_settings_arguments, changes_from_args, setting_fields

#: on a CPU, the paper's scale is refused when an experiment is expected to pass this
CPU_LIMIT_S = 3600.0
#: the settings field every experiment may declare for the paper's text vs the authors' code;
#: `reproduce` offers one flag for it, passed to each experiment that has it
SHARED = "setting"
SETTINGS = ("text", "code")


def add_parser(sub: Any) -> None:
    from ..experiments.claims import SCALES
    from ..experiments.registry import NAMES, experiment

    p = sub.add_parser(
        "reproduce",
        help="the paper's figures in their own settings, with a claims report",
        description="Run the paper's experiments (" + ", ".join(NAMES) + ", or all) and "
        "write report.md and claims.json: per claim the paper's words, its number, the "
        "measured number and a verdict.",
    )
    p.add_argument("experiments", nargs="+", metavar="EXPERIMENT",
                   choices=[*NAMES, "all"], help="experiments to run, or all")  # fmt: skip
    p.add_argument(
        "--scale", choices=SCALES, default="cpu",
        help="smoke: seconds each (tests); cpu: all in minutes on a laptop CPU, every regime "
        "kept; paper: the paper's sizes (a GPU job). Default cpu",
    )  # fmt: skip
    p.add_argument("--force", action="store_true",
                   help="run the paper's scale even where it is refused (a CPU)")  # fmt: skip
    p.add_argument(
        "--setting", choices=SETTINGS, default=None,
        help="where the paper's text and the authors' final code differ: code (the published "
        "figures' code; each experiment's default) or text (the paper's words), for every "
        "experiment that declares a 'setting'",
    )  # fmt: skip
    for name, fields in reproduce_fields().items():
        add_settings_arguments(p, experiment(name).settings_type, fields, _dest(name), unset=True,
                               prefix=f"{name}: ")  # fmt: skip
    p.add_argument("--seed", type=integer(0, 2**63 - 1), default=0, help="root seed")
    add_threads_argument(p)
    add_output_arguments(p, "the claims")
    p.set_defaults(run=run)


def reproduce_fields() -> dict[str, list[Field]]:
    """Per experiment, the settings fields `reproduce` offers flags for (declared so), less
    the shared ``setting`` (one ``--setting`` flag for all)."""
    from ..experiments.registry import NAMES, experiment

    found = {n: [f for f in setting_fields(experiment(n).settings_type)
                 if f.metadata["reproduce"] and f.name != SHARED]
             for n in NAMES}  # fmt: skip
    return {n: fields for n, fields in found.items() if fields}


def _shared_changes(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """``--setting``'s value for experiment ``name`` when its settings declare the field."""
    from ..experiments.registry import experiment

    value = getattr(args, SHARED, None)
    fields = {f.name for f in setting_fields(experiment(name).settings_type)}
    return {SHARED: value} if value is not None and SHARED in fields else {}


def _dest(name: str) -> Any:
    """Where the flag of experiment ``name``'s field lands in the parsed arguments."""
    return lambda f: f"{name}:{f.name}"


def run(args: argparse.Namespace) -> int:
    from ..experiments.registry import expand, experiment
    from ..experiments.report import run_one, write_report
    from ..writer import to_json

    names = expand(args.experiments)
    offered = reproduce_fields()
    # every experiment's settings built (and so checked) before any work
    changes = {n: {**changes_from_args(offered.get(n, []), args, _dest(n)),
                   **_shared_changes(n, args)} for n in names}  # fmt: skip
    settings = {n: experiment(n).settings(args.scale, changes[n]) for n in names}
    _check_scale(settings, args.scale, args.force)
    for name in names:
        if args.setting is not None and SHARED not in changes[name]:
            sys.stderr.write(f"{name}: one setting (it declares no text/code difference); "
                             f"--setting {args.setting} leaves it as it is\n")  # fmt: skip
    start = time.perf_counter()
    sections = []
    with staged_run(args.out, f"reproduce-{args.scale}", args.overwrite) as folder:
        for i, name in enumerate(names):
            if not args.quiet:
                sys.stderr.write(f"[{i + 1}/{len(names)}] {name} ({args.scale}) ...\n")
            section = run_one(name, settings[name], folder.staging, args.seed)
            sections.append(section)
            if not args.quiet:
                sys.stderr.write(f"    {name}: {_tally(section.claims)}, {section.seconds:.0f} s\n")
        write_report(folder.staging, sections, args.scale, time.perf_counter() - start)
    claims = [c for s in sections for c in s.claims]
    if args.json:
        print(to_json({s.name: [c.to_dict() for c in s.claims] for s in sections}))
    else:
        print(f"{len(sections)} experiments: {_tally(claims)}; "
              f"{time.perf_counter() - start:.0f} s -> {folder.out}")  # fmt: skip
    return 0


def _tally(claims: list) -> str:
    verdicts = [c.verdict for c in claims]
    return (f"{verdicts.count('holds')} hold, {verdicts.count('does not hold')} do not hold, "
            f"{verdicts.count('not comparable')} not comparable")  # fmt: skip


def _check_scale(settings: dict[str, Any], scale: str, force: bool) -> None:
    """Refuse the paper's scale on a CPU (before any work), naming the probed cost."""
    import torch

    if scale != "paper" or force or torch.cuda.is_available():
        return
    from ..experiments.registry import experiment
    from ..resources import GB, free_memory

    heavy = []
    for name, values in settings.items():
        probe = experiment(name).cost
        c = None if probe is None else probe(values)
        if c is not None and (c.seconds > CPU_LIMIT_S or c.bytes > free_memory()):
            heavy.append(f"{name} ~{_duration(c.seconds)}, {c.bytes / GB:.1f} GB")
    if heavy:
        raise UsageError(
            "--scale paper is a GPU job and no GPU is available: estimated on this CPU "
            + "; ".join(heavy)
            + " (timed probes). Run it on a GPU, use --scale cpu, or pass "
            "--force"
        )


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"
