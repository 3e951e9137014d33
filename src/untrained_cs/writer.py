"""The one run-folder writer: a record (and its baselines) as pictures, CSV and JSON.

Every command that reconstructs writes the same files: ``reconstruction.png``,
``truth.png``, ``comparison.png`` (truth | baselines | estimate | error; measured data
without a truth: no truth picture, no error panel; for a volume ``[1, D, H, W]`` a montage
of slices with those columns, and the two images are mosaics of every slice), ``curves.png``
(loss, true MSE and PSNR against iteration, oracle-best marked), ``history.csv``,
``measurements.npy``, ``estimate.npy`` (the float estimate, in the truth's shape and
range; TIFF and NIfTI on request), for an ensemble ``spread.npy``/``spread.png`` (the
members' per-pixel standard deviation) and ``metrics.json`` (with the package ``version`` that
wrote it, and ``files``: what each written file is).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .io import write_estimate
from .plots import run as run_plots
from .problems import Problem, VolumeProblem
from .record import Record
from .version import package_version

LABELS = {"deep-decoder": "deep decoder", "dip": "DIP", "two-layer": "two-layer", "linear": "Jc"}


def label(record: Record) -> str:
    """A short name of the record's method for titles and panels."""
    m = record.method
    return LABELS.get(m.get("generator", ""), m.get("name", "estimate"))


def write_record(
    folder: Path,
    problem: Problem,
    record: Record,
    metrics: dict[str, Any],
    baselines: dict[str, Record] | None = None,
    title: str = "",
    save: Sequence[str] = (),
) -> None:
    """Write the run folder's files for ``record`` into ``folder`` (see module docstring)."""
    truth, est = problem.truth, record.estimate
    peak = problem.data_range if truth is not None or not problem.signed_output else _peak(est)
    if est.dim() == 2 and est.shape[0] == 1:  # a 1D signal [1, n]
        series = {} if truth is None else {"truth": truth}
        series[label(record)] = est
        series.update({name: b.estimate for name, b in (baselines or {}).items()})
        run_plots.signals(folder / "comparison.png", series, title)
    elif truth is not None and truth.dim() == 4:  # a volume [1, D, H, W]
        write_volume_pictures(folder, truth / peak, record, baselines or {}, peak, title)
    else:
        run_plots.save_image(folder / "reconstruction.png", est / peak)
        panels = []
        if truth is not None:
            run_plots.save_image(folder / "truth.png", truth / peak)
            panels.append(("truth", truth / peak))
        for name, b in (baselines or {}).items():
            panels.append((f"{name} {_db(b.metrics['psnr'])}", b.estimate / peak))
        panels.append((f"{label(record)} {_db(record.metrics['psnr'])}", est / peak))
        error = None if truth is None else (f"|error| {label(record)}", (est - truth).abs() / peak)
        run_plots.comparison(folder / "comparison.png", panels, error=error)
    if record.history is not None:
        write_curves(folder / "curves.png", record, title)
        write_history(folder / "history.csv", record.history)
    np.save(folder / "measurements.npy", _numpy(problem.y))
    affine = problem.affine if isinstance(problem, VolumeProblem) else None
    estimates = write_estimate(folder, _numpy(est), save, affine)
    files = {"estimate": estimates, "measurements": "measurements.npy"}
    spread = record.extra.get("spread")
    if spread is not None:  # an ensemble: its members' per-pixel standard deviation
        np.save(folder / "spread.npy", _numpy(spread).astype(np.float32))
        if spread.dim() == 3:  # an image [C, H, W]
            run_plots.comparison(folder / "spread.png", [], error=("members' std", spread))
        files["spread"] = "spread.npy"
    write_json(folder / "metrics.json", {**metrics, "files": files, "version": package_version()})


def _peak(estimate: torch.Tensor) -> float:
    """The display peak of a signed estimate without a truth: its own largest magnitude."""
    return float(estimate.abs().max()) or 1.0


def write_volume_pictures(
    folder: Path,
    truth: torch.Tensor,
    record: Record,
    baselines: dict[str, Record],
    peak: float,
    title: str,
) -> None:
    """A volume's pictures (``truth`` in [0, 1]): mosaics of the estimate's and the truth's
    slices, and the slice montage (truth | baselines | estimate | |error|) as
    ``comparison.png``."""
    from .plots import volume as volume_plots

    est = record.estimate / peak
    volume_plots.mosaic(folder / "reconstruction.png", est)
    volume_plots.mosaic(folder / "truth.png", truth)
    columns = [("truth", truth)]
    for name, b in baselines.items():
        columns.append((f"{name} {_db(b.metrics['psnr'])}", b.estimate / peak))
    columns.append((f"{label(record)} {_db(record.metrics['psnr'])}", est))
    error = (f"|error| {label(record)}", est - truth)
    volume_plots.montage(folder / "comparison.png", columns, error, title)


def _db(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.2f} dB"


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def write_curves(path: Path, record: Record, title: str) -> None:
    h = record.history
    assert h is not None
    series = {"loss ½‖AG(θ)−y‖²": h["loss"][:, 0]}
    if "mse" in h:
        series["true MSE (÷ range²)"] = h["mse"][:, 0]
        series["PSNR (dB)"] = h["psnr"][:, 0]
    run_plots.curves(path, h["iteration"], series, record.metrics.get("best_iteration"), title)


def write_history(path: Path, history: dict[str, np.ndarray], member: int = 0) -> None:
    """history.csv: one row per logged iteration (loss, lr, and mse/psnr with the truth)."""
    cols = [c for c in ("loss", "lr", "mse", "psnr") if c in history]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["iteration", *cols])
        for i, it in enumerate(history["iteration"]):
            w.writerow([int(it), *(f"{history[c][i, member]:.8g}" for c in cols)])


def write_json(path: Path, obj: dict[str, Any]) -> None:
    path.write_text(to_json(obj, indent=2) + "\n")


def to_json(obj: Any, indent: int | None = None) -> str:
    """Strict JSON: numpy and paths converted, NaN and ±inf written as ``null``."""
    return json.dumps(_finite(obj), indent=indent, allow_nan=False)


def _finite(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _finite(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_finite(v) for v in o]
    if isinstance(o, np.ndarray):
        return _finite(o.tolist())
    if isinstance(o, np.generic):
        return _finite(o.item())
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, Path):
        return str(o)
    if o is None or isinstance(o, str | int | bool):
        return o
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
