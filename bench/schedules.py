"""`python -m bench.schedules [--images camera grass] [--lbfgs]`: the schedule search.

Fits the default problem (64², k = 64, 5 layers, m = n/4 Gaussian, seeds 0/1) with Adam
under the plateau schedule for a grid of start learning rates × patiences, and prints one
JSON row per fit: iterations to the reference recipe's PSNR at 4000 iterations
(``REFERENCE_PSNR``, measured by `python -m bench cpu64`), final and best PSNR, and where
the fit stopped. ``--lbfgs`` fits with L-BFGS instead and prints PSNR against evaluations.
About 35 s per fit on the 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

from untrained_cs.cli.speed import tune_process
from untrained_cs.fit import fit
from untrained_cs.generators import DeepDecoder
from untrained_cs.metrics import psnr

from .sides import image_problem

# The reference recipe's PSNR after 4000 iterations (bench/RESULTS.md, case 1).
REFERENCE_PSNR = {"camera": 28.94, "grass": 23.93, "brick": 25.19, "moon": 35.95}
GRID = [(0.005, 5), (0.01, 5), (0.02, 5), (0.01, 3), (0.02, 3), (0.005, 2)]


def _problem(image: str):
    """The default problem at seed 0, built as the benchmark cases build it."""
    truth, op, y = image_problem(image, 64, 0.25, seed=0)
    return truth, op, y, DeepDecoder(tuple(truth.shape), channels=64, layers=5, seed=0)


def adam_row(image: str, lr: float, patience: int) -> dict:
    truth, op, y, gen = _problem(image)
    res = fit(gen, op, y, truth=truth, lr=lr, patience=patience, max_iters=8000, device="cpu")
    its, ps = res.history["iteration"], res.history["psnr"][:, 0]
    hit = [int(i) for i, p in zip(its, ps, strict=True) if p >= REFERENCE_PSNR[image]]
    return {
        "image": image,
        "lr": lr,
        "patience": patience,
        "iterations_to_reference_psnr": hit[0] if hit else None,
        "final_psnr": round(float(ps[-1]), 2),
        "best_psnr": round(float(ps.max()), 2),
        "iterations": res.stop_iteration[0],
        "stop_reason": res.stop_reason[0],
        "seconds": round(res.seconds, 1),
    }


def lbfgs_rows(image: str, outer_steps: int = 60) -> list[dict]:
    truth, op, y, gen = _problem(image)
    opt = torch.optim.LBFGS(
        gen.parameters(), lr=1.0, max_iter=20, history_size=20, line_search_fn="strong_wolfe"
    )
    evaluations = [0]

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = 0.5 * (op.matvec(gen()) - y).pow(2).sum()
        loss.backward()
        evaluations[0] += 1
        return loss

    rows = []
    for step in range(outer_steps):
        loss = float(opt.step(closure))  # type: ignore[arg-type]
        if step % 5 == 0 or step == outer_steps - 1:
            with torch.no_grad():
                value = float(psnr(gen(), truth[None])[0])
            rows.append(
                {"image": image, "evaluations": evaluations[0], "loss": loss, "psnr": value}
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.schedules", description=__doc__)
    parser.add_argument("--images", nargs="+", default=["camera", "grass"])
    parser.add_argument("--lbfgs", action="store_true", help="L-BFGS instead of the Adam grid")
    args = parser.parse_args(argv)
    unknown = [im for im in args.images if im not in REFERENCE_PSNR]
    if unknown:
        sys.stderr.write(f"python -m bench.schedules: error: no reference PSNR for {unknown}\n")
        return 2
    tune_process()
    for image in args.images:
        rows = lbfgs_rows(image) if args.lbfgs else [adam_row(image, *g) for g in GRID]
        for row in rows:
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
