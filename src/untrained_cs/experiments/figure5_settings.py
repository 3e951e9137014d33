"""Figure 5's settings: one set per scale, each value with its source (the paper's text,
the authors' final notebook, or this project's choice), and the values where the text and
the notebook differ (``setting``: ``"code"``, the default, or ``"text"``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..methods import RECIPES
from ..mri.problem import COIL_PEAK
from .experiment import check_fields, setting, take_text_values

#: where the paper's text and the authors' final notebook differ: the value each gives
#: (``setting``); a scale that sets its own value keeps it
TEXT_VALUES: dict[str, Any] = {"layers": 5, "input_side": None}
CODE_VALUES: dict[str, Any] = {"layers": 11, "input_side": 16}


@dataclass(frozen=True)
class Figure5Settings:
    """Settings of Figure 5 (`untrained-cs reproduce fig5`); each field's source in its
    metadata. A k-space file brings its own size: giving ``kspace`` sets ``size`` to None."""

    kspace: str | None = setting(
        None, "a fastMRI .h5 file instead of the simulated slice",
        "Section 5: fastMRI multi-coil k-space (the notebook: file1000190, 15 coils); None = "
        "dipy's T1 slice with simulated coils (this project's offline default)", reproduce=True,
    )  # fmt: skip
    slice: int | None = setting(None, "the file's slice (None: the middle one)",
                                "the notebook used slice 16", low=0, reproduce=True)  # fmt: skip
    size: int | None = setting(None, "side the default slice is resampled to (None: 256² as "
                               "shipped)", "a smaller side (cpu, smoke) keeps the fit CPU-sized",
                               low=32)  # fmt: skip
    coils: int = setting(8, "simulated coils (fastMRI files bring their own)",
                         "the project's MRISignal default", low=1)  # fmt: skip
    accelerations: tuple[float, ...] = setting(
        (8.0, 4.0), "undersampling factors", "Section 5: '8-fold undersampled k-space'; the "
        "notebook (cell 3) loads the mask of the fastMRI test file file1001187_v2.h5, which "
        "its comment calls a '4x mask' (the saved mask plot is blank, so the notebook does not "
        "show its sampled columns): both are run", low=1.0,
    )  # fmt: skip
    mask: str = setting("random", "the Cartesian mask", "fastMRI's random Cartesian mask (the "
                        "project's MRIMeasurement default)")  # fmt: skip
    layers: int = setting(11, "the decoder's layers (1x1 mixing, upsampling to the next "
                          "layer's size, ReLU, norm; the last one at full size)",
                          "code: notebook cell 5, num_channels = [384]*10 with last_noup=True "
                          "(10 upsampling layers and one without); text: Section 5, 'a d = 5 "
                          "layer and highly over-parameterized deep decoder'", low=1)  # fmt: skip
    input_side: int | None = setting(16, "side of the decoder's fixed noise input (None: out "
                                     "/ 2^(layers-1))", "code: notebook cell 5, in_size = "
                                     "(16, 16); text: not given (the project's default)",
                                     low=1)  # fmt: skip
    channels: int = setting(384, "the decoder's channels per layer", "notebook cell 5: 384 "
                            "channels per layer (Section 5 gives none)", low=1)  # fmt: skip
    lr: float = setting(0.0025, "Adam's learning rate", "notebook cell 10: Adam, LR = 0.0025, "
                        "constant (Section 5 gives none)", low=0.0, open_low=True)  # fmt: skip
    iterations: int = setting(100_000, "Adam steps", "notebook cell 10 (num_iter=100000) and "
                              "its published curve CS_convergence_MRI.dat", low=1)  # fmt: skip
    scaling: str = setting(
        "norm", "how the decoder's output is scaled: norm (its random initial RSS image gets "
        "the norm of the fully sampled RSS image) or coil_peak (max|zero-filled coil image| / "
        "coil_peak)", "norm: notebook cell 7 (scale_factor = ||RSS of the random output|| / "
        "||RSS of the fully sampled image||, applied to the k-space; it uses the reference "
        "image); coil_peak: this project's, chosen by measurement (bench/RESULTS.md)",
        choices=("norm", "coil_peak"),
    )  # fmt: skip
    coil_peak: float = setting(12.0, "with scaling coil_peak: the decoder's output is scaled "
                               "to max|zero-filled coil image| / coil_peak (see the module "
                               "docstring)", "12: as this project earlier read the notebook "
                               "(scale_factor = 12 / max|coil image|); the notebook version "
                               "stored at e452fd4 matches norms instead (scaling norm)",
                               low=0.0, open_low=True)  # fmt: skip
    recipe: str = setting(
        "published", "published: constant learning rate for exactly ``iterations`` (the "
        "notebook); project: this library's plateau schedule and convergence rule",
        "the notebook", choices=RECIPES,
    )  # fmt: skip
    baselines: tuple[str, ...] = setting(
        ("l1_wavelet", "tv"), "classical baselines on the same forward model, weights chosen "
        "by the oracle rule", empty=True,
    )  # fmt: skip
    # declared last: the field's name shadows the function ``setting`` in the class body
    setting: str = setting(
        "code", "where the paper's text and the authors' final code differ, whose values the "
        "paper scale takes: code (the notebook, which made the published figure) or text",
        "code: MRI_multicoil_deep_decoder_accelerate.ipynb (MLI-lab/cs_deep_decoder @ "
        "e452fd4); text: Section 5", choices=("text", "code"), reproduce=True,
    )  # fmt: skip

    def __post_init__(self) -> None:
        if self.kspace is not None:
            object.__setattr__(self, "size", None)
            if not Path(self.kspace).is_file():
                raise ValueError(f"kspace {self.kspace}: no such file")
        elif self.slice is not None:
            raise ValueError("slice needs a k-space file (kspace)")
        take_text_values(self, TEXT_VALUES, CODE_VALUES)
        check_fields(self)


SETTINGS = {
    # 32², 2 coils, a 4 x 16 decoder: 1.2k parameters > 1k real measurements at 4x
    "smoke": Figure5Settings(
        size=32,
        coils=2,
        layers=4,
        input_side=None,
        scaling="coil_peak",
        channels=16,
        lr=0.01,
        iterations=60,
        coil_peak=COIL_PEAK,
        baselines=("tv",),
    ),
    # 128², 8 coils: a 5 x 128 decoder, 85k parameters > 65k real measurements at 4x; lr
    # and coil_peak chosen by measurement at 8x (bench/RESULTS.md, "Figure 5 settings")
    "cpu": Figure5Settings(
        size=128,
        layers=5,
        input_side=None,
        channels=128,
        lr=0.01,
        iterations=2000,
        scaling="coil_peak",
        coil_peak=COIL_PEAK,
    ),  # fmt: skip
    # the authors' final notebook (setting "code"), or the paper's text (--setting text)
    "paper": Figure5Settings(),
}
