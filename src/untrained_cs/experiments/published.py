"""The authors' published numbers: a few values computed from their data files, each with
its source, on which the claims' thresholds are calibrated.

The authors published the curves behind Figures 1 and 5 as text files in their repository
MLI-lab/cs_deep_decoder. The files are not copied here; only the few numbers the claims
compare are transcribed, each as a :class:`Published` that says which file (and commit),
which rows and columns, and how the number was computed from them.

What the files hold (read from the notebooks that write them):

* ``CS_convergence_MRI.dat`` (written by ``MRI_multicoil_deep_decoder_accelerate.ipynb``
  and ``include/fit.py``): 4 columns, about 1000 rows at geometrically spaced iterations of
  one 100 000-iteration Adam run (lr 0.0025): the iteration (twice), the training loss (the
  MSE of the masked k-space), and ``||RSS reference − RSS estimate||₂`` against the fully
  sampled RSS image (``MRI_multicoil_reference`` in ``fit``): a norm, so a ratio of two of
  its values is 20·log₁₀ in dB.
* ``CS_convergence_art.dat``, ``CS_convergence_grass.dat``, ``CS_convergence.dat``
  (``compressive_sensing_example_convergence.ipynb``, ``savemtx_for_logplot``): the same
  layout; the third column is the training loss, the fourth the per-pixel MSE of the image
  (``mse_wrt_truth``): a ratio of two of its values is 10·log₁₀ in dB. The notebook as
  saved wrote ``_art`` (``img_name = "art"``); its forward model cell (a Gaussian A, m =
  n/4) is followed by a cell that redefines it as a random mask keeping each pixel with
  probability 1/3, so the saved run is random-mask inpainting, not Gaussian compressive
  sensing. ``CS_convergence.dat`` and ``_grass`` come from runs the saved notebook does not
  show; which measurement they used is not recorded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

REPO = "MLI-lab/cs_deep_decoder"
#: the commit of CS_convergence_MRI.dat and MRI_multicoil_deep_decoder_accelerate.ipynb
MRI_COMMIT = "e452fd44d7fb074c65017b960bd57589833e0cf4"
#: the commit of the CS_convergence*.dat files and compressive_sensing_example_convergence.ipynb
CS_COMMIT = "7073928aed700177edc5cbc9b7b6fcd4bf5c3839"


@dataclass(frozen=True)
class Published:
    """One number computed from the authors' published data, with where it comes from."""

    value: float
    unit: str
    file: str
    commit: str
    how: str
    repo: str = REPO

    def short(self, digits: int = 2) -> str:
        """The value and its file, for a claims row's ``published`` column."""
        return f"{self.value:.{digits}f}{self.unit} ({self.file})"

    def source(self) -> str:
        return f"{self.repo}/{self.file} @ {self.commit[:7]}: {self.how}"


def norm_db(a: float, b: float) -> float:
    """20·log₁₀(a / b): the dB ratio of two error norms."""
    return 20.0 * math.log10(a / b)


def mse_db(a: float, b: float) -> float:
    """10·log₁₀(a / b): the dB ratio of two mean squared errors."""
    return 10.0 * math.log10(a / b)


# --- Figure 5: CS_convergence_MRI.dat, column 4 = ||RSS ref − RSS estimate||₂ -------------
#: the smallest error of the run: 110.32496 at iteration 26 571
MRI_BEST = (26_571, 110.3249571040485222)
#: the last row: 131.83014 at iteration 99 998
MRI_FINAL = (99_998, 131.8301444278659744)
#: the last row at or before 2000 iterations: 130.57415 at iteration 1987
MRI_AT_2000 = (1_987, 130.5741546199101037)
#: the rows within a factor 1.1 of 2000 iterations (1818.2 … 2200: rows 1833 … 2179), column 4
MRI_ABOUT_2000 = (
    (1_833, 132.6881802002707786),
    (1_854, 130.3753004323834830), (1_876, 132.3432921382369898),
    (1_897, 130.3343297603751125), (1_919, 130.8573108333004598),
    (1_942, 136.9546550513487659), (1_964, 130.2187059385710484),
    (1_987, 130.5741546199101037), (2_010, 141.7541825413135825),
    (2_033, 130.1361497962608098), (2_057, 132.8757243650143209),
    (2_081, 129.0025916096522849), (2_105, 130.2485256359488517),
    (2_129, 128.6471946437360145), (2_154, 129.3720722150385427),
    (2_179, 128.8310196720870522),
)  # fmt: skip


def _median(values: list[float]) -> float:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


_ABOUT_DB = [norm_db(MRI_FINAL[1], v) for _, v in MRI_ABOUT_2000]
_ABOUT_MEDIAN_DB = _median(_ABOUT_DB)

FIG5_BEST_GAP = Published(
    norm_db(MRI_FINAL[1], MRI_BEST[1]), " dB", "CS_convergence_MRI.dat", MRI_COMMIT,
    "20·log10(final / smallest) of column 4 (the RSS error norm): 131.830 at iteration "
    "99 998 vs 110.325 at 26 571",
)  # fmt: skip
FIG5_AT_2000 = Published(
    norm_db(MRI_FINAL[1], MRI_AT_2000[1]), " dB", "CS_convergence_MRI.dat", MRI_COMMIT,
    "20·log10(final / value at the last row <= 2000) of column 4: 131.830 vs 130.574 at "
    "iteration 1987",
)  # fmt: skip
FIG5_ABOUT_2000 = Published(
    _ABOUT_MEDIAN_DB, " dB", "CS_convergence_MRI.dat", MRI_COMMIT,
    "median over the 16 rows at iterations 1833…2179 (within 2000 / 1.1 … 2000·1.1) of "
    "20·log10(final / row) of column 4; the rows range from −0.63 to +0.21 dB",
)  # fmt: skip
FIG5_SCATTER_2000 = Published(
    _median([abs(d - _ABOUT_MEDIAN_DB) for d in _ABOUT_DB]), " dB", "CS_convergence_MRI.dat",
    MRI_COMMIT, "median absolute deviation of the 16 rows' dB values around their median "
    "(iterations 1833…2179): how much the curve scatters about 2000 iterations",
)  # fmt: skip
#: the notebook's decoder (cell 5's printout): 11 bias-free 1x1 convolutions 384→384 (10
#: followed by an upsampling, one without), a 1x1 head 384→30, and 11 affine batch norms
FIG5_PARAMETERS = 11 * 384 * 384 + 384 * 30 + 11 * 2 * 384


# --- Figure 1: CS_convergence*.dat, column 4 = per-pixel MSE ------------------------------
@dataclass(frozen=True)
class Curve:
    """The smallest and the last value of one file's error column (and its last training
    loss, column 3)."""

    file: str
    best: tuple[int, float]
    final: tuple[int, float]
    final_loss: float
    note: str = ""

    @property
    def gap_db(self) -> float:
        return mse_db(self.final[1], self.best[1])


FIG1_CURVES = (
    Curve("CS_convergence.dat", (31_586, 4.869540221989154816e-03),
          (99_998, 4.960538819432258606e-03), 2.970977766381110996e-05),
    Curve("CS_convergence_art.dat", (52_446, 1.712915371172130108e-03),
          (99_998, 1.789694651961326599e-03), 2.891974872909486294e-07,
          "the saved notebook run: random-mask inpainting"),
    Curve("CS_convergence_grass.dat", (86_085, 1.243568770587444305e-02),
          (99_998, 1.338175125420093536e-02), 4.118492652196437120e-04,
          "its last row is a spike (one row earlier: 1.2485e-2, a 0.02 dB gap; training "
          "loss 3.2e-7)"),
)  # fmt: skip
FIG1_WORST_GAP = Published(
    max(c.gap_db for c in FIG1_CURVES), " dB", "CS_convergence_grass.dat", CS_COMMIT,
    "10·log10(final / smallest) of column 4 (per-pixel MSE), the largest of the three "
    "files: " + ", ".join(f"{c.file} {c.gap_db:.2f} dB" for c in FIG1_CURVES),
)  # fmt: skip
FIG1_SMOOTH_OVER_GRASS = Published(
    FIG1_CURVES[1].final[1] / FIG1_CURVES[2].final[1], "", "CS_convergence_art.dat",
    CS_COMMIT, "final column 4 (per-pixel MSE) of _art.dat over _grass.dat: 1.790e-3 / "
    "1.338e-2 (CS_convergence.dat over _grass.dat: 0.37)",
)  # fmt: skip


def fig5_published() -> dict[str, Published]:
    """Figure 5's published numbers by the row they calibrate."""
    return {"best_gap": FIG5_BEST_GAP, "at_2000": FIG5_AT_2000,
            "about_2000": FIG5_ABOUT_2000, "scatter_2000": FIG5_SCATTER_2000}  # fmt: skip
