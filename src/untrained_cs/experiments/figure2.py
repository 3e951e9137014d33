"""Figure 2: trigonometric basis functions (eq 10) in the order the paper's figure shows.

The figure plots "the 1st, 2nd, 6th, and 21st" functions: counted in the order in which the
singular vectors of a circulant matrix come out — the constant, then cosine/sine pairs of
rising frequency (:func:`~untrained_cs.theory.basis.trig_basis`'s columns) — that is the
constant and the frequencies 1, 3 and 10, not eq (10)'s functions i = 1, 2, 6, 21.

That is how the authors' code counts them: the only code of theirs that draws these
functions, the last cell of kernels_and_associated_dual_kernels.ipynb (MLI-lab/
overparameterized_convolutional_generators @ e49410b; MLI-lab/cs_deep_decoder has none),
takes the left singular vectors W of the circulant matrix of the kernel 0, 1, …, 299 at
n = 300 and writes −W[:, [0, 1, 5, 20]] to circulant_singular_vectors.dat. ``--setting
text`` reads the caption with eq (10)'s numbering instead (``numbering``); the code's
vectors are numerical singular vectors (a pair of equal singular values may come out as any
rotation of its cos/sin pair), drawn here as eq (10)'s cos/sin columns in both settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..theory.basis import (
    energy_spectrum,
    frequencies,
    orthonormality_error,
    paper_index_column,
    smooth_signal,
    trig_basis,
)
from .claims import Claim, check
from .experiment import Experiment, Tool, check_fields, setting, take_text_values

TITLE = "Figure 2: trigonometric basis functions"
#: frequencies of positions 1, 2, 6, 21 in singular-vector order (constant, then pairs):
#: what the published figure shows (the authors' code counts so)
PAPER_FREQUENCIES = [0, 1, 3, 10]
#: where the caption and the authors' code differ: how "the 1st, 2nd, 6th, and 21st" count
TEXT_VALUES: dict[str, Any] = {"numbering": "eq10"}
CODE_VALUES: dict[str, Any] = {"numbering": "singular"}
CODE = (
    "kernels_and_associated_dual_kernels.ipynb, last cell "
    "(MLI-lab/overparameterized_convolutional_generators @ e49410b)"
)


@dataclass(frozen=True)
class Figure2Settings:
    """Settings of Figure 2 (`untrained-cs theory basis`, `reproduce fig2`)."""

    n: int = setting(300, "signal length", "Figure 2's caption: 'in dimension n = 300'", low=1)
    functions: tuple[int, ...] = setting(
        (1, 2, 6, 21),
        "the functions plotted, counted as numbering says",
        "Figure 2's caption: 'the 1st, 2nd, 6th, and 21st'",
        low=0,
    )
    numbering: str = setting(
        "singular", "how functions count: singular (positions in [1, n] in the order a "
        "circulant matrix's singular vectors come out: the constant, then cos/sin pairs of "
        "rising frequency) or eq10 (eq (10)'s index i in [0, n))",
        f"code: {CODE}, −W[:, [0, 1, 5, 20]] (the constant and the frequencies 1, 3, 10); "
        "text: the caption with eq (10)'s numbering, w_1, w_2, w_6, w_21 (cosines of "
        "frequency 1, 2, 6, 21)", choices=("singular", "eq10"),
    )  # fmt: skip
    p: int = setting(10, "smoothness of the example signal (Section 1's p-smooth x*)", low=1)
    # declared last: the field's name shadows the function ``setting`` in the class body
    setting: str = setting(
        "code", "where the caption and the authors' code differ, whose values to take: code "
        "(the code that drew the figure) or text (the caption with eq (10))",
        f"code: {CODE}; text: Figure 2's caption and eq (10)", choices=("text", "code"),
        reproduce=True,
    )  # fmt: skip

    def __post_init__(self) -> None:
        take_text_values(self, TEXT_VALUES, CODE_VALUES)
        check_fields(self)
        low, high = (0, self.n - 1) if self.numbering == "eq10" else (1, self.n)
        bad = [q for q in self.functions if not low <= q <= high]
        if bad:
            raise ValueError(f"functions ({self.numbering}) must lie in [{low}, {high}], "
                             f"got {bad}")  # fmt: skip
        if self.p > self.n:
            raise ValueError(f"p must be <= n = {self.n}, got {self.p}")


def data(settings: Figure2Settings, seed: int = 0) -> dict[str, Any]:
    """The basis functions ``functions`` counted by ``numbering`` (see the module docstring),
    and a p-smooth example.

    Returns:
        ``functions`` ([len(positions)] lists of n values), ``positions`` (the settings'
        numbers), ``numbering``, ``setting``, ``frequencies`` (of each), ``eq10_indices``
        (the same function's number i in eq (10), up to sign), ``orthonormality_error``
        (max |WᵀW − I|), ``smooth`` (a seeded unit-norm p-smooth signal) and its
        ``energy`` per basis column.
    """
    n, p = settings.n, settings.p
    basis = trig_basis(n)
    if settings.numbering == "eq10":
        placed = [paper_index_column(int(i), n) for i in settings.functions]
    else:
        placed = [(int(q) - 1, 1.0) for q in settings.functions]
    cols, signs = [c for c, _ in placed], [sign for _, sign in placed]
    x = smooth_signal(n, p, seed)
    return {
        "n": n,
        "positions": [int(q) for q in settings.functions],
        "numbering": settings.numbering,
        "setting": settings.setting,
        "frequencies": [int(frequencies(n)[c]) for c in cols],
        "eq10_indices": [_eq10_index(c, n) for c in cols],
        "functions": (basis[:, cols] * torch.tensor(signs, dtype=basis.dtype)).T.tolist(),
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
    counted = ("by eq (10)'s index i" if data.get("numbering") == "eq10" else
               "in singular-vector order (the constant, then cos/sin pairs)")  # fmt: skip
    published = "/".join(str(f) for f in PAPER_FREQUENCIES)
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
            f"counted {counted} they have frequencies {shown}; in eq (10)'s numbering they "
            f"are i = {eq10}; the published figure (the authors' code) shows frequencies "
            f"{published}",
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
