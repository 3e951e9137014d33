"""`python -m bench.iteration [--json] [--device cuda] [--size N --channels K]`: one
iteration of the default problem, taken apart.

The default problem (camera 64², 5 × 64 deep decoder, dense Gaussian m = n/4; ``--size`` and
``--channels`` change it, ``--device cuda`` runs it on the GPU, each round ending with a
synchronisation). Times, each as the median of ``REPEATS`` rounds of ``STEPS`` steps in this
one process (warm):

- the reference recipe's iteration (`bench/reference.py`: nn.Conv2d, BatchNorm2d, Adam);
- the project's iteration (forward, loss, backward, Adam step; no checks);
- its parts: the generator's forward + backward alone, the two matrix products A x and
  Aᵀ r alone, and Adam's step alone. The floor is the sum of the parts: what the iteration
  would take if nothing else cost anything;
- the project's iteration compiled (``fit(..., compile=True)``: the forward pass and Adam's
  update, :mod:`untrained_cs.fit.compiled`), and the seconds its first call took
  (compilation, or loading it from the on-disk cache when an earlier run compiled the same
  shapes).

The rounds of all the steps are interleaved (one round of each in turn), so that a drift in
the machine's speed affects them alike. The floor stays measured on the eager operations,
so ``compiled_vs_floor`` is comparable between versions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from untrained_cs.fit.compiled import compile_failure, forward_pass
from untrained_cs.fit.inputs import on_device
from untrained_cs.fit.optim import Adam
from untrained_cs.generators import DeepDecoder
from untrained_cs.runtime import tune_process

from .reference import ReferenceFit
from .sides import image_problem

STEPS, REPEATS = 100, 5


def _ms(steps: dict[str, Callable[[], None]], sync: Callable[[], None]) -> dict[str, float]:
    """The median milliseconds per call of each step, rounds interleaved."""
    for step in steps.values():
        for _ in range(10):
            step()
    rounds: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(REPEATS):
        for name, step in steps.items():
            sync()
            start = time.perf_counter()
            for _ in range(STEPS):
                step()
            sync()
            rounds[name].append(1000 * (time.perf_counter() - start) / STEPS)
    return {f"{name}_ms": statistics.median(r) for name, r in rounds.items()}


def measure(device: str = "cpu", size: int = 64, channels: int = 64) -> dict[str, Any]:
    tune_process()
    dev = torch.device(device)
    problem = image_problem("camera", size, 0.25, seed=0)
    truth, op, y = problem.truth.to(dev), on_device(problem.operator, dev), problem.y.to(dev)
    a = problem.operator.matrix[0]

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    def decoder() -> DeepDecoder:
        return DeepDecoder(tuple(truth.shape), channels=channels, layers=5, seed=0).to(dev)

    def iteration(compile: bool) -> Callable[[], None]:
        gen = decoder()
        params = [p for p in gen.parameters() if p.requires_grad]
        opt = Adam(params, torch.tensor([0.005], device=dev))
        opt.compiled = compile

        def step() -> None:
            loss = forward_pass(gen, op, y, compile=compile)[2]
            opt.step(list(torch.autograd.grad(loss.sum(), params)))

        return step

    project, compiled = iteration(False), iteration(True)
    start = time.perf_counter()
    compiled()
    sync()
    compile_s = time.perf_counter() - start
    gen = decoder()
    params = [p for p in gen.parameters() if p.requires_grad]
    opt = Adam(params, torch.tensor([0.005], device=dev))

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

    ref = ReferenceFit(problem.truth, a, channels, 5, device=device)

    def reference() -> None:
        ref.step()

    out: dict[str, Any] = _ms(
        {
            "reference": reference,
            "project": project,
            "compiled": compiled,
            "generator_fwd_bwd": generator_only,
            "matrix_products": matrix_products,
            "adam_step": adam_only,
        },
        sync,
    )
    out["floor_ms"] = out["generator_fwd_bwd_ms"] + out["matrix_products_ms"] + out["adam_step_ms"]
    out["per_iteration_speedup"] = out["reference_ms"] / out["project_ms"]
    out["compiled_speedup"] = out["reference_ms"] / out["compiled_ms"]
    out["project_vs_floor"] = out["project_ms"] / out["floor_ms"]
    out["compiled_vs_floor"] = out["compiled_ms"] / out["floor_ms"]
    out["compile_s"] = compile_s
    out["compile_failure"] = compile_failure()
    out["threads"] = torch.get_num_threads()
    out["device"] = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    out["size"], out["channels"] = size, channels
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.iteration", description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=64)
    args = parser.parse_args(argv)
    row = measure(args.device, args.size, args.channels)
    print(json.dumps(row) if args.json else "\n".join(f"{k}: {v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
