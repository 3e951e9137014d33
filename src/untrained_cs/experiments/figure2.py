"""Figure 2: trigonometric basis functions (eq 10) in the order the paper's figure shows.

The figure plots "the 1st, 2nd, 6th, and 21st" functions: counted in the order in which the
singular vectors of a circulant matrix come out — the constant, then cosine/sine pairs of
rising frequency (:func:`~untrained_cs.theory.basis.trig_basis`'s columns) — that is the
constant and the frequencies 1, 3 and 10, not eq (10)'s functions i = 1, 2, 6, 21.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..theory.basis import (
    energy_spectrum,
    frequencies,
    orthonormality_error,
    paper_index_column,
    smooth_signal,
    trig_basis,
)
from .claims import Claim, check
from .experiment import Experiment, Tool, check_fields, setting

TITLE = "Figure 2: trigonometric basis functions"
#: frequencies of positions 1, 2, 6, 21 in singular-vector order (constant, then pairs)
PAPER_FREQUENCIES = [0, 1, 3, 10]


@dataclass(frozen=True)
class Figure2Settings:
    """Settings of Figure 2 (`untrained-cs theory basis`, `reproduce fig2`)."""

    n: int = setting(300, "signal length", "Figure 2's caption: 'in dimension n = 300'", low=1)
    functions: tuple[int, ...] = setting(
        (1, 2, 6, 21),
        "positions plotted in [1, n] (1-based, singular-vector order: the constant, then "
        "cos/sin pairs of rising frequency)",
        "Figure 2's caption: 'the 1st, 2nd, 6th, and 21st' (the constant and the "
        "frequencies 1, 3, 10)",
        low=1,
    )
    p: int = setting(10, "smoothness of the example signal (Section 1's p-smooth x*)", low=1)

    def __post_init__(self) -> None:
        check_fields(self)
        bad = [q for q in self.functions if not 1 <= q <= self.n]
        if bad:
            raise ValueError(f"functions must lie in [1, {self.n}], got {bad}")
        if self.p > self.n:
            raise ValueError(f"p must be <= n = {self.n}, got {self.p}")


def data(settings: Figure2Settings, seed: int = 0) -> dict[str, Any]:
    """The basis functions at the 1-based positions (see module docstring), a p-smooth example.

    Returns:
        ``functions`` ([len(positions)] lists of n values), ``positions``, ``frequencies``
        (of each), ``eq10_indices`` (the same function's number i in eq (10)),
        ``orthonormality_error`` (max |WᵀW − I|), ``smooth`` (a seeded unit-norm p-smooth
        signal) and its ``energy`` per basis column.
    """
    n, p = settings.n, settings.p
    basis = trig_basis(n)
    cols = [int(q) - 1 for q in settings.functions]
    x = smooth_signal(n, p, seed)
    return {
        "n": n,
        "positions": [int(q) for q in settings.functions],
        "frequencies": [int(frequencies(n)[c]) for c in cols],
        "eq10_indices": [_eq10_index(c, n) for c in cols],
        "functions": basis[:, cols].T.tolist(),
        "orthonormality_error": orthonormality_error(trig_basis(n)),
        "p": p,
        "seed": seed,
        "smooth": x.tolist(),
        "energy": energy_spectrum(x).tolist(),
    }


def _eq10_index(column: int, n: int) -> int:
    """The eq (10) number i of the function in ``trig_basis(n)``'s ``column`` (up to sign)."""
    return next(i for i in range(n) if paper_index_column(i, n)[0] == column)


def plot(data: dict[str, Any], folder: Path) -> list[str]:
    """Figure 2's picture in ``folder``."""
    draw(folder / "fig2.png", data)
    return ["fig2.png"]


def draw(path: Path, data: dict[str, Any]) -> None:
    """The basis functions and the example's energy (:func:`untrained_cs.plots.theory.figure2`)."""
    from ..plots.theory import figure2

    figure2(path, data)


def claims(data: dict[str, Any]) -> list[Claim]:
    """Orthonormality, and which functions the figure shows."""
    err = data["orthonormality_error"]
    freqs = data["frequencies"]
    paper_order = data["positions"] == [1, 2, 6, 21]
    shown = "/".join(str(f) for f in freqs)
    eq10 = "/".join(str(i) for i in data["eq10_indices"])
    return [
        check(
            "the trigonometric functions w_1, ..., w_n of eq (10) are an orthonormal basis",
            err,
            err < 1e-10,
            f"max |WᵀW − I| = {err:.1e} at n = {data['n']}",
        ),  # fmt: skip
        check(
            "Figure 2 shows the 1st, 2nd, 6th and 21st trigonometric basis functions",
            shown,
            paper_order and freqs == PAPER_FREQUENCIES,
            f"counted in singular-vector order (the constant, then cos/sin pairs) they have "
            f"frequencies {shown}; in eq (10)'s numbering they are i = {eq10}",
        ),
    ]


def summary(settings: Figure2Settings, data: dict[str, Any]) -> str:
    """The tool's one line."""
    return f"basis n={settings.n}: orthonormality error {data['orthonormality_error']:.2e}"


def memory(settings: Figure2Settings) -> dict[str, int]:
    """The dense float64 basis matrices held at once."""
    return {"basis matrix": 3 * 8 * settings.n**2}


TOOL = Tool(
    help="Figure 2: basis functions (eq 10) and a p-smooth signal",
    settings_type=Figure2Settings, data=data, plot=draw, summary=summary, memory=memory,
)  # fmt: skip
#: the paper's own setting costs milliseconds, so every scale runs it
SETTINGS = {"smoke": Figure2Settings(), "cpu": Figure2Settings(), "paper": Figure2Settings()}
EXPERIMENT = Experiment(TITLE, Figure2Settings, SETTINGS, data, plot, claims, tool=TOOL)
