"""`python -m bench.noisy [--images ...] [--snr ...] [--json]`: stopping on noisy data.

For each image (64², k = 64, 5 layers, m = n/4 Gaussian, root seed 0) and measurement SNR
(10 log10 ||A x*||² / E||n||²), three fits of the project's default deep decoder: to
convergence (``--stop converge``; its history also gives the oracle-best iterate, what
early stopping with the truth could reach), with the hold-out rule and with the
discrepancy principle. Prints the PSNR of the estimate each returns, a table row per
(image, SNR), and the means; ``--json`` prints one JSON object per row instead.

``--ensemble`` compares instead the single default decoder with the hold-out rule against
an ensemble of 4 x 32 decoders with the hold-out rule (one shared draw) and with the
settled rule: does the ensemble keep its lead when the noise is fitted?
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch

from untrained_cs.methods import GeneratorFit
from untrained_cs.pipeline import run
from untrained_cs.problems import CSMeasurement, ImageSignal, ProblemSpec, build
from untrained_cs.runtime import tune_process

IMAGES = ("camera", "grass", "brick", "moon")
SNRS = (10.0, 20.0, 30.0)
RULES = ("converge", "holdout", "discrepancy")
#: ``--ensemble``: the sides compared (GeneratorFit settings)
ENSEMBLE_SIDES = {
    "single-holdout": {"stop": "holdout"},
    "ensemble-holdout": {"stop": "holdout", "ensemble": 4, "channels": 32},
    "ensemble-settled": {"stop": "settled", "ensemble": 4, "channels": 32},
}


def noise_std_for(image: str, snr_db: float) -> float:
    """σ with ||A x*||² / (m σ²) = 10^{snr/10} on the noiseless problem."""
    clean = build(ProblemSpec(ImageSignal(image, 64), CSMeasurement()))
    power = float(clean.y.square().mean())
    return math.sqrt(power / 10 ** (snr_db / 10))


def row(image: str, snr_db: float) -> dict:
    sigma = noise_std_for(image, snr_db)
    problem = build(ProblemSpec(ImageSignal(image, 64), CSMeasurement(noise_std=sigma)))
    out: dict = {"image": image, "snr_db": snr_db, "noise_std": sigma}
    for rule in RULES:
        start = time.perf_counter()
        rec = run(problem, GeneratorFit(stop=rule), device="cpu")
        out[rule] = round(rec.metrics["psnr"], 3)
        out[f"{rule}_iterations"] = rec.metrics["iterations"]
        out[f"{rule}_seconds"] = round(time.perf_counter() - start, 1)
        if rule == "converge":
            out["oracle_best"] = round(rec.metrics["best_psnr"], 3)
            out["oracle_iteration"] = rec.metrics["best_iteration"]
    return out


def ensemble_row(image: str, snr_db: float) -> dict:
    """The sides of :data:`ENSEMBLE_SIDES` on one noisy problem (PSNR, iterations, seconds)."""
    sigma = noise_std_for(image, snr_db)
    problem = build(ProblemSpec(ImageSignal(image, 64), CSMeasurement(noise_std=sigma)))
    out: dict = {"image": image, "snr_db": snr_db, "noise_std": sigma}
    for name, settings in ENSEMBLE_SIDES.items():
        start = time.perf_counter()
        rec = run(problem, GeneratorFit(**settings), device="cpu")
        out[name] = round(rec.metrics["psnr"], 3)
        out[f"{name}_iterations"] = rec.metrics["iterations"]
        out[f"{name}_seconds"] = round(time.perf_counter() - start, 1)
        if "spread_error_correlation" in rec.metrics:
            out[f"{name}_spread_error_correlation"] = round(
                rec.metrics["spread_error_correlation"], 3
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.noisy", description=__doc__)
    parser.add_argument("--images", nargs="+", default=list(IMAGES))
    parser.add_argument("--snr", nargs="+", type=float, default=list(SNRS))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--ensemble", action="store_true", help="single vs ensembles")
    args = parser.parse_args(argv)
    tune_process()
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.ensemble:
        for snr in args.snr:
            for image in args.images:
                print(json.dumps(ensemble_row(image, snr)), flush=True)
        return 0
    rows = []
    for snr in args.snr:
        for image in args.images:
            r = row(image, snr)
            rows.append(r)
            if args.json:
                print(json.dumps(r), flush=True)
            else:
                cells = [r["converge"], r["holdout"], r["discrepancy"], r["oracle_best"]]
                print(f"| {snr:g} dB | {image} | " + " | ".join(f"{c:.2f}" for c in cells)
                      + f" | {r['holdout_iterations']}/{r['discrepancy_iterations']}/"
                      f"{r['converge_iterations']} |", flush=True)  # fmt: skip
    n = len(rows)
    means = {k: sum(r[k] for r in rows) / n for k in (*RULES, "oracle_best")}
    gaps = {k: sum(r["oracle_best"] - r[k] for r in rows) / n for k in RULES}
    worse = {k: sum(r[k] < r["converge"] for r in rows) for k in ("holdout", "discrepancy")}
    print(json.dumps({"mean_psnr": means, "mean_gap_to_oracle": gaps, "worse_than_converge":
                      worse, "rows": n}))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
