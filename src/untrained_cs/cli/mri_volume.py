"""`untrained-cs mri [--kspace FILE] --slices A:B`: every slice of a volume, one fit (a
fastMRI file's, or without one the bundled 10-slice brain volume's with simulated coils).

The slices are independent members of one batched fit (one mask for the volume, as
fastMRI undersamples a volume; one output scale, the slices' median; each slice stops by
its own rule), with a progress bar over
the iterations that shows how many slices are still fitting. The run folder holds
``estimate.npy`` ``[slices, h, w]``, fastMRI's ``reconstruction.h5``, mosaics of the
estimate and the target, and ``metrics.json`` with the per-slice scores and fastMRI's
volume scores (:func:`~untrained_cs.metrics.volume_scores`) for the fit and the baselines.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..io.writers import write_reconstruction
from ..methods import Solver
from ..metrics import volume_scores
from ..pipeline import run, run_batch
from ..problems import MRIMeasurement, MRISignal, ProblemSpec, build
from ..resources import check_memory, mri_bytes
from ..version import package_version
from ..writer import write_json
from .common import Progress, UsageError, keeping, options, report, staged_run, with_baselines
from .solve import method_spec


def slice_range(text: str) -> tuple[int, int | None]:
    """``--slices``: ``A:B`` (slices A … B−1), ``A:`` (A to the end) or ``all``."""
    if text.strip().lower() == "all":
        return 0, None
    first, sep, last = text.partition(":")
    try:
        a = int(first) if first.strip() else 0
        b = int(last) if last.strip() else None
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected A:B, A: or all, got {text!r}") from None
    if not sep or a < 0 or (b is not None and b <= a):
        raise argparse.ArgumentTypeError(f"expected A:B with 0 <= A < B, got {text!r}")
    return a, b


def volume_slices(path: Path, wanted: tuple[int, int | None]) -> range:
    """The slice indices ``wanted`` of the file's ``kspace`` (checked against its count)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "kspace" not in f:
                raise UsageError(f"{path} has no 'kspace' dataset")
            count = int(f["kspace"].shape[0])
            shape = tuple(int(s) for s in f["kspace"].shape)
    except OSError as exc:
        raise UsageError(f"cannot read {path} as an HDF5 (fastMRI .h5) file: {exc}") from None
    a, b = wanted
    b = count if b is None else b
    if b > count:
        raise UsageError(f"--slices {a}:{b} is out of range: {path} holds slices 0..{count - 1}")
    check_memory(
        {
            f"{b - a} slices": (b - a)
            * sum(mri_bytes("deep-decoder", shape[-2] * shape[-1], 64, 5, 1).values())
            * (shape[1] if len(shape) == 4 else 1)
        },
        "reconstruct fewer --slices at a time",
    )
    return range(a, b)


def bundled_slices(wanted: tuple[int, int | None]) -> range:
    """The slice indices ``wanted`` of the bundled brain volume."""
    from ..io.volumes import BUNDLED_VOLUME, volume_shape

    count = int(volume_shape(BUNDLED_VOLUME)[0])
    a, b = wanted
    b = count if b is None else b
    if b > count:
        raise UsageError(f"--slices {a}:{b} is out of range: the brain volume holds slices "
                         f"0..{count - 1}")  # fmt: skip
    return range(a, b)


def run_volume(args: argparse.Namespace) -> int:
    """Reconstruct the slices ``args.slices`` of ``args.kspace`` (see module docstring)."""
    if args.slice is not None:
        raise UsageError("give --slice or --slices, not both")
    if args.kspace is None:  # the bundled brain volume, simulated coils
        indices = bundled_slices(args.slices)
    else:
        indices = volume_slices(args.kspace, args.slices)
    method = method_spec(args)
    if method.ensemble != 1:
        raise UsageError("--ensemble applies to single slices")
    specs = [
        ProblemSpec(
            MRISignal(
                None if args.kspace is None else str(args.kspace),
                i,
                args.size if args.kspace is None else None,
                args.coils,
                args.snr,
            ),
            MRIMeasurement(args.acceleration, args.center_fraction, args.mask, args.model),
            args.seed,  # one root seed: one mask for the volume
        )
        for i in indices
    ]
    with staged_run(args.out, "mri", args.overwrite) as folder:
        problems = [build(s) for s in specs]
        if method.output_scale is None:  # one generator, one output scale: the slices' median
            scale = float(np.median([p.output_scale() for p in problems]))
            method = dataclasses.replace(method, output_scale=scale)
        start = time.perf_counter()
        progress = SliceProgress(method.resolved("mri", True).expected_iterations(), args.quiet)
        try:
            records = run_batch(
                problems, method, device=args.device, callback=progress, compile=args.compile
            )
        finally:
            progress.close()
        seconds = time.perf_counter() - start
        estimate = torch.stack([r.estimate for r in records]).float()
        truths = [p.truth for p in problems if p.truth is not None]
        # a test file's undersampled k-space has no truth: no scores, weights by hold-out
        target = torch.stack(truths).float() if len(truths) == len(problems) else None
        choice = args.weight_choice or ("oracle" if target is not None else "holdout")
        baselines = {
            name: torch.stack([run(p, Solver(name, choice)).estimate for p in problems]).float()
            for name in args.baseline_names
        }

        def scores(volume: torch.Tensor) -> dict[str, Any] | None:
            return None if target is None else volume_scores(volume, target)

        metrics = {
            "slices": list(indices),
            "volume": scores(estimate),
            "per_slice": [
                {k: r.metrics.get(k) for k in ("psnr", "ssim", "iterations", "stop_reason")}
                for r in records
            ],
            "baselines": {k: scores(v) or {} for k, v in baselines.items()},
            "seconds": round(seconds, 3),
            "device": records[0].metrics.get("device"),
            "problem": [r.problem for r in records],
            "method": records[0].method,
            "config": options(args),
        }
        with keeping(metrics):
            write_volume(folder.staging, estimate, target, metrics)
    report(metrics, folder.out, args.json, headline(metrics))
    return 0


def write_volume(
    folder: Path, estimate: torch.Tensor, target: torch.Tensor | None, metrics: dict[str, Any]
) -> None:
    from ..plots import volume as volume_plots

    peak = float((estimate if target is None else target).max()) or 1.0
    np.save(folder / "estimate.npy", estimate.numpy().astype(np.float32))
    write_reconstruction(folder / "reconstruction.h5", estimate.numpy())
    volume_plots.mosaic(folder / "reconstruction.png", estimate / peak)
    pictures = ["reconstruction.png"]
    if target is not None:
        volume_plots.mosaic(folder / "truth.png", target / peak)
        pictures.append("truth.png")
    files = {"estimate": ["estimate.npy", "reconstruction.h5"], "pictures": pictures}
    write_json(folder / "metrics.json", {**metrics, "files": files, "version": package_version()})


def headline(metrics: dict[str, Any]) -> str:
    v = metrics["volume"]
    iterations = [s["iterations"] for s in metrics["per_slice"]]
    scored = (
        "no ground truth (undersampled file)"
        if v is None
        else f"fastMRI PSNR {v['psnr']:.2f} dB, SSIM {v['ssim']:.3f}, NMSE {v['nmse']:.4f}"
    )
    line = (
        f"{len(metrics['slices'])} slices: {scored}; {min(iterations)}-{max(iterations)} "
        f"iterations, {metrics['seconds']:.1f} s on {metrics['device']}"
    )
    return with_baselines(line, metrics)


class SliceProgress(Progress):
    """The iteration bar, with the slices still fitting."""

    def __init__(self, total: int, quiet: bool) -> None:
        super().__init__(total, quiet, "mri volume")

    def __call__(self, rec: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.set_description(f"mri volume ({rec['active']} slices fitting)", False)
        super().__call__(rec)
