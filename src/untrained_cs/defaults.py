"""Every default setting of a fit, written once, with its source; parsers and help read these.

Keyed by the kind of problem (``image``: a CS image, ``smooth``: a p-smooth 1D signal,
``mri``: multi-coil k-space) and the generator. A value of None for ``lr`` means the
optimiser's own rule (GD: the step 1/L from the Lipschitz estimate; the two-layer generator
under GD: Theorem 3's step).
"""

from __future__ import annotations

from typing import Any

#: Adam's learning rate in the paper's experiments (Sec. 5, Figure 1: "Adam, lr 0.005").
ADAM_LR = 0.005
#: the iteration cap of "until convergence" when a problem kind names none
MAX_ITERS = 20000

FIT_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    # CS images: the paper's 5-layer deep decoder (Sec. 5); k = 64 keeps a 64² fit CPU-sized.
    "image": {
        "deep-decoder": {"channels": 64, "layers": 5, "lr": ADAM_LR, "max_iters": 10000},
        "dip": {"channels": None, "layers": None, "lr": ADAM_LR, "max_iters": 10000},
        "two-layer": {"channels": 128, "layers": None, "lr": None, "max_iters": 10000},
    },
    # p-smooth signals: the two-layer generator of Theorems 2/3 (GD, Theorem 3's step) and a
    # 1D deep decoder.
    "smooth": {
        "deep-decoder": {"channels": 64, "layers": 4, "lr": ADAM_LR, "max_iters": 10000},
        "two-layer": {"channels": 128, "layers": None, "lr": None, "max_iters": 3000},
    },
    # MRI: 5 x 32 deep decoder, Adam 0.05, 3000 iterations: sized for a few CPU minutes on the
    # default 256² slice (bench/RESULTS.md); the paper's Figure 5 network is far wider.
    "mri": {
        "deep-decoder": {"channels": 32, "layers": 5, "lr": 0.05, "max_iters": 3000},
        "dip": {"channels": None, "layers": None, "lr": 0.05, "max_iters": 3000},
    },
}


def fit_defaults(problem_kind: str, generator: str) -> dict[str, Any]:
    """The defaults of ``generator`` on problems of ``problem_kind`` (a ``ValueError`` when
    that generator is not offered for that kind)."""
    kinds = FIT_DEFAULTS.get(problem_kind)
    if kinds is None:
        raise ValueError(f"unknown problem kind {problem_kind!r}")
    if generator not in kinds:
        raise ValueError(
            f"generator {generator!r} is not offered for {problem_kind} problems; "
            f"choose from {', '.join(kinds)}"
        )
    return dict(kinds[generator])
