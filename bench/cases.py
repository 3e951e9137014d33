"""The benchmark cases: each runs both sides in fresh processes and returns one JSON row
(``images``: one row per image, ratio and seed, and a summary row per image and ratio).

Every row holds ``case``, ``device``, ``reference_ms_per_iter``, ``project_ms_per_iter``,
``speedup_per_iter``, ``time_to_target_speedup`` (where the case has a target) and
``peak_mem_mb`` (the project side's), plus the case's own details. Two cases differ:
``colour`` (bench/colour.py) gives one such row per colour image; ``inverse``
(bench/inverse.py) one row per problem and image, holding every method's PSNR, SSIM and
seconds instead (its methods, not the reference recipe, are the comparison).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import torch

from . import sides
from .colour import colour
from .ensemble import ensemble_default, ensemble_default_tuned, ensemble_default_untuned
from .harness import first_time_reaching, isolated, ratio
from .inverse import inverse

Row = dict[str, Any]


# Project settings compared on the image cases: the defaults (the CLI's: Adam peaking at
# 0.05 under the decay schedule); the previous defaults (Adam 0.005 halved on plateaus);
# on a GPU, TF32 matmuls; ensembles of K narrower decoders (K x k channels, mean output);
# and the default compiled (torch.compile, its seconds including the compilation).
PROJECT_SETTINGS: dict[str, dict[str, Any]] = {
    "": {},
    "-plateau": {"method": {"schedule": "plateau", "lr": 0.005}},
    "-tf32": {"tf32": True},
    "-ensemble4x32": {"ensemble": (4, 32)},
    "-ensemble6x32": {"ensemble": (6, 32)},
    "-compiled": {"compile": True},
}
#: the ensembles compared against the single default decoder (``images-ensembles``)
ENSEMBLES = ("-ensemble4x32", "-ensemble6x32")
#: the images the default schedule was chosen on, and ones it was not (checked after)
TUNED_IMAGES = ("camera", "grass", "brick", "moon")
UNTUNED_IMAGES = ("coins", "astronaut", "gravel", "chelsea")
RATIOS = (0.25, 0.1)

# Reference runs already made in this process, so that cases sharing a problem (e.g.
# `python -m bench cpu64 cpu64-plateau`) run the reference recipe once.
_REFERENCE_RUNS: dict[tuple, dict[str, Any]] = {}


def _reference(ref_iters: int, **common: Any) -> dict[str, Any]:
    key = (ref_iters, *sorted(common.items()))
    if key not in _REFERENCE_RUNS:
        _REFERENCE_RUNS[key] = isolated(sides.reference_image_fit, iters=ref_iters, **common)
    return _REFERENCE_RUNS[key]


def _image_case(
    name: str,
    image: str,
    size: int,
    channels: int,
    ref_iters: int,
    device: str,
    settings: str = "",
    m_ratio: float = 0.25,
    seed: int = 0,
) -> Row:
    common = {
        "image": image,
        "size": size,
        "ratio": m_ratio,
        "channels": channels,
        "layers": 5,
        "device": device,
        "seed": seed,
    }
    ref = _reference(ref_iters, **common)
    options = PROJECT_SETTINGS[settings]
    ours = isolated(sides.project_image_fit, max_iters=4 * ref_iters, **common, **options)
    reached = first_time_reaching(ours["times"], ours["psnrs"], ref["psnr"])
    return {
        "case": name + settings,
        "device": ours["device"],
        "image": image,
        "size": size,
        "ratio": m_ratio,
        "seed": seed,
        "project_settings": options or "defaults",
        "reference_ms_per_iter": round(ref["ms_per_iter"], 3),
        "project_ms_per_iter": round(ours["ms_per_iter"], 3),
        "speedup_per_iter": ratio(ref["ms_per_iter"], ours["ms_per_iter"]),
        "reference_iterations": ref_iters,
        "reference_seconds": round(ref["seconds"], 2),
        "reference_psnr": round(ref["psnr"], 2),
        "project_seconds_to_reference_psnr": None if reached is None else round(reached, 2),
        "time_to_target_speedup": ratio(ref["seconds"], reached),
        "project_iterations": ours["iterations"],
        "project_stop_reason": ours["stop_reason"],
        "project_seconds": round(ours["seconds"], 2),
        "project_psnr": round(ours["psnr"], 2),
        "reference_peak_mem_mb": round(ref["peak_mem_mb"], 1),
        "peak_mem_mb": round(ours["peak_mem_mb"], 1),
    }


def cpu64(image: str = "camera", settings: str = "", m_ratio: float = 0.25, seed: int = 0) -> Row:
    """Case 1: the default problem (64², k = 64, 5 layers, m = n/4) on this CPU."""
    name = "cpu64" if image == "camera" else f"cpu64-{image}"
    name += "" if m_ratio == 0.25 else f"-m{m_ratio:g}n"
    name += "" if seed == 0 else f"-seed{seed}"
    return _image_case(name, image, 64, 64, 4000, "cpu", settings, m_ratio, seed)


def cpu64_plateau() -> Row:
    """Case 1 with the previous defaults: Adam 0.005, halved on plateaus."""
    return cpu64("camera", "-plateau")


def images(
    names: tuple[str, ...] = TUNED_IMAGES,
    seeds: tuple[int, ...] = (0, 1, 2),
    settings: tuple[str, ...] = ("",),
) -> list[Row]:
    """Case 1 on camera, grass, brick and moon at m = n/4 and n/10 (defaults, 3 seeds).

    Each seed is a problem of its own (operator, the reference's and the project's
    initialisation); after its seeds' rows, each image, ratio and project setting (keys of
    :data:`PROJECT_SETTINGS`) gets a summary row (when there are several seeds).
    """
    rows: list[Row] = []
    for image in names:
        for m_ratio in RATIOS:
            for setting in settings:
                runs = [cpu64(image, setting, m_ratio, s) for s in seeds]
                rows += runs if len(runs) == 1 else [*runs, _seed_summary(runs)]
    return rows


def _seed_summary(runs: list[Row]) -> Row:
    """Means over the seeds; the time-to-target ratio's median; how many seeds reach it."""

    def mean(key: str) -> float:
        return round(statistics.fmean(r[key] for r in runs), 3)

    speedups = [r["time_to_target_speedup"] for r in runs]
    reached = [v for v in speedups if v is not None]
    return {
        "case": runs[0]["case"].split("-seed")[0] + "-summary",
        "device": runs[0]["device"],
        "image": runs[0]["image"],
        "ratio": runs[0]["ratio"],
        "seeds": len(runs),
        "reference_ms_per_iter": mean("reference_ms_per_iter"),
        "project_ms_per_iter": mean("project_ms_per_iter"),
        "speedup_per_iter": mean("speedup_per_iter"),
        "reference_psnr": mean("reference_psnr"),
        "reference_seconds": mean("reference_seconds"),
        "project_psnr": mean("project_psnr"),
        "project_iterations": mean("project_iterations"),
        "project_seconds": mean("project_seconds"),
        "seeds_ending_at_or_above_reference": sum(
            r["project_psnr"] >= r["reference_psnr"] for r in runs
        ),
        "seeds_reaching_reference": len(reached),
        # a seed that never reaches the reference's PSNR counts as no speed-up (0)
        "time_to_target_speedup": round(statistics.median([v or 0.0 for v in speedups]), 2),
        "peak_mem_mb": max(r["peak_mem_mb"] for r in runs),
    }


def images_untuned() -> list[Row]:
    """Case 1 on images the default schedule was not chosen on (defaults, seed 0)."""
    return images(UNTUNED_IMAGES, seeds=(0,))


def images_ensembles() -> list[Row]:
    """Case 1 (seed 0) with each ensemble of :data:`ENSEMBLES` for the single decoder.

    An ensemble is K decoders of k channels, each fitted to y by its own stopping rule in
    one batched fit, their mean output scored.
    """
    return images(TUNED_IMAGES, (0,), ENSEMBLES)


def images_ensemble_seeds() -> list[Row]:
    """The first ensemble of :data:`ENSEMBLES` on the tuned images, seeds 0, 1 and 2."""
    return images(TUNED_IMAGES, (0, 1, 2), ENSEMBLES[:1])


def images_ensembles_untuned() -> list[Row]:
    """The first ensemble of :data:`ENSEMBLES` on the images it was not chosen on (seed 0)."""
    return images(UNTUNED_IMAGES, (0,), ENSEMBLES[:1])


def _batched_row(
    name: str,
    fn: Callable[..., dict[str, Any]],
    count: int,
    first: int,
    device: str,
    score: str,
    **kw: Any,
) -> Row:
    loop = isolated(fn, count=count, batched=False, first=first, device=device, **kw)
    batch = isolated(fn, count=count, batched=True, device=device, **kw)
    return {
        "case": name,
        "device": device,
        "fits": count,
        "reference": f"loop of single fits (timed on the first {first}, per fit)",
        "reference_ms_per_iter": round(loop["ms_per_iter_per_fit"], 4),
        "project_ms_per_iter": round(batch["ms_per_iter_per_fit"], 4),
        "speedup_per_iter": ratio(loop["ms_per_iter_per_fit"], batch["ms_per_iter_per_fit"]),
        "throughput_fits_per_s": {
            "loop": round(loop["fits_per_second"], 3),
            "batched": round(batch["fits_per_second"], 3),
        },
        "time_to_target_speedup": None,
        "peak_mem_mb": round(batch["peak_mem_mb"], 1),
        "reference_peak_mem_mb": round(loop["peak_mem_mb"], 1),
        "quality_loop": _summary(loop, score),
        "quality_batched": _summary(batch, score),
    }


def _summary(side: dict[str, Any], name: str) -> dict[str, float]:
    values = side["scores"]
    return {name: round(sum(values) / max(len(values), 1), 4)}


def batched_two_layer(device: str = "cpu") -> Row:
    """Case 4a: 256 two-layer 1D fits (n = 256, seeds and m differ), batched vs a loop."""
    return _batched_row(
        "batched-two-layer" + ("-gpu" if device != "cpu" else ""),
        sides.two_layer_fits,
        256,
        32,
        device,
        "mean_rel_error",
    )


def batched_deep_decoder(device: str = "cpu") -> Row:
    """Case 4b: 32 deep decoders at 32² (k = 32, 4 layers), batched vs a loop."""
    return _batched_row(
        "batched-deep-decoder" + ("-gpu" if device != "cpu" else ""),
        sides.deep_decoder_fits,
        32,
        8,
        device,
        "mean_psnr",
    )


def memory512(device: str = "cpu") -> Row:
    """Case 5: a 512² fit with the structured operator (a dense Gaussian would not fit)."""
    size = 512 if device == "cpu" else 1024
    common = {
        "image": "camera",
        "size": size,
        "ratio": 0.25,
        "channels": 64,
        "layers": 6,
        "device": device,
        "operator": "structured",
    }
    ours = isolated(
        sides.project_image_fit,
        max_iters=30,
        method={"recipe": "published"},  # exactly 30 iterations, no convergence test
        **common,
    )
    dense_gb = (size * size) ** 2 * 0.25 * 4 / 1e9
    return {
        "case": f"memory{size}",
        "device": ours["device"],
        "size": size,
        "reference_ms_per_iter": None,
        "reference": f"dense Gaussian infeasible: the matrix alone is {dense_gb:.0f} GB",
        "project_ms_per_iter": round(ours["ms_per_iter"], 2),
        "speedup_per_iter": None,
        "time_to_target_speedup": None,
        "peak_mem_mb": round(ours["peak_mem_mb"], 1),
        "iterations": ours["iterations"],
    }


def gpu256(settings: str = "") -> Row:
    """Case 2: Figure 1 scale on a GPU (256², m = n/4 dense Gaussian, 5 x 256 channels)."""
    return _image_case("gpu256", "camera", 256, 256, 20000, "cuda", settings)


def gpu64(settings: str = "") -> Row:
    """Case 3: the default problem on a GPU."""
    return _image_case("gpu64", "camera", 64, 64, 4000, "cuda", settings)


def volume() -> list[Row]:
    """Issue 22: a 3D deep decoder on the brain volume vs 2D decoders slice by slice."""
    from .volume import volume_case

    return volume_case()


CPU_CASES: dict[str, Callable[[], Row | list[Row]]] = {
    "cpu64": cpu64,
    "cpu64-compiled": lambda: cpu64("camera", "-compiled"),
    "cpu64-plateau": cpu64_plateau,
    "images": images,
    "images-untuned": images_untuned,
    "images-ensembles": images_ensembles,
    "images-ensembles-untuned": images_ensembles_untuned,
    "images-ensemble-seeds": images_ensemble_seeds,
    "batched-two-layer": batched_two_layer,
    "batched-deep-decoder": batched_deep_decoder,
    "memory512": memory512,
    "colour": colour,
    "inverse": inverse,
    "ensemble-default": ensemble_default,
    "ensemble-default-tuned": ensemble_default_tuned,
    "ensemble-default-untuned": ensemble_default_untuned,
    "volume": volume,
}
GPU_CASES: dict[str, Callable[[], Row | list[Row]]] = {
    "gpu256": gpu256,
    "gpu256-tf32": lambda: gpu256("-tf32"),
    "gpu64": gpu64,
    "gpu64-tf32": lambda: gpu64("-tf32"),
    "gpu64-compiled": lambda: gpu64("-compiled"),
    "gpu256-compiled": lambda: gpu256("-compiled"),
    "batched-two-layer-gpu": lambda: batched_two_layer("cuda"),
    "batched-deep-decoder-gpu": lambda: batched_deep_decoder("cuda"),
    "memory1024-gpu": lambda: memory512("cuda"),
}


def run_case(name: str) -> list[Row]:
    """Run one case by name; GPU cases without CUDA return a row saying so."""
    if name in GPU_CASES and not torch.cuda.is_available():
        return [{"case": name, "device": "none", "skipped": "no CUDA device on this machine"}]
    fn = {**CPU_CASES, **GPU_CASES}[name]
    out = fn()
    return out if isinstance(out, list) else [out]
