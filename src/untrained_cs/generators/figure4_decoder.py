r"""The 1D deep decoder of the authors' Figure-4 notebook.

Each layer is x ↦ BN(ReLU(C_i · up₂(x))): linear ×2 upsampling, a k×k channel mixing C_i
(1×1 convolution without bias), ReLU and batch normalisation with an affine scale and shift
and batch statistics — after the last layer too. The output is Σ_c v_c x_c with the fixed
v = [1,…,1,−1,…,−1]/√k. Because the last normalisation centres every channel over space,
Σ_j G_j(θ) = n Σ_c v_c β_c does not depend on the C_i: the Jacobian with respect to them
annihilates the constant vector, J^T 1 = 0, so no C_i can move the output's mean.

The Jacobian studied is the one with respect to the four mixings only (d·k² values): the
affine norm terms are trained like the rest but left out of it (:func:`mixings_only`), as in
the notebook. Its fit and measurements are :mod:`untrained_cs.experiments.figure4_notebook`'s.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from ..seeding import rng
from .base import Generator
from .layers import channel_norm, combine_channels, mix_channels, upsample


class Figure4Decoder(Generator):
    """One member of the Figure-4 network: ``layers`` × (up₂, 1×1 conv, ReLU, BN), then v.

    Args:
        n: output length; the fixed input has length n / 2^layers.
        channels: k, the width of every layer (and of the input).
        layers: d, the number of layers (each doubles the length).
        seed: draws the input (uniform(0, 1), ``[k, n / 2^d]``) and then the mixings
            (Xavier normal: N(0, 2 / (k + k))), in that order.
    """

    input: torch.Tensor
    v: torch.Tensor

    def __init__(self, n: int, channels: int, layers: int, seed: int = 0) -> None:
        super().__init__((1, n), seed)
        if layers < 1 or channels < 2 or n % 2**layers:
            raise ValueError(
                f"Figure4Decoder needs layers >= 1, channels >= 2 and n divisible by "
                f"2^layers, got n={n}, channels={channels}, layers={layers}"
            )
        self.layers, self.channels = layers, channels
        self.sizes = [n // 2 ** (layers - i) for i in range(layers + 1)]
        g = rng(seed)
        self.register_buffer("input", torch.rand(1, channels, self.sizes[0], generator=g))
        std = math.sqrt(2.0 / (channels + channels))  # Xavier normal for a k×k 1×1 conv
        self.weights = nn.ParameterList(
            [
                nn.Parameter(torch.randn(1, channels, channels, generator=g) * std)
                for _ in range(layers)
            ]
        )
        self.norm_weights = nn.ParameterList(
            [nn.Parameter(torch.ones(1, channels)) for _ in range(layers)]
        )
        self.norm_biases = nn.ParameterList(
            [nn.Parameter(torch.zeros(1, channels)) for _ in range(layers)]
        )
        v = torch.ones(channels)
        v[channels // 2 :] = -1.0
        self.register_buffer("v", v / math.sqrt(channels))

    def forward(self) -> torch.Tensor:
        x = self.input
        for i, w in enumerate(self.weights):
            x = upsample(x, (self.sizes[i + 1],), "linear")
            x = torch.relu(mix_channels(x, w))
            x = channel_norm(x, self.norm_weights[i], self.norm_biases[i])
        return combine_channels(x, self.v)

    def mixing_names(self) -> list[str]:
        """Names of the channel mixings C_i, the parameters of the studied Jacobian."""
        return [f"weights.{i}" for i in range(self.layers)]

    def mixing_count(self) -> int:
        """d·k², the number of columns of the studied Jacobian."""
        return sum(w.numel() for w in self.weights)


@contextmanager
def mixings_only(net: Figure4Decoder) -> Iterator[None]:
    """Within the block only the mixings require gradients, so that Jacobian tools (which
    differentiate with respect to the trainable parameters) see just the C_i."""
    norms = [*net.norm_weights, *net.norm_biases]
    flags = [p.requires_grad for p in norms]
    try:
        for p in norms:
            p.requires_grad_(False)
        yield
    finally:
        for p, flag in zip(norms, flags, strict=True):
            p.requires_grad_(flag)
