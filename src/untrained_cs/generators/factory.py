"""Build a generator by name, as the CLI and the experiments name them."""

from __future__ import annotations

from collections.abc import Sequence

from .base import Generator
from .deep_decoder import DeepDecoder
from .dip import DeepImagePrior

GENERATORS = ("deep-decoder", "dip")


def make_generator(
    name: str,
    out_shape: Sequence[int],
    channels: int = 64,
    layers: int = 5,
    seed: int | Sequence[int] = 0,
) -> Generator:
    """``"deep-decoder"`` (``layers`` x ``channels``, bilinear) or ``"dip"`` (published
    defaults; ``channels``/``layers`` do not apply)."""
    if name == "deep-decoder":
        return DeepDecoder(out_shape, channels=channels, layers=layers, seed=seed)
    if name == "dip":
        return DeepImagePrior(out_shape, seed=seed)
    raise ValueError(f"unknown generator {name!r}; choose from {GENERATORS}")
