"""``python -m bench.mri_levers [--accelerations 4 8] [--masks random equispaced]
[--size 256] [--levers ...] [--snr DB] [--volume]``: the MRI default against least
squares, ℓ1-wavelet and TV, and the levers for a decoder that beats them, measured on the
embedded slice (and volume).

Per cell (acceleration × mask; dipy's T1 slice at ``--size``², 8 simulated coils, noiseless
or at ``--snr``, SENSE with the true maps, the problem's seeded mask): zero-filled, least
squares (CG), ℓ1-wavelet and TV (oracle weights, the MRI solvers' settings), then each
named lever. ``--volume`` instead runs ``untrained-cs mri --slices all`` (the bundled
10-slice brain at ``--size``²) and reports fastMRI's volume scores of the fit and the
baselines. One JSON row per method: PSNR, SSIM, iterations, stop reason, seconds.

One lever is not a library option and lives here: ``projection`` (the default fit, then
the data-consistent projection x = G + A⁺(y − A G) by CG). The TV term in the fit's loss is
the library's ``tv_weight`` (λ = tv_weight × max|Aᵀy|); the levers name its weight. On the
volume, the levers that are ``mri`` flags run (:data:`VOLUME_FLAGS`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from untrained_cs.methods import GeneratorFit, Solver
from untrained_cs.pipeline import run
from untrained_cs.problems import MRIMeasurement, MRISignal, ProblemSpec, build
from untrained_cs.runtime import tune_process
from untrained_cs.solvers.least_squares import min_norm

#: lever name → GeneratorFit fields (``projection`` runs the default fit)
LEVERS: dict[str, dict[str, Any]] = {
    "decoder default": {},
    "no tv term": {"tv_weight": 0.0},
    "tv term 1e-3": {"tv_weight": 1e-3},
    "tv term 3e-3": {"tv_weight": 3e-3},
    "tv term 1e-2": {"tv_weight": 1e-2},
    "previous default (plateau, 3000 cap)": {"schedule": "plateau", "lr": 0.05, "tv_weight": 0.0},
    "wider 5 x 64": {"channels": 64},
    "ensemble 4 x 32": {"ensemble": 4},
    "projection": {},
}
#: the levers the volume runs, as ``untrained-cs mri`` flags
VOLUME_FLAGS: dict[str, list[str]] = {
    "decoder default": [],
    "no tv term": ["--tv-weight", "0"],
    "tv term 1e-3": ["--tv-weight", "1e-3"],
    "tv term 3e-3": ["--tv-weight", "3e-3"],
    "tv term 1e-2": ["--tv-weight", "1e-2"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mri_levers", description=__doc__)
    parser.add_argument("--accelerations", type=float, nargs="+", default=[4.0, 8.0])
    parser.add_argument("--masks", nargs="+", default=["random", "equispaced"],
                        choices=("random", "equispaced"))  # fmt: skip
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--snr", type=float, default=None, help="k-space SNR in dB (slice)")
    parser.add_argument("--levers", nargs="*", default=["decoder default"], choices=list(LEVERS))
    parser.add_argument("--no-baselines", action="store_true", help="levers only")
    parser.add_argument("--volume", action="store_true", help="the 10-slice volume instead")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="root seeds (the mask's and the decoder's; slice only)")  # fmt: skip
    args = parser.parse_args(argv)
    tune_process()
    for acceleration in args.accelerations:
        for mask in args.masks:
            cell = {"acceleration": acceleration, "mask": mask, "size": args.size,
                    **({"snr": args.snr} if args.snr is not None else {})}  # fmt: skip
            if args.volume:
                _volume(cell, args.levers, args.no_baselines)
                continue
            for seed in args.seeds:
                _slice({**cell, **({"seed": seed} if seed else {})}, args.levers, args.no_baselines)
    return 0


def _slice(cell: dict[str, Any], levers: list[str], no_baselines: bool) -> None:
    meas = MRIMeasurement(cell["acceleration"], mask=cell["mask"], model="sense")
    signal = MRISignal(size=cell["size"], snr=cell.get("snr"))
    problem = build(ProblemSpec(signal, meas, cell.get("seed", 0)))
    if not no_baselines:
        for name in ("zero_filled", "min_norm", "l1_wavelet", "tv"):
            rec = run(problem, Solver(name, "oracle"), device="cpu")
            _print({**cell, "method": name, **_scores(rec.metrics)})
    for lever in levers:
        rec = run(problem, GeneratorFit(**LEVERS[lever]), device="cpu")
        row = {**cell, "method": lever, **_scores(rec.metrics)}
        if lever == "projection":
            start = time.perf_counter()
            psnr, ssim = _projection(problem, rec.estimate)
            row.update(psnr=round(psnr, 3), ssim=round(ssim, 3),
                       seconds=round(row["seconds"] + time.perf_counter() - start, 3))  # fmt: skip
        _print(row)


def _projection(problem: Any, estimate: torch.Tensor) -> tuple[float, float]:
    """(PSNR, SSIM) of G + A⁺(y − A G), G the fit's image in k-space scale (SENSE)."""
    mri = problem.mri
    g = (estimate * mri.scale)[None, None].float()
    x = g + min_norm(mri.operator, mri.y - mri.operator(g), max_iters=1000)
    return mri.score(mri.images(x)[0])


def _volume(cell: dict[str, Any], levers: list[str], no_baselines: bool) -> None:
    """Each lever of :data:`VOLUME_FLAGS` as one ``mri --slices all`` run; the baselines
    with the first of them (or zero-filled only)."""
    runs = [lever for lever in levers if lever in VOLUME_FLAGS]
    for n, lever in enumerate(runs):
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "run"
            command = [sys.executable, "-m", "untrained_cs.cli", "mri", "--slices", "all",
                       "--quiet", "--size", str(cell["size"]), "--acceleration",
                       str(cell["acceleration"]), "--mask", cell["mask"], "--out", str(out),
                       *VOLUME_FLAGS[lever]]  # fmt: skip
            if no_baselines or n > 0:
                command += ["--baselines", "zero_filled"]
            else:
                command += ["--baselines", "zero_filled,l1_wavelet,tv"]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)  # JSON rows only
            metrics = json.loads((out / "metrics.json").read_text())
        iterations = [s["iterations"] for s in metrics["per_slice"]]
        reasons = sorted({s["stop_reason"] for s in metrics["per_slice"]})
        _print({**cell, "method": f"{lever} (volume)", **_rounded(metrics["volume"]),
                "iterations": f"{min(iterations)}-{max(iterations)}", "stop_reason": reasons,
                "seconds": metrics["seconds"]})  # fmt: skip
        if n == 0:
            for name, base in (metrics.get("baselines") or {}).items():
                _print({**cell, "method": f"{name} (volume)", **_rounded(base)})


def _rounded(m: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in m.items()
            if k in ("psnr", "ssim", "nmse", "seconds")}  # fmt: skip


def _scores(m: dict[str, Any]) -> dict[str, Any]:
    keys = ("psnr", "ssim", "iterations", "stop_reason", "seconds")
    return {k: round(m[k], 3) if isinstance(m.get(k), float) else m.get(k) for k in keys}


def _print(row: dict[str, Any]) -> None:
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
