"""`python -m bench.schedules [--images …] [--ratios …] [--iters N] [--only NAME …]
[--holdout]`: the schedule search, and the other levers of a fit measured on it.

For each image and ratio (64², 5 × 64 deep decoder, dense Gaussian m = ratio·n, seed 0),
runs the reference recipe once (constant Adam 0.005, 4000 iterations, `bench/reference.py`)
and then every variant of :data:`VARIANTS` as members of a single batched fit for
``--iters`` iterations: the members of one initialisation share it, so only the rates
differ. A variant is a schedule of Adam's rate, optionally a different schedule for the
head and the norms' affine terms than for the hidden 1x1 mixings, a scale on the hidden
mixings' initial weights, and a number of initialisations whose mean output is scored
(an ensemble). Prints one JSON row per problem and variant: the first logged iteration at
which the PSNR reaches the reference's final PSNR, the PSNR at 500 and 1000 iterations, the
final and best PSNR, and the relative residual ||AG − y|| / ||y|| at the end; the same for
the running average of the outputs (``averaged_*``: an exponential average with decay
:data:`AVERAGE_DECAY`, what returning an averaged iterate would give). Iterations, not
seconds, are compared here (the batch shares its time); `python -m bench images` times the
pick. The problems are the library's (:func:`bench.sides.image_problem`); the variants
(a schedule per member, rates by parameter group, initial scales, running averages) are
levers the library's fit does not offer, so the search steps them in its own batched Adam
loop. ``--holdout`` adds a row per problem for the default fit stopped by the hold-out rule
on the noiseless data (10 % of y left out, the iterate of the lowest held-out residual).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

import torch

from untrained_cs.fit import Schedule as FitSchedule
from untrained_cs.fit.optim import Adam
from untrained_cs.generators import DeepDecoder
from untrained_cs.runtime import tune_process

from .reference import ReferenceFit
from .sides import image_problem, project_image_fit

Schedule = Callable[[int], float]


def schedule(lr: float, warmup: int = 0, half_life: int = 0, floor: float = 0.0) -> Schedule:
    """Adam's rate at each iteration: ``lr`` times the fit schedule's time factor, and
    after the warm-up never below ``floor``."""
    timed = FitSchedule(warmup=warmup, half_life=half_life)

    def rate(it: int) -> float:
        value = lr * timed.lr_factor(it)
        return value if it < warmup else max(value, floor)

    return rate


def annealed_after(lr: float, start: int, half_life: int) -> Schedule:
    """Constant ``lr`` until iteration ``start``, then halved every ``half_life``."""
    return lambda it: lr * 0.5 ** (max(it - start, 0) // half_life)


@dataclass(frozen=True)
class Variant:
    """One candidate: the rates, the initialisation, the number of initialisations."""

    hidden: Schedule  # Adam's rate of the hidden 1x1 mixings C_i
    rest: Schedule | None = None  # of the head and the norms' affine terms (default: hidden)
    init_scale: float = 1.0  # the hidden mixings' initial weights times this
    seeds: int = 1  # > 1: that many initialisations (seeds 0, 1, …), scored on their mean


DEFAULT = schedule(0.05, 100, 300)
#: the candidates in bench/RESULTS.md (the schedule search, then the other levers)
VARIANTS: dict[str, Variant] = {
    "constant 0.005": Variant(schedule(0.005)),
    "constant 0.02": Variant(schedule(0.02)),
    "constant 0.05": Variant(schedule(0.05)),
    "warm-up 100, 0.05": Variant(schedule(0.05, 100)),
    "warm-up 100, 0.05, halve / 300": Variant(DEFAULT),
    "warm-up 100, 0.05, halve / 200": Variant(schedule(0.05, 100, 200)),
    "warm-up 100, 0.1, halve / 200": Variant(schedule(0.1, 100, 200)),
    "warm-up 100, 0.03, halve / 300": Variant(schedule(0.03, 100, 300)),
    "warm-up 100, 0.03, halve / 200": Variant(schedule(0.03, 100, 200)),
    "warm-up 100, 0.02, halve / 300": Variant(schedule(0.02, 100, 300)),
    "warm-up 100, 0.01, halve / 600": Variant(schedule(0.01, 100, 600)),
    "warm-up 100, 0.05, halve / 300, floor 0.01": Variant(schedule(0.05, 100, 300, 0.01)),
    "constant 0.005, halve / 300 from 1500": Variant(annealed_after(0.005, 1500, 300)),
    "hidden 0.01, rest 0.05 (warm-up 100, halve / 300)": Variant(schedule(0.01, 100, 300), DEFAULT),
    "hidden 0.05, rest 0.01 (warm-up 100, halve / 300)": Variant(DEFAULT, schedule(0.01, 100, 300)),
    "hidden init x5 (default schedule)": Variant(DEFAULT, init_scale=5.0),
    "hidden init x0.2 (default schedule)": Variant(DEFAULT, init_scale=0.2),
    "ensemble of 4 (default schedule)": Variant(DEFAULT, seeds=4),
}
SEARCH = list(VARIANTS)[:10]  # the schedule search (the rest: the other levers)
LOGGED = (1, 2, 5, 10)  # besides every 25th iteration
AVERAGE_DECAY = 0.99  # the running average's decay per iteration (a window of ~100)


def trajectories(image: str, ratio: float, names: list[str], iters: int) -> dict[str, dict]:
    """PSNR of each variant's output (an ensemble's: of its members' mean output), of its
    running average, and its relative residual (an ensemble's: from its members' mean
    loss), every 25 iterations."""
    problem = image_problem(image, 64, ratio, seed=0)
    truth, op, y = problem.truth, problem.operator, problem.y
    variants = [VARIANTS[n] for n in names]
    group_of = torch.tensor([g for g, v in enumerate(variants) for _ in range(v.seeds)])
    members = torch.bincount(group_of).float()  # per variant
    gen = DeepDecoder(tuple(truth.shape), channels=64, layers=5,
                      seed=[s for v in variants for s in range(v.seeds)])  # fmt: skip
    with torch.no_grad():
        scale = torch.tensor([v.init_scale for v in variants])[group_of]
        for w in gen.weights:
            w.mul_(scale.reshape(-1, 1, 1))
    hidden = list(gen.weights)
    rest = [p for name, p in gen.named_parameters() if not name.startswith("weights.")]
    opts = (Adam(hidden, torch.zeros(len(group_of))), Adam(rest, torch.zeros(len(group_of))))
    ys = y.expand(len(group_of), *y.shape[1:])
    half_y2 = 0.5 * float(y.square().sum())
    logs: dict[str, dict[str, list]] = {
        n: {"iteration": [], "psnr": [], "averaged_psnr": [], "rel_residual": []} for n in names
    }

    def group_mean(values: torch.Tensor) -> torch.Tensor:
        total = torch.zeros(len(variants), *values.shape[1:]).index_add_(0, group_of, values)
        return total / members.reshape(-1, *[1] * (values.dim() - 1))

    def psnr(out: torch.Tensor) -> list[float]:
        mse = (group_mean(out) - truth).square().flatten(1).mean(1)
        return [-10 * math.log10(e) for e in mse.tolist()]

    average: torch.Tensor | None = None
    for it in range(iters + 1):
        opts[0].lr = torch.tensor([v.hidden(it) for v in variants])[group_of]
        opts[1].lr = torch.tensor([(v.rest or v.hidden)(it) for v in variants])[group_of]
        out = gen()
        loss = 0.5 * (op.matvec(out) - ys).square().flatten(1).sum(1)
        with torch.no_grad():
            o = out.detach()
            average = o.clone() if average is None else average.lerp_(o, 1 - AVERAGE_DECAY)
            if it % 25 == 0 or it in LOGGED:
                rows = zip(
                    names,
                    psnr(o),
                    psnr(average),
                    (group_mean(loss.detach()) / half_y2).sqrt().tolist(),
                    strict=True,
                )
                for n, raw, averaged, rel in rows:
                    logs[n]["iteration"].append(it)
                    logs[n]["psnr"].append(raw)
                    logs[n]["averaged_psnr"].append(averaged)
                    logs[n]["rel_residual"].append(rel)
        if it < iters:
            grads = torch.autograd.grad(loss.sum(), hidden + rest)
            opts[0].step(list(grads[: len(hidden)]))
            opts[1].step(list(grads[len(hidden) :]))
    return logs


def _summary(its: list[int], ps: list[float], target: float, prefix: str = "") -> dict:
    hit = next((i for i, p in zip(its, ps, strict=True) if p >= target), None)
    best = max(range(len(ps)), key=ps.__getitem__)
    return {
        f"{prefix}iterations_to_reference_psnr": hit,
        f"{prefix}psnr_500": round(ps[its.index(500)], 2) if 500 in its else None,
        f"{prefix}psnr_1000": round(ps[its.index(1000)], 2) if 1000 in its else None,
        f"{prefix}final_psnr": round(ps[-1], 2),
        f"{prefix}best_psnr": round(ps[best], 2),
        f"{prefix}best_iteration": its[best],
    }


def search_rows(
    image: str, ratio: float, names: list[str], iters: int, holdout: bool = False
) -> list[dict]:
    problem = image_problem(image, 64, ratio, seed=0)
    truth, op = problem.truth, problem.operator
    ref = ReferenceFit(truth, op.matrix[0], 64, 5, seed=0).run(4000)
    target = -10 * math.log10(ref.mse[-1])
    head = {"image": image, "ratio": ratio, "reference_psnr": round(target, 2)}
    rows = []
    for name, log in (trajectories(image, ratio, names, iters) if names else {}).items():
        its = log["iteration"]
        rows.append({
            **head, "schedule": name,
            **_summary(its, log["psnr"], target),
            **_summary(its, log["averaged_psnr"], target, "averaged_"),
            "final_rel_residual": round(log["rel_residual"][-1], 5),
        })  # fmt: skip
    if holdout:
        fit = project_image_fit(image, 64, ratio, 64, 5, 10000, method={"stop": "holdout"})
        rows.append({
            **head, "schedule": "defaults, hold-out rule on the noiseless data",
            "final_psnr": round(fit["psnr"], 2), "iterations": fit["iterations"],
            "stop_reason": fit["stop_reason"], "seconds": round(fit["seconds"], 1),
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.schedules", description=__doc__)
    parser.add_argument("--images", nargs="+", default=["camera", "grass", "brick", "moon"])
    parser.add_argument("--ratios", nargs="+", type=float, default=[0.25, 0.1])
    parser.add_argument("--iters", type=int, default=1500)
    parser.add_argument("--only", nargs="*", default=None, help="variant names to run")
    parser.add_argument("--levers", action="store_true", help="the levers beyond the search")
    parser.add_argument("--holdout", action="store_true", help="add the noiseless hold-out fit")
    args = parser.parse_args(argv)
    names = (
        args.only
        if args.only is not None
        else list(VARIANTS)[len(SEARCH) :]
        if args.levers
        else SEARCH
    )
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        sys.stderr.write(f"python -m bench.schedules: error: unknown schedule(s) {unknown}\n")
        return 2
    tune_process()
    for image in args.images:
        for ratio in args.ratios:
            for row in search_rows(image, ratio, names, args.iters, args.holdout):
                print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
