"""The deep image prior: the skip-connected encoder–decoder of Ulyanov et al.

Published defaults: 5 scales of 16, 32, 64, 128, 128 channels down and up, 4 skip channels
per scale, 3x3 convolutions (1x1 on the skips), reflection padding, stride-2 downsampling,
LeakyReLU(0.2), batch norm (here: per-image channel norm, equal to batch norm in training
mode with one image, and vmap-safe), nearest upsampling, sigmoid output, input of 32
channels of uniform noise ×0.1. Batched over independent members via grouped convolutions.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .base import Generator
from .layers import channel_norm, conv, uniform_bound


class DeepImagePrior(Generator):
    """Skip encoder–decoder generator (see module docstring); any image size of at least
    2^scales + 1 per side.

    Args:
        out_shape: ``(C, H, W)``.
        channels_down / channels_up / channels_skip: per-scale channel counts.
        input_channels: channels of the fixed noise input.
        seed: one seed, or one per member.
    """

    input: torch.Tensor
    member_buffers = ("input",)  # one noise input per member

    def __init__(
        self,
        out_shape: Sequence[int] = (1, 64, 64),
        channels_down: Sequence[int] = (16, 32, 64, 128, 128),
        channels_up: Sequence[int] = (16, 32, 64, 128, 128),
        channels_skip: Sequence[int] = (4, 4, 4, 4, 4),
        input_channels: int = 32,
        seed: int | Sequence[int] = 0,
        input_scale: float = 0.1,
    ) -> None:
        super().__init__(out_shape, seed)
        if len(self.out_shape) != 3:
            raise ValueError(f"DeepImagePrior out_shape must be (C, H, W), got {out_shape}")
        scales = len(channels_down)
        if not len(channels_up) == len(channels_skip) == scales:
            raise ValueError("DeepImagePrior needs as many up and skip channel counts as down")
        # each stride-2 3x3 convolution maps a side s to ceil(s/2); the deepest must keep 2
        need = 2**scales + 1
        if min(self.out_shape[1:]) < need:
            raise ValueError(
                f"DeepImagePrior with {scales} scales needs images of at least {need} per side, "
                f"got {self.out_shape[1]}x{self.out_shape[2]}"
            )
        self.scales = scales
        self.down, self.up, self.skip = list(channels_down), list(channels_up), list(channels_skip)
        gens = self.member_generators()
        self.register_buffer(
            "input",
            self.stack_draws(
                gens,
                lambda g: (
                    torch.rand(input_channels, *self.out_shape[1:], generator=g) * input_scale
                ),
            ),
        )
        self.convs = nn.ParameterDict()
        self.norms = nn.ParameterDict()

        def add_conv(name: str, k_in: int, k_out: int, size: int, norm: bool = True) -> None:
            b = uniform_bound(k_in * size * size)
            self.convs[name] = nn.Parameter(
                self.stack_draws(
                    gens, lambda g: (torch.rand(k_out, k_in, size, size, generator=g) * 2 - 1) * b
                )
            )
            if norm:
                self.add_norm(name, k_out)

        k_in = input_channels
        for i in range(scales):
            if self.skip[i]:
                add_conv(f"skip{i}", k_in, self.skip[i], 1)
            add_conv(f"down{i}a", k_in, self.down[i], 3)
            add_conv(f"down{i}b", self.down[i], self.down[i], 3)
            deeper = self.up[i + 1] if i + 1 < scales else self.down[i]
            self.add_norm(f"cat{i}", self.skip[i] + deeper)
            add_conv(f"up{i}a", self.skip[i] + deeper, self.up[i], 3)
            add_conv(f"up{i}b", self.up[i], self.up[i], 1)
            k_in = self.down[i]
        add_conv("head", self.up[0], self.out_shape[0], 1, norm=False)
        self.head_bias = nn.Parameter(torch.zeros(self.batch, self.out_shape[0], 1, 1))

    def add_norm(self, name: str, k: int) -> None:
        self.norms[name + "_w"] = nn.Parameter(torch.ones(self.batch, k))
        self.norms[name + "_b"] = nn.Parameter(torch.zeros(self.batch, k))

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return channel_norm(x, self.norms[name + "_w"], self.norms[name + "_b"])

    def _layer(self, x: torch.Tensor, name: str, stride: int = 1) -> torch.Tensor:
        x = self._norm(conv(x, self.convs[name], stride=stride), name)
        return F.leaky_relu(x, 0.2)

    def _scale(self, x: torch.Tensor, i: int) -> torch.Tensor:
        deeper = self._layer(self._layer(x, f"down{i}a", stride=2), f"down{i}b")
        if i + 1 < self.scales:
            deeper = self._scale(deeper, i + 1)
        deeper = F.interpolate(deeper, size=x.shape[2:], mode="nearest")
        parts = [self._layer(x, f"skip{i}"), deeper] if self.skip[i] else [deeper]
        x = self._norm(torch.cat(parts, dim=1), f"cat{i}")
        return self._layer(self._layer(x, f"up{i}a"), f"up{i}b")

    def forward(self) -> torch.Tensor:
        x = self._scale(self.input, 0)
        return torch.sigmoid(conv(x, self.convs["head"]) + self.head_bias)
