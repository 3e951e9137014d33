"""Build any generator by name, as the command line, the pipeline and the sweeps name them."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .base import Generator
from .deep_decoder import DeepDecoder
from .dip import DeepImagePrior
from .linear import LinearGenerator
from .two_layer import TwoLayerGenerator

GENERATORS = ("deep-decoder", "dip", "two-layer", "linear")
#: Theorem 1's linear generator: σᵢ² = γⁱ, J twice as wide as the signal (project choice)
LINEAR_GAMMA = 0.9
LINEAR_WIDTH_FACTOR = 2


class Signed(Generator):
    """Maps a sigmoid generator's (0, 1) output to (-1, 1) (e.g. coil images have signs)."""

    def __init__(self, inner: Generator) -> None:
        super().__init__(inner.out_shape, inner.seeds)
        self.inner = inner

    def forward(self) -> torch.Tensor:
        return 2.0 * self.inner() - 1.0


def make_generator(
    name: str,
    out_shape: Sequence[int],
    channels: int | None = 64,
    layers: int | None = 5,
    seed: int | Sequence[int] = 0,
    signed: bool = False,
    kernel_width: float | None = None,
    output_scale: float = 1.0,
    input_side: int | None = None,
) -> Generator:
    """One generator of ``out_shape`` (a list of seeds gives that many members).

    Args:
        name: ``deep-decoder`` (``layers`` x ``channels``, bilinear), ``dip`` (published
            defaults; channels/layers do not apply), ``two-layer`` (ReLU(UC)v with
            ``channels`` = k), ``linear`` (Jc with J = W diag(σ) Vᵀ, σᵢ² = γⁱ).
        signed: outputs in (−1, 1) instead of (0, 1) (no sigmoid for the deep decoder).
        kernel_width: the two-layer generator's triangular half-width (None: its default).
        output_scale: the deep decoder's output multiplier (others ignore it).
        input_side: the deep decoder's fixed input side (None: its default).
    """
    if kernel_width is not None and name != "two-layer":
        raise ValueError("kernel_width applies to the two-layer generator only")
    if name == "deep-decoder":
        return DeepDecoder(
            out_shape, channels=channels or 64, layers=layers or 5, seed=seed,
            sigmoid=not signed, output_scale=output_scale,
            input_size=None if input_side is None else [input_side] * (len(out_shape) - 1),
        )  # fmt: skip
    if name == "dip":
        dip = DeepImagePrior(out_shape, seed=seed)
        return Signed(dip) if signed else dip
    if name == "two-layer":
        if kernel_width is None:
            return TwoLayerGenerator(out_shape, channels=channels or 128, seed=seed)
        kernel = ("triangular", float(kernel_width))
        return TwoLayerGenerator(out_shape, channels=channels or 128, kernel=kernel, seed=seed)
    if name == "linear":
        return _linear(out_shape, seed)
    raise ValueError(f"unknown generator {name!r}; choose from {', '.join(GENERATORS)}")


def _linear(out_shape: Sequence[int], seed: int | Sequence[int]) -> Generator:
    from ..theory.linear_theorem import geometric_spectrum, spectral_generator_matrix

    seeds = [seed] if isinstance(seed, int) else list(seed)
    n = 1
    for s in out_shape:
        n *= int(s)
    sigma = geometric_spectrum(n, LINEAR_GAMMA)
    jmat = spectral_generator_matrix(sigma, LINEAR_WIDTH_FACTOR * n, seed=int(seeds[0]))
    return LinearGenerator(jmat.float(), tuple(out_shape), batch=len(seeds))
