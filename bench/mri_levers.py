"""``python -m bench.mri_levers [--acceleration 8] [--mask random] [--size 128]``: the levers
for an MRI decoder that beats ℓ1 and TV, measured on the embedded slice.

One problem (dipy's T1 slice at ``--size``², 8 simulated coils, SENSE with the true maps):
zero-filled, ℓ1-wavelet and TV (oracle weights), then the default MRI decoder and its
levers: wider and deeper decoders, an ensemble of four, and the two-channel model. Each
lever is one JSON row: PSNR, SSIM, iterations, stop reason and seconds.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from untrained_cs.methods import GeneratorFit, Solver
from untrained_cs.pipeline import run
from untrained_cs.problems import MRIMeasurement, MRISignal, ProblemSpec, build
from untrained_cs.runtime import tune_process

#: lever name → (model, GeneratorFit fields)
LEVERS: dict[str, tuple[str, dict[str, Any]]] = {
    "decoder default (5 x 32)": ("sense", {}),
    "wider (5 x 64)": ("sense", {"channels": 64}),
    "wider (5 x 128)": ("sense", {"channels": 128}),
    "deeper (6 x 64)": ("sense", {"channels": 64, "layers": 6}),
    "ensemble 4 x 32": ("sense", {"ensemble": 4}),
    "two channels per coil (5 x 64)": ("2ch", {"channels": 64}),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mri_levers", description=__doc__)
    parser.add_argument("--acceleration", type=float, default=8.0)
    parser.add_argument("--mask", default="random", choices=("random", "equispaced"))
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--levers", nargs="*", default=list(LEVERS), choices=list(LEVERS))
    args = parser.parse_args(argv)
    tune_process()

    def problem(model: str):
        meas = MRIMeasurement(args.acceleration, mask=args.mask, model=model)
        return build(ProblemSpec(MRISignal(size=args.size), meas))

    common = {"acceleration": args.acceleration, "mask": args.mask, "size": args.size}
    sense = problem("sense")
    for name in ("zero_filled", "l1_wavelet", "tv"):
        rec = run(sense, Solver(name, "oracle"), device="cpu")
        _print({**common, "method": name, **_scores(rec.metrics)})
    for lever in args.levers:
        model, fields = LEVERS[lever]
        rec = run(sense if model == "sense" else problem(model), GeneratorFit(**fields),
                  device="cpu")  # fmt: skip
        _print({**common, "method": lever, **_scores(rec.metrics)})
    return 0


def _scores(m: dict[str, Any]) -> dict[str, Any]:
    keys = ("psnr", "ssim", "iterations", "stop_reason", "seconds")
    return {k: round(m[k], 3) if isinstance(m.get(k), float) else m.get(k) for k in keys}


def _print(row: dict[str, Any]) -> None:
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
