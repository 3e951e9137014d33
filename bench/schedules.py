"""`python -m bench.schedules [--images …] [--ratios …] [--iters N] [--only NAME …]`: the
schedule search.

For each image and ratio (64², 5 × 64 deep decoder, dense Gaussian m = ratio·n, seed 0),
runs the reference recipe once (constant Adam 0.005, 4000 iterations, `bench/reference.py`)
and then every schedule of :data:`SCHEDULES` as one member of a single batched fit (the
members share the initialisation, so only the schedule differs) for ``--iters`` iterations.
Prints one JSON row per problem and schedule: the first logged iteration at which the PSNR
reaches the reference's final PSNR, the PSNR at 500 and 1000 iterations, the final and best
PSNR, and the relative residual ||AG − y|| / ||y|| at the end. Iterations, not seconds,
are compared here (the batch shares its time); `python -m bench images` times the pick.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable

import torch

from untrained_cs.cli.speed import tune_process
from untrained_cs.fit import StopRule
from untrained_cs.fit.optim import Adam
from untrained_cs.generators import DeepDecoder

from .reference import run_reference
from .sides import image_problem

Schedule = Callable[[int], float]


def schedule(lr: float, warmup: int = 0, half_life: int = 0) -> Schedule:
    """Adam's rate at each iteration: ``lr`` times the stopping rule's time factor."""
    rule = StopRule(warmup=warmup, half_life=half_life)
    return lambda it: lr * rule.lr_factor(it)


#: the candidates of the search in bench/RESULTS.md (name: peak lr, warm-up, half-life)
SCHEDULES: dict[str, Schedule] = {
    "constant 0.005": schedule(0.005),
    "constant 0.02": schedule(0.02),
    "constant 0.05": schedule(0.05),
    "warm-up 100, 0.05": schedule(0.05, 100),
    "warm-up 100, 0.05, halve / 300": schedule(0.05, 100, 300),
    "warm-up 100, 0.05, halve / 200": schedule(0.05, 100, 200),
    "warm-up 100, 0.1, halve / 200": schedule(0.1, 100, 200),
    "warm-up 100, 0.03, halve / 300": schedule(0.03, 100, 300),
    "warm-up 100, 0.03, halve / 200": schedule(0.03, 100, 200),
    "warm-up 100, 0.02, halve / 300": schedule(0.02, 100, 300),
}
LOGGED = (1, 2, 5, 10)  # besides every 25th iteration


def trajectories(image: str, ratio: float, names: list[str], iters: int) -> dict[str, dict]:
    """PSNR and relative residual of each schedule's member, every 25 iterations."""
    truth, op, y = image_problem(image, 64, ratio, seed=0)
    gen = DeepDecoder(tuple(truth.shape), channels=64, layers=5, seed=[0] * len(names))
    params = [p for p in gen.parameters() if p.requires_grad]
    opt = Adam(params, torch.zeros(len(names)))
    ys = y.expand(len(names), *y.shape[1:])
    half_y2 = 0.5 * float(y.square().sum())
    logs: dict[str, dict] = {n: {"iteration": [], "psnr": [], "rel_residual": []} for n in names}
    for it in range(iters + 1):
        opt.lr = torch.tensor([SCHEDULES[n](it) for n in names])
        out = gen()
        loss = 0.5 * (op.matvec(out) - ys).square().flatten(1).sum(1)
        if it % 25 == 0 or it in LOGGED:
            mse = (out.detach() - truth[None]).square().flatten(1).mean(1)
            for b, n in enumerate(names):
                logs[n]["iteration"].append(it)
                logs[n]["psnr"].append(-10 * math.log10(float(mse[b])))
                logs[n]["rel_residual"].append(math.sqrt(float(loss[b].detach()) / half_y2))
        if it < iters:
            opt.step(list(torch.autograd.grad(loss.sum(), params)))
    return logs


def search_rows(image: str, ratio: float, names: list[str], iters: int) -> list[dict]:
    truth, op, _ = image_problem(image, 64, ratio, seed=0)
    ref = run_reference(truth, op.matrix[0], 64, 5, 4000, seed=0)
    target = -10 * math.log10(ref.mse[-1])
    rows = []
    for name, log in trajectories(image, ratio, names, iters).items():
        its, ps = log["iteration"], log["psnr"]
        hit = next((i for i, p in zip(its, ps, strict=True) if p >= target), None)
        best = max(range(len(ps)), key=ps.__getitem__)
        rows.append({
            "image": image, "ratio": ratio, "schedule": name,
            "reference_psnr": round(target, 2),
            "iterations_to_reference_psnr": hit,
            "psnr_500": round(ps[its.index(500)], 2) if 500 in its else None,
            "psnr_1000": round(ps[its.index(1000)], 2) if 1000 in its else None,
            "final_psnr": round(ps[-1], 2), "best_psnr": round(ps[best], 2),
            "best_iteration": its[best], "final_rel_residual": round(log["rel_residual"][-1], 5),
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.schedules", description=__doc__)
    parser.add_argument("--images", nargs="+", default=["camera", "grass", "brick", "moon"])
    parser.add_argument("--ratios", nargs="+", type=float, default=[0.25, 0.1])
    parser.add_argument("--iters", type=int, default=1500)
    parser.add_argument("--only", nargs="+", default=None, help="schedule names to run")
    args = parser.parse_args(argv)
    names = args.only or list(SCHEDULES)
    unknown = [n for n in names if n not in SCHEDULES]
    if unknown:
        sys.stderr.write(f"python -m bench.schedules: error: unknown schedule(s) {unknown}\n")
        return 2
    tune_process()
    for image in args.images:
        for ratio in args.ratios:
            for row in search_rows(image, ratio, names, args.iters):
                print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
