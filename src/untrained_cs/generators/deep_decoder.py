r"""The deep decoder (eq 4): B_{i+1} = cn(ReLU(U_i B_i C_i)), then a 1x1 head (or v).

Only the 1x1 channel mixings C_i (and the norms' affine terms) are trained; U_i is a fixed
upsampling (bilinear / linear / nearest) or, in the fixed-kernel variant, a fixed circular
convolution at constant size. Works on 1D signals ``(C, N)``, 2D images ``(C, H, W)`` and
volumes ``(C, D, H, W)`` (trilinear upsampling, 1x1x1 mixings).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .base import Generator
from .kernels import kernel_spectrum, make_kernel
from .layers import (
    channel_norm,
    circular_convolve,
    combine_channels,
    double_axis,
    interpolation_matrix,
    mix_channels,
    resize_separable,
    uniform_bound,
    upsample,
)

UPSAMPLE_MODES = ("bilinear", "linear", "nearest", "fixed")
#: On CPU, layers whose input has at least this many pixels resize by matrix products
#: (measured faster than native interpolation's backward there, see bench/RESULTS.md);
#: smaller ones natively.
MATRIX_RESIZE_MIN = 256


def size_schedule(out: Sequence[int], layers: int, input_size: Sequence[int] | None = None):
    """Spatial sizes of the d layer inputs B_0..B_{d-1}, ending at the output size.

    ×2 per layer when the output divides by 2^{d-1}; otherwise geometric from the input size
    (default out / 2^{d-1}, at least 2) to the output, rounded. Raises ``ValueError`` when the
    output is too small for the number of layers. A volume's first axis (its slices, often
    few) is exempt: it starts at min(D, max(2, D / 2^{d-1})) and grows geometrically.
    """
    d = layers
    out = [int(s) for s in out]
    if input_size is None:
        need = 2**d
        checked = out[1:] if len(out) == 3 else out
        if min(checked) < need:
            what = "per in-plane dimension" if len(out) == 3 else "per dimension"
            raise ValueError(
                f"DeepDecoder with {d} layers needs an output of at least {need} {what} "
                f"(input ≥ 2 after {d - 1} halvings), got {'x'.join(map(str, out))}"
            )
        input_size = [min(s, max(2, round(s / 2 ** (d - 1)))) for s in out]
    start = [int(s) for s in input_size]
    if len(start) != len(out) or any(not 1 <= a <= b for a, b in zip(start, out, strict=True)):
        raise ValueError(f"DeepDecoder input size {start} must lie between 1 and output {out}")
    sizes = []
    for i in range(d):
        t = i / (d - 1) if d > 1 else 1.0
        sizes.append(
            tuple(
                s * 2**i if s * 2 ** (d - 1) == o else round(s * (o / s) ** t)
                for s, o in zip(start, out, strict=True)
            )
        )
    sizes[-1] = tuple(out)
    return sizes


class DeepDecoder(Generator):
    """Deep decoder with ``layers`` layers of ``channels`` channels, batched over seeds.

    Args:
        out_shape: ``(C, H, W)`` for images, ``(C, N)`` for 1D signals or ``(C, D, H, W)``
            for volumes.
        channels: k for every layer, or a list of length ``layers``.
        layers: d, the number of (1x1 conv, upsample, ReLU, channel norm) layers.
        upsample: ``"bilinear"``/``"linear"``/``"nearest"`` ×2 (or geometric) upsampling, or
            ``"fixed"``: a fixed circular convolution with ``kernel`` at full size.
        kernel: for ``"fixed"``: a tensor of the spatial shape, or ``(kind, width)``.
        input_size: spatial size of the fixed input (default out / 2^{d-1}).
        affine: learn a per-channel scale and shift after each normalisation.
        sigmoid: squash the output into (0, 1) (natural images in [0, 1]).
        head: ``"conv"`` (a trained 1x1 convolution to C channels) or ``"fixed"``: the last
            layer is ReLU(U B C) v with v = [1,…,1,−1,…,−1]/√k fixed (eq 3/4), no norm.
        seed: one seed, or one per independent member (``batch`` = number of seeds).
        input_scale: the fixed input is uniform noise times this (published: 0.1).
        output_scale: the output is multiplied by this (default 1). Without a sigmoid a
            small value keeps the random initial image small against the data: what the
            fit never corrects (the unmeasured part of it) stays small too.
    """

    input: torch.Tensor
    kernel_fft: torch.Tensor
    v: torch.Tensor
    member_buffers = ("input",)  # one noise input per member

    def __init__(
        self,
        out_shape: Sequence[int] = (1, 64, 64),
        channels: int | Sequence[int] = 64,
        layers: int = 5,
        upsample: str = "bilinear",
        kernel: torch.Tensor | tuple[str, float] | None = None,
        input_size: Sequence[int] | None = None,
        affine: bool = True,
        sigmoid: bool = True,
        head: str = "conv",
        seed: int | Sequence[int] = 0,
        input_scale: float = 0.1,
        output_scale: float = 1.0,
    ) -> None:
        super().__init__(out_shape, seed)
        ks = _check_settings(self.out_shape, channels, layers, upsample, head)
        self.layers, self.channels, self.upsample_mode, self.head = layers, ks, upsample, head
        self.sigmoid = sigmoid and head == "conv"
        if not (math.isfinite(output_scale) and output_scale > 0):
            raise ValueError(f"DeepDecoder output_scale must be > 0, got {output_scale}")
        self.output_scale = float(output_scale)
        self._build_resampling(kernel, input_size)
        gens = self.member_generators()  # draws: input, layer weights, head (this order)
        self.register_buffer(
            "input",
            self.stack_draws(
                gens, lambda g: torch.rand(ks[0], *self.sizes[0], generator=g) * input_scale
            ),
        )
        outs = [ks[min(i + 1, layers - 1)] for i in range(layers)]
        self.weights = nn.ParameterList(
            [
                nn.Parameter(_uniform_draws(self, gens, k_out, k_in))
                for k_in, k_out in zip(ks, outs, strict=True)
            ]
        )
        normed = outs if head == "conv" else outs[:-1]
        self.normed_layers = len(normed)
        self.norm_weights = nn.ParameterList(
            [nn.Parameter(torch.ones(self.batch, k)) for k in normed] if affine else []
        )
        self.norm_biases = nn.ParameterList(
            [nn.Parameter(torch.zeros(self.batch, k)) for k in normed] if affine else []
        )
        k_last = outs[-1]
        if head == "conv":
            self.head_weight = nn.Parameter(_uniform_draws(self, gens, self.out_shape[0], k_last))
        else:
            v = torch.ones(k_last)
            v[k_last // 2 :] = -1.0
            self.register_buffer("v", v / math.sqrt(k_last))

    def _build_resampling(
        self, kernel: torch.Tensor | tuple[str, float] | None, input_size: Sequence[int] | None
    ) -> None:
        """The fixed upsampling between layers: interpolation matrices or a circular kernel."""
        spatial, layers = self.out_shape[1:], self.layers
        if self.upsample_mode == "fixed":
            self.sizes = [tuple(spatial)] * layers
            u = make_kernel(kernel[0], spatial, kernel[1]) if isinstance(kernel, tuple) else kernel
            if u is None or tuple(u.shape) != tuple(spatial):
                raise ValueError(f"DeepDecoder 'fixed' needs a kernel of shape {tuple(spatial)}")
            self.register_buffer(
                "kernel_fft", kernel_spectrum(u.to(torch.float64)).to(torch.complex64)
            )
            return
        self.sizes = size_schedule(spatial, layers, input_size)
        for i in range(layers - 1):
            pairs = zip(self.sizes[i], self.sizes[i + 1], strict=True)
            for axis, (n_in, n_out) in enumerate(pairs):
                m_t = interpolation_matrix(n_in, n_out, self.upsample_mode).T.contiguous()
                self.register_buffer(f"resize{i}_{axis}", m_t, persistent=False)

    def _resample(self, x: torch.Tensor, i: int) -> torch.Tensor:
        if self.upsample_mode == "fixed":
            return circular_convolve(x, self.kernel_fft)
        if i + 1 >= self.layers or self.sizes[i + 1] == self.sizes[i]:
            return x
        if torch.compiler.is_compiling():  # stencils the compiler fuses (fit(compile=True))
            return self._resample_fused(x, i)
        if x.device.type == "cpu" and x[0, 0].numel() >= MATRIX_RESIZE_MIN:
            dims = range(len(self.sizes[i]))
            return resize_separable(x, [getattr(self, f"resize{i}_{a}") for a in dims])
        return upsample(x, self.sizes[i + 1], self.upsample_mode)

    def _resample_fused(self, x: torch.Tensor, i: int) -> torch.Tensor:
        """The same resize, axis by axis: doubled axes by :func:`double_axis`, others by
        their interpolation matrix."""
        pairs = zip(self.sizes[i], self.sizes[i + 1], strict=True)
        for axis, (n_in, n_out) in enumerate(pairs):
            dim = x.dim() - len(self.sizes[i]) + axis
            if n_out == 2 * n_in:
                x = double_axis(x, dim, self.upsample_mode)
            elif n_out != n_in:
                m_t = getattr(self, f"resize{i}_{axis}")
                x = (x.movedim(dim, -1) @ m_t).movedim(-1, dim)
        return x

    def forward(self) -> torch.Tensor:
        x = self.input
        for i, w in enumerate(self.weights):
            x = torch.relu(self._resample(mix_channels(x, w), i))
            if i < self.normed_layers:
                affine = len(self.norm_weights) > 0
                x = channel_norm(
                    x,
                    self.norm_weights[i] if affine else None,
                    self.norm_biases[i] if affine else None,
                )
        if self.head == "fixed":
            x = combine_channels(x, self.v)
        else:
            x = mix_channels(x, self.head_weight)
            x = torch.sigmoid(x) if self.sigmoid else x
        return x if self.output_scale == 1.0 else x * self.output_scale


def _check_settings(
    out_shape: tuple[int, ...],
    channels: int | Sequence[int],
    layers: int,
    upsample: str,
    head: str,
) -> list[int]:
    """Validate the deep decoder's settings; return the channel count of every layer."""
    if len(out_shape) not in (2, 3, 4):
        raise ValueError(
            f"DeepDecoder out_shape must be (C, N), (C, H, W) or (C, D, H, W), got {out_shape}"
        )
    if upsample == "fixed" and len(out_shape) == 4:
        raise ValueError("DeepDecoder 'fixed' upsampling is for 1D signals and 2D images")
    if layers < 1:
        raise ValueError(f"DeepDecoder needs at least 1 layer, got {layers}")
    if upsample not in UPSAMPLE_MODES:
        raise ValueError(f"DeepDecoder upsample must be one of {UPSAMPLE_MODES}")
    if head not in ("conv", "fixed"):
        raise ValueError("DeepDecoder head must be 'conv' or 'fixed'")
    ks = [int(channels)] * layers if isinstance(channels, int) else [int(c) for c in channels]
    if len(ks) != layers or min(ks) < 1:
        raise ValueError(f"DeepDecoder channels must be {layers} positive counts, got {ks}")
    return ks


def _uniform_draws(gen: Generator, gens: list[torch.Generator], k_out: int, k_in: int):
    """A 1x1 convolution's weights per member, uniform in ±1/√k_in (PyTorch's default)."""
    b = uniform_bound(k_in)
    return gen.stack_draws(gens, lambda g: (torch.rand(k_out, k_in, generator=g) * 2 - 1) * b)
