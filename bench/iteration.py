"""`python -m bench.iteration [--json]`: one iteration of the default problem, taken apart.

The default problem (camera 64², 5 × 64 deep decoder, dense Gaussian m = n/4). Times, each
as the median of ``REPEATS`` rounds of ``STEPS`` steps in this one process (warm):

- the reference recipe's iteration (`bench/reference.py`: nn.Conv2d, BatchNorm2d, Adam);
- the project's iteration (forward, loss, backward, Adam step; no checks);
- its parts: the generator's forward + backward alone, the two matrix products A x and
  Aᵀ r alone, and Adam's step alone. The floor is the sum of the parts: what the iteration
  would take if nothing else cost anything.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import torch

from untrained_cs.fit.optim import Adam
from untrained_cs.generators import DeepDecoder
from untrained_cs.runtime import tune_process

from .reference import ReferenceFit
from .sides import image_problem

STEPS, REPEATS = 100, 5


def _ms(step: Callable[[], None]) -> float:
    for _ in range(10):
        step()
    rounds = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(STEPS):
            step()
        rounds.append(1000 * (time.perf_counter() - start) / STEPS)
    return statistics.median(rounds)


def measure() -> dict[str, float]:
    tune_process()
    problem = image_problem("camera", 64, 0.25, seed=0)
    truth, op, y = problem.truth, problem.operator, problem.y
    a = op.matrix[0]
    gen = DeepDecoder(tuple(truth.shape), channels=64, layers=5, seed=0)
    params = [p for p in gen.parameters() if p.requires_grad]
    opt = Adam(params, torch.tensor([0.005]))

    def project() -> None:
        loss = 0.5 * (op.matvec(gen()) - y).square().sum()
        opt.step(list(torch.autograd.grad(loss, params)))

    def generator_only() -> None:
        torch.autograd.grad(gen().square().sum(), params)

    x = gen().detach()
    r = op.matvec(x)

    def matrix_products() -> None:
        op.matvec(x)
        op.rmatvec(r)

    grads = [torch.randn_like(p) for p in params]

    def adam_only() -> None:
        opt.step(grads)

    ref = ReferenceFit(truth, a, 64, 5)

    def reference() -> None:
        ref.step()

    out = {
        "reference_ms": _ms(reference),
        "project_ms": _ms(project),
        "generator_fwd_bwd_ms": _ms(generator_only),
        "matrix_products_ms": _ms(matrix_products),
        "adam_step_ms": _ms(adam_only),
    }
    out["floor_ms"] = out["generator_fwd_bwd_ms"] + out["matrix_products_ms"] + out["adam_step_ms"]
    out["per_iteration_speedup"] = out["reference_ms"] / out["project_ms"]
    out["threads"] = torch.get_num_threads()
    return {k: round(v, 3) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.iteration", description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    row = measure()
    print(json.dumps(row) if args.json else "\n".join(f"{k}: {v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
