"""Pictures (matplotlib, Agg backend: no display needed).

:mod:`.run` draws the run-folder pictures (images, comparisons, curves); :mod:`.theory`
the theory figures (Figures 2–4, the theorem curves).
"""

from . import run, theory
from .run import comparison, curves, save_image, signals, to_display
from .theory import figure2, figure3, figure4, theorem1, theorem2, theorem_curve, weights

__all__ = [
    "comparison",
    "curves",
    "figure2",
    "figure3",
    "figure4",
    "run",
    "save_image",
    "signals",
    "theorem1",
    "theorem2",
    "theorem_curve",
    "theory",
    "to_display",
    "weights",
]
