"""The colour case (issue 22): RGB images at 64², m = n/4 Gaussian on all 3·64·64 entries.

Each image (chelsea, coffee, astronaut; root seed 0) is loaded in colour by the library
(``ImageSignal(image, 64, channels=None)``: truth ``[3, 64, 64]``), and fitted by both
sides, each in its own process, on the same matrix: the reference recipe (the published
Adam loop, bench/reference.py, with a 3-channel output, 4000 iterations) and the project's
fit through ``pipeline.run`` with its defaults (nothing set: the CLI's settings for a CS
image). Other keys of :data:`SETTINGS` would change the project side only; the row names
the settings it ran with.
"""

from __future__ import annotations

from typing import Any

from . import sides
from .harness import first_time_reaching, isolated, ratio

COLOUR_IMAGES = ("chelsea", "coffee", "astronaut")
REFERENCE_ITERS = 4000
#: the reference recipe's decoder (the grey cases' yardstick: k = 64, 5 layers)
REFERENCE_NET = {"channels": 64, "layers": 5}
#: project settings compared on the colour images ("": the library's defaults, None each)
SETTINGS: dict[str, dict[str, Any]] = {
    "": {"channels": None, "layers": None, "max_iters": None},
}
# reference runs made in this process (cases of several settings run each image's once)
_REFERENCE_RUNS: dict[tuple, dict[str, Any]] = {}


def colour_row(image: str, settings: str = "", seed: int = 0) -> dict[str, Any]:
    """One image's row: both sides' PSNR, iterations, wall time and ms per iteration."""
    common = {"image": image, "size": 64, "ratio": 0.25, "seed": seed, "device": "cpu",
              "image_channels": None}  # fmt: skip
    key = (image, seed)
    if key not in _REFERENCE_RUNS:
        _REFERENCE_RUNS[key] = isolated(sides.reference_image_fit, iters=REFERENCE_ITERS,
                                        **REFERENCE_NET, **common)  # fmt: skip
    ref = _REFERENCE_RUNS[key]
    ours = isolated(sides.project_image_fit, **SETTINGS[settings], **common)
    reached = first_time_reaching(ours["times"], ours["psnrs"], ref["psnr"])
    return {
        "case": f"colour{settings}-{image}",
        "device": ours["device"],
        "image": image,
        "shape": [3, 64, 64],
        "m": 3 * 64 * 64 // 4,
        "seed": seed,
        "project_settings": ours["settings"],
        "reference_ms_per_iter": round(ref["ms_per_iter"], 3),
        "project_ms_per_iter": round(ours["ms_per_iter"], 3),
        "speedup_per_iter": ratio(ref["ms_per_iter"], ours["ms_per_iter"]),
        "reference_iterations": REFERENCE_ITERS,
        "reference_seconds": round(ref["seconds"], 2),
        "reference_psnr": round(ref["psnr"], 2),
        "project_iterations": ours["iterations"],
        "project_stop_reason": ours["stop_reason"],
        "project_seconds": round(ours["seconds"], 2),
        "project_psnr": round(ours["psnr"], 2),
        "project_at_or_above_reference": ours["psnr"] >= ref["psnr"],
        "project_seconds_to_reference_psnr": None if reached is None else round(reached, 2),
        "time_to_target_speedup": ratio(ref["seconds"], reached),
        "reference_peak_mem_mb": round(ref["peak_mem_mb"], 1),
        "peak_mem_mb": round(ours["peak_mem_mb"], 1),
    }


def colour(settings: str = "") -> list[dict[str, Any]]:
    """Colour images (chelsea, coffee, astronaut), 64², m = n/4, reference vs defaults.

    n = 3·64² (the Gaussian acts on every channel's entries); one row per image.
    """
    return [colour_row(image, settings) for image in COLOUR_IMAGES]
