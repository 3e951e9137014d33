"""The flow every reconstructing command shares: stage the folder, fit, baselines, write.

``reconstruct`` and ``mri`` turn their options into a problem spec and a method and call
:func:`solve`; ``resume`` calls it again with the saved spec, method and fit state. The
folder's ``resume.json`` records what is needed to continue an interrupted run.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..fit import FitInterrupted
from ..methods import GeneratorFit, Solver
from ..pipeline import FitControl, resolve, run
from ..problems import Problem, ProblemSpec, build, derive_seed
from ..record import Record
from ..runfolder import CHECKPOINT, RESUME, RESUME_FORMAT
from ..version import package_version
from ..writer import write_record
from .arguments import save_formats
from .common import Interrupted, Progress, keeping, options, report, staged_run

Summary = Callable[[dict[str, Any]], str]


def method_spec(args: argparse.Namespace) -> GeneratorFit:
    """The generator fit the shared fit options describe (unset ones: library defaults)."""
    return GeneratorFit(
        args.generator,
        args.channels,
        args.layers,
        args.optimizer,
        args.lr,
        args.max_iters,
        args.tol,
        args.loss_floor,
        args.stop,
        args.holdout_fraction,
        getattr(args, "recipe", "project"),  # resume.json of earlier versions has none
        schedule=getattr(args, "schedule", None),
        ensemble=getattr(args, "ensemble", None) or 1,
        tv_weight=getattr(args, "tv_weight", None),  # resume.json of earlier versions has none
    )


def solve(
    args: argparse.Namespace,
    command: str,
    spec: ProblemSpec,
    method: GeneratorFit,
    summary: Summary,
    title: Callable[[Problem], str],
    volume: bool = False,
) -> int:
    """Run ``method`` on ``spec`` into the run folder, with the baselines ``args`` name
    (``volume``: the problem is a volume, which ``--save nifti`` applies to)."""
    resume_from: Path | None = getattr(args, "resume_from", None)
    save = save_formats(args, volume)
    out = resume_from.with_name(resume_from.name[: -len(".partial")]) if resume_from else args.out
    with staged_run(out, command, args.overwrite, resume=resume_from is not None) as folder:
        staging = folder.staging
        if resume_from is None:
            save_resume(staging / RESUME, command, args, spec, method)
        problem = build(spec)
        if args.weight_choice is None:  # the truth picks ℓ1/TV weights when there is one
            args.weight_choice = Solver.weight_choice if problem.truth is not None else "holdout"
        record = _fit(args, problem, method, staging, resume_from)
        baselines = {
            name: run(problem, Solver(name, args.weight_choice), device=args.device)
            for name in args.baseline_names
        }
        metrics = assemble(record, baselines, args, problem)
        with keeping(metrics):
            write_record(staging, problem, record, metrics, baselines, title(problem), save)
    report(metrics, folder.out, args.json, summary(metrics))
    return 0


def _fit(
    args: argparse.Namespace,
    problem: Problem,
    method: GeneratorFit,
    staging: Path,
    resume_from: Path | None,
) -> Record:
    requests = args.stop_requests
    control = FitControl(
        should_stop=requests.requested,
        checkpoint=staging / CHECKPOINT,
        every=args.checkpoint_every,
        resume=staging / CHECKPOINT if resume_from is not None else None,
        compile=args.compile,
    )
    resolved = resolve(problem, method)
    progress = Progress(resolved.expected_iterations(), args.quiet, args.command)
    try:
        with requests.polling():
            return run(problem, method, callback=progress, device=args.device, control=control)
    except FitInterrupted as exc:
        stopped = Interrupted(requests.signum or 2)
        stopped.resume, stopped.iteration = staging, exc.state.iteration
        raise stopped from None
    finally:
        progress.close()


def assemble(
    record: Record, baselines: dict[str, Record], args: argparse.Namespace, problem: Problem
) -> dict[str, Any]:
    """metrics.json: the record's metrics, the baselines, and the full configuration."""
    choice = args.weight_choice
    return {
        **record.metrics,
        "baselines": {
            name: {
                "psnr": b.metrics["psnr"],
                "ssim": b.metrics["ssim"],
                "weight": b.extra.get("weight"),
                "weight_choice": b.extra.get("weight_choice", choice),
            }
            for name, b in baselines.items()
        },
        **problem.facts(),
        "key": record.key,
        "seeds": derived_seeds(problem.spec.seed),
        "problem": record.problem,
        "method": record.method,
        "config": {**options(args), "threads": torch.get_num_threads()},
    }


def derived_seeds(root: int) -> dict[str, int]:
    """The seeds every draw of the run used (all derived from the root seed)."""
    purposes = ("generator", "operator", "noise", "mask", "holdout")
    return {"root": root, **{p: derive_seed(root, p) for p in purposes}}


def save_resume(
    path: Path, command: str, args: argparse.Namespace, spec: ProblemSpec, method: GeneratorFit
) -> None:
    """What ``untrained-cs resume`` needs: the command, its options, spec and method."""
    record = {
        "format": RESUME_FORMAT,
        "version": package_version(),
        "command": command,
        "options": options(args),
        "threads": torch.get_num_threads(),
        "problem": spec.to_dict(),
        "method": method.to_dict(),
    }
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
