"""Every default setting of a fit, written once, with its source; parsers and help read these.

Keyed by the kind of problem (``image``: a CS image, ``smooth``: a p-smooth 1D signal,
``mri``: multi-coil k-space) and the generator. A value of None for ``lr`` means the
optimiser's own rule (:func:`optimizer_lr`; GD: the step 1/L from the Lipschitz estimate;
the two-layer generator under GD: Theorem 3's step). :func:`fit_defaults` decides a fit's
default rate and schedule from these tables; the fit engine (:mod:`untrained_cs.fit.schedule`)
takes :func:`optimizer_lr` when it is given no rate.
"""

from __future__ import annotations

from typing import Any

#: Adam's learning rate in the paper's experiments (Sec. 5, Figure 1: "Adam, lr 0.005").
ADAM_LR = 0.005
#: the iteration cap of "until convergence" when a problem kind names none
MAX_ITERS = 20000
#: the share of the measurement entries a hold-out rule keeps out (the fit's hold-out stop
#: and the solvers' hold-out weight choice; project choice)
HOLDOUT_FRACTION = 0.1

#: The learning-rate schedules of a fit, as fit settings (fields of
#: :class:`~untrained_cs.fit.schedule.Schedule`):
#: - ``plateau``: halve the rate when the loss stalls (the rule's own defaults);
#: - ``decay``: a linear warm-up over 100 iterations, then a halving every 300, no plateau
#:   cuts; chosen for 64² CS images by the schedule search on camera, grass, brick and moon
#:   at m = n/4 and n/10 (``python -m bench.schedules``, bench/RESULTS.md);
#: - ``hold``: the peak rate for 800 iterations, then a halving every 40 until 1/100 of it,
#:   where the fit stops (``annealed``, after 1100 iterations); chosen for the MRI default on
#:   the embedded 256² slice at 8x (bench/RESULTS.md, issue 23 item 6), where the plateau
#:   rule ran into its 3000-iteration cap;
#: - ``constant``: the rate never changes (GD's step; the paper's algorithm).
SCHEDULES: dict[str, dict[str, Any]] = {
    "plateau": {},
    "decay": {"warmup": 100, "half_life": 300, "plateau": False},
    "hold": {"hold": 800, "half_life": 40, "min_lr_ratio": 0.01, "plateau": False},
    "constant": {"plateau": False},
}
#: the schedule of a problem kind and generator that names none (GD: ``constant``)
DEFAULT_SCHEDULE = "plateau"

FIT_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    # CS images: the paper's 5-layer deep decoder (Sec. 5); k = 64 keeps a 64² fit CPU-sized.
    # Adam peaks at 0.05 under the decay schedule (the schedule search, bench/RESULTS.md);
    # `--recipe published` keeps the paper's constant 0.005.
    "image": {
        "deep-decoder": {
            "channels": 64,
            "layers": 5,
            "lr": 0.05,
            "max_iters": 10000,
            "schedule": "decay",
        },
        "dip": {"channels": None, "layers": None, "lr": ADAM_LR, "max_iters": 10000},
        "two-layer": {"channels": 128, "layers": None, "lr": None, "max_iters": 10000},
    },
    # p-smooth signals: the two-layer generator of Theorems 2/3 (GD, Theorem 3's step) and a
    # 1D deep decoder.
    "smooth": {
        "deep-decoder": {"channels": 64, "layers": 4, "lr": ADAM_LR, "max_iters": 10000},
        "two-layer": {"channels": 128, "layers": None, "lr": None, "max_iters": 3000},
    },
    # Volumes [1, D, H, W]: the 3D deep decoder (trilinear upsampling), the image schedule
    # (Adam peaking at 0.05, decay). On the bundled brain at 64x64x10, m = n/4 structured,
    # k = 32 beat k = 64 at a quarter of the cost per iteration (28.6 vs 28.1 dB after 1500
    # iterations, ~0.09 vs ~0.15 s each on one CPU thread) and gains < 0.1 dB after 2000
    # iterations (the decay schedule's rate is then 1/64 of its peak): a few CPU minutes.
    "volume": {
        "deep-decoder": {
            "channels": 32,
            "layers": 5,
            "lr": 0.05,
            "max_iters": 2000,
            "schedule": "decay",
        },
    },
    # MRI: 5 x 32 deep decoder, Adam 0.05 held then annealed (the ``hold`` schedule): sized
    # for a first result soon on a CPU for the default 256² slice (times in
    # bench/RESULTS.md); the cap is never reached. The paper's Figure 5 network is far wider.
    # A TV term of 1e-2 x max|A^T y| in the loss: of 0, 1e-3, 3e-3 and 1e-2, the weight with
    # the highest mean PSNR over the 256² slice and the 64² volume at 4x and 8x (random and
    # equispaced), the only one above zero-filling in every cell (bench/RESULTS.md, "a TV
    # term in the MRI fit"). GD and the published recipe fit the paper's loss.
    "mri": {
        "deep-decoder": {
            "channels": 32,
            "layers": 5,
            "lr": 0.05,
            "max_iters": 3000,
            "schedule": "hold",
            "tv_weight": 1e-2,
        },
        "dip": {"channels": None, "layers": None, "lr": 0.05, "max_iters": 3000},
    },
}


def optimizer_lr(optimizer: str) -> float | None:
    """The learning rate of ``optimizer`` where nothing else names one: Adam's
    :data:`ADAM_LR`; None for GD, whose step is 1/L from the Lipschitz estimate at the
    initialisation (:func:`~untrained_cs.fit.step_size.gd_step_size`)."""
    return ADAM_LR if optimizer == "adam" else None


def fit_defaults(
    problem_kind: str,
    generator: str,
    optimizer: str = "adam",
    recipe: str = "project",
    schedule: str | None = None,
) -> dict[str, Any]:
    """The defaults of ``generator`` on problems of ``problem_kind``, for a fit with
    ``optimizer``, ``recipe`` and ``schedule`` (None: the kind's).

    GD and the published recipe run the ``constant`` schedule at the optimiser's own rate
    (:func:`optimizer_lr`); a schedule other than the kind's starts from that rate too
    (the kind's rate was measured with its own schedule only).

    Returns:
        ``channels``, ``layers``, ``lr`` (None: the optimiser's own rule), ``max_iters``,
        ``schedule`` (a key of :data:`SCHEDULES`), and ``tv_weight`` where the kind adds a
        TV term to the loss (never under GD or the published recipe).

    Raises:
        ValueError: when that generator is not offered for that kind.
    """
    kinds = FIT_DEFAULTS.get(problem_kind)
    if kinds is None:
        raise ValueError(f"unknown problem kind {problem_kind!r}")
    if generator not in kinds:
        raise ValueError(
            f"generator {generator!r} is not offered for {problem_kind} problems; "
            f"choose from {', '.join(kinds)}"
        )
    d = {"schedule": DEFAULT_SCHEDULE, **kinds[generator]}
    if optimizer == "gd" or recipe == "published":
        d["schedule"], d["lr"] = "constant", optimizer_lr(optimizer)
        d.pop("tv_weight", None)  # the paper's loss
    elif schedule not in (None, d["schedule"]):
        d["lr"] = optimizer_lr(optimizer)
    return d
