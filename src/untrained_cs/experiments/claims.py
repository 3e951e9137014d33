"""What every reproduced experiment shares: its claims rows, its scales and its cost.

An experiment (:class:`~untrained_cs.experiments.experiment.Experiment`) checks the
paper's statements against its measured numbers as :class:`Claim` rows (:func:`check`),
holds one settings object per scale of :data:`SCALES`, and may estimate its time and memory
as a :class:`Cost`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

SCALES = ("smoke", "cpu", "paper")
HOLDS, FAILS, NOT_COMPARABLE = "holds", "does not hold", "not comparable"
VERDICTS = (HOLDS, FAILS, NOT_COMPARABLE)
#: whose statement a row checks: the paper's, or one this project adds
PAPER, PROJECT_CHECK = "paper", "project check"
KINDS = (PAPER, PROJECT_CHECK)


@dataclass(frozen=True)
class Claim:
    """One row of an experiment's claims table.

    ``claim`` is the paper's statement (its words where it has them), ``paper`` the number
    the paper gives ("" when it gives none), ``measured`` what this run measured (a number,
    or a short text such as "0.87 / 0.89"), ``verdict`` one of :data:`VERDICTS` and
    ``reason`` one line saying why. ``published`` is the same quantity computed from the
    authors' published data files, with its source ("" where they published none), on
    which the row's threshold is calibrated; ``kind`` says whether the row checks the
    paper's statement or is a check this project adds (:data:`KINDS`).
    """

    claim: str
    paper: str
    measured: float | int | str | None
    verdict: str
    reason: str
    published: str = ""
    kind: str = PAPER

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        m = d["measured"]
        if isinstance(m, float) and not math.isfinite(m):
            d["measured"] = None
        return d


def check(
    claim: str,
    measured: float | int | str | None,
    holds: bool,
    reason: str,
    paper: str = "",
    *,
    published: str = "",
    kind: str = PAPER,
) -> Claim:
    """A claim row whose verdict is ``holds`` or ``does not hold`` by the test ``holds``
    (``published``, ``kind``: see :class:`Claim`).

    A measured value that is missing or not finite makes the row ``not comparable``.
    """
    missing = measured is None or (isinstance(measured, float) and not math.isfinite(measured))
    if missing:
        return Claim(claim, paper, None, NOT_COMPARABLE, f"no finite measurement; {reason}",
                     published, kind)  # fmt: skip
    return Claim(claim, paper, measured, HOLDS if holds else FAILS, reason, published, kind)


def settings_dict(settings: Any) -> dict[str, Any]:
    """A settings dataclass as a JSON-safe dict (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()}


@dataclass(frozen=True)
class Cost:
    """What one experiment at one scale is expected to take on the device it would run on.

    ``seconds`` comes from timing a short probe of the real workload (a few iterations of
    its largest fit) scaled by the iteration counts; ``bytes`` is the peak memory estimate;
    ``basis`` says in one line how both were obtained.
    """

    seconds: float
    bytes: int
    basis: str
