"""Figure 4's settings: one set per scale, each value with its source (the paper's text, the
authors' notebook, or this project's choice), and the value where the text and the notebook
differ (``setting``: ``"code"``, the default, or ``"text"``).

The notebook is Jacobian_multi_layer_deep_decoder.ipynb (MLI-lab/overparameterized_
convolutional_generators @ b24c491; MLI-lab/cs_deep_decoder holds no Figure-4 code). The
text gives two settings: "a four-layer deep decoder" (the notebook's num_channels = [64]*4
agrees) and "at different iterations of gradient descent", where the notebook's fit()
runs Adam: that is the one difference (``optimizer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .experiment import check_fields, setting, take_text_values

NOTEBOOK = "the notebook (Jacobian_multi_layer_deep_decoder.ipynb)"
CODE = (
    "Jacobian_multi_layer_deep_decoder.ipynb "
    "(MLI-lab/overparameterized_convolutional_generators @ b24c491)"
)
#: where the caption and the authors' notebook differ: the value each gives (``setting``);
#: a scale that sets its own value keeps it
TEXT_VALUES: dict[str, Any] = {"optimizer": "gd"}
CODE_VALUES: dict[str, Any] = {"optimizer": "adam"}


@dataclass(frozen=True)
class Figure4Settings:
    """One scale of ``reproduce fig4``; each field's source in its metadata.

    Fixed, not settings: the fitted step is −1 on the first half and +1 on the second (the
    notebook's is 1 on the first half and 0 on the second: ystep_np[0, :n/2] = 1), the loss
    is the mean squared error, and the snapshot "at iteration t" is taken after t steps.
    """

    n: int = setting(512, "signal length", NOTEBOOK, low=1)
    channels: int = setting(64, "channels k of every layer and of the input", NOTEBOOK, low=2)
    layers: int = setting(4, "layers d", "Figure 4's caption: 'a four-layer deep decoder' (the "
                          "notebook: num_channels = [64]*4)", low=1)  # fmt: skip
    iterations: int = setting(3500, "optimiser steps", f"{NOTEBOOK}: its last snapshot is at "
                              "3500", low=1)  # fmt: skip
    snapshots: tuple[int, ...] = setting((1, 75, 3500), "snapshot after these many steps",
                                         NOTEBOOK, low=1)  # fmt: skip
    optimizer: str = setting(
        "adam", "adam (one run throughout, and one restarted per snapshot as the notebook "
        "does) or gd (plain gradient descent, torch.optim.SGD without momentum: one run)",
        f"code: {CODE}, fit(): torch.optim.Adam(p, lr=LR); text: Figure 4's caption, 'at "
        "different iterations of gradient descent'", choices=("adam", "gd"),
    )  # fmt: skip
    lr: float = setting(0.01, "the learning rate (Adam's, or gradient descent's step)",
                        f"{NOTEBOOK}: LR = 0.01 (the text gives no step: the text setting "
                        "keeps it)", low=0.0, open_low=True)  # fmt: skip
    noise: float = setting(0.4, "y = step + noise·ε, ε iid N(0, noise_std²)", NOTEBOOK, low=0.0)
    noise_std: float = setting(0.5, "the standard deviation of ε", NOTEBOOK, low=0.0)
    top: int = setting(50, "leading singular values reported and compared across snapshots",
                       low=1)  # fmt: skip
    ranks: tuple[int, ...] = setting((1, 5, 11, 21), "ranks r of the trig alignment; odd, so "
                                     "no cos/sin pair is split", low=1)  # fmt: skip
    low_columns: int = setting(64, "'lowest frequencies' = this many lowest trig functions "
                               "(n/8)", low=1)  # fmt: skip
    keep: int = setting(4, "leading left singular vectors kept for the plot", low=1)
    decay_level: float = setting(0.01, "decay measure: first index with σ_i < decay_level·σ_1",
                                 low=0.0, open_low=True)  # fmt: skip
    # declared last: the field's name shadows the function ``setting`` in the class body
    setting: str = setting(
        "code", "where the caption and the authors' notebook differ, whose values to take: "
        "code (the notebook, which made the figure) or text (the caption)",
        f"code: {CODE}; text: Figure 4's caption", choices=("text", "code"), reproduce=True,
    )  # fmt: skip

    def __post_init__(self) -> None:
        take_text_values(self, TEXT_VALUES, CODE_VALUES)
        check_fields(self)
        if max(self.snapshots) > self.iterations:
            raise ValueError(
                f"snapshots must lie in 1..{self.iterations}, got {list(self.snapshots)}"
            )


SETTINGS: dict[str, Figure4Settings] = {
    # seconds: the same network and measures at n = 64, three layers of 8 channels
    "smoke": Figure4Settings(
        n=64,
        channels=8,
        layers=3,
        iterations=20,
        snapshots=(1, 5, 20),
        top=20,
        ranks=(1, 5, 11),
        low_columns=8,
        keep=3,
    ),
    # the paper's own sizes: 3500 steps of a tiny 1D net and 3 x 2 matrices 512 x 16384
    "cpu": Figure4Settings(),
    "paper": Figure4Settings(),
}
