r"""The two-layer convolutional generator of eq (3): G(C) = ReLU(U C) v.

C holds k channels, each a signal of the output's size; U is the circulant convolution with
a fixed kernel u, applied by FFT, or for short 1D signals (n <= :data:`DENSE_MAX_N`) as the
dense n × n circulant, whose batched matmul beats the FFT's overhead there
(bench/RESULTS.md, sweep engine); v = [1,…,1,−1,…,−1]/√k is fixed. 1D signals ``(1, n)``
and 2D images ``(1, H, W)`` with a 2D kernel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .base import Generator
from .kernels import circulant_norm, kernel_spectrum, make_kernel
from .layers import circular_convolve, combine_channels

#: 1D signals up to this length apply U as a dense circulant matrix
DENSE_MAX_N = 128


def circulant(u: torch.Tensor) -> torch.Tensor:
    """The n × n circulant U of a 1D kernel u: (U x)_j = Σ_i u_{(j − i) mod n} x_i."""
    return torch.stack([torch.roll(u, i) for i in range(u.numel())], dim=1)


class TwoLayerGenerator(Generator):
    """G(C) = ReLU(U C) v with C in R^{n x k}, batched over independent members.

    Args:
        out_shape: ``(1, n)`` or ``(1, H, W)``.
        channels: k.
        kernel: a tensor of the spatial shape (used as given), or ``(kind, width)`` with kind
            ``"triangular"`` or ``"gaussian"`` (unit-norm, centred at 0).
        seed: one seed, or one per member.
        init_scale: ω, the standard deviation of C_0 (see :meth:`prepare`).
        theorem3_xi: when set, :meth:`prepare` rescales C_0 to Theorem 3's
            ω = ξ ||y|| / (2 √n ||U||) before a fit.
    """

    kernel: torch.Tensor
    kernel_fft: torch.Tensor
    circulant_t: torch.Tensor | None
    v: torch.Tensor

    def __init__(
        self,
        out_shape: Sequence[int] = (1, 128),
        channels: int = 128,
        kernel: torch.Tensor | tuple[str, float] = ("triangular", 4.0),
        seed: int | Sequence[int] = 0,
        init_scale: float = 1.0,
        theorem3_xi: float | None = 0.5,
    ) -> None:
        super().__init__(out_shape, seed)
        if len(self.out_shape) not in (2, 3) or self.out_shape[0] != 1:
            raise ValueError(
                f"TwoLayerGenerator out_shape must be (1, n) or (1, H, W), got {out_shape}"
            )
        if channels < 2:
            raise ValueError(f"TwoLayerGenerator needs k >= 2 channels, got {channels}")
        spatial = self.out_shape[1:]
        u = make_kernel(kernel[0], spatial, kernel[1]) if isinstance(kernel, tuple) else kernel
        if tuple(u.shape) != tuple(spatial):
            raise ValueError(
                f"TwoLayerGenerator kernel must have shape {tuple(spatial)}, got {tuple(u.shape)}"
            )
        self.channels = int(channels)
        self.theorem3_xi = theorem3_xi
        self.register_buffer("kernel", u.to(torch.float64))
        self.register_buffer("kernel_fft", kernel_spectrum(u.to(torch.float64)).to(torch.complex64))
        dense = len(spatial) == 1 and spatial[0] <= DENSE_MAX_N
        #: Uᵀ (float32) when U is applied densely, else None
        self.register_buffer("circulant_t", circulant(u.to(torch.float32)).T.contiguous()
                             if dense else None)  # fmt: skip
        self.u_norm = circulant_norm(u)
        gens = self.member_generators()
        self.weight = nn.Parameter(
            init_scale
            * self.stack_draws(gens, lambda g: torch.randn(self.channels, *spatial, generator=g))
        )
        v = torch.ones(self.channels)
        v[self.channels // 2 :] = -1.0
        self.register_buffer("v", v / math.sqrt(self.channels))

    def theorem3_scale(self, y: torch.Tensor) -> torch.Tensor:
        """ω = ξ ||y|| / (2 √n ||U||) per member (Theorem 3's initialisation scale)."""
        xi = 1.0 if self.theorem3_xi is None else self.theorem3_xi
        y_norm = y.reshape(y.shape[0], -1).abs().pow(2).sum(1).sqrt()
        return xi * y_norm / (2.0 * math.sqrt(self.n) * self.u_norm)

    @torch.no_grad()
    def prepare(self, y: torch.Tensor, operator: nn.Module) -> None:
        """Rescale C_0 so that its entries are iid N(0, ω²) with Theorem 3's ω."""
        if self.theorem3_xi is None:
            return
        current = self.weight.reshape(self.batch, -1).std(dim=1)
        target = self.theorem3_scale(y).to(self.weight.device)
        shape = (self.batch, *[1] * (self.weight.dim() - 1))
        self.weight.mul_((target / current.clamp_min(1e-30)).reshape(shape))

    def forward(self) -> torch.Tensor:
        if self.circulant_t is not None:
            hidden = torch.relu(self.weight @ self.circulant_t)
        else:
            hidden = torch.relu(circular_convolve(self.weight, self.kernel_fft))
        return combine_channels(hidden, self.v)
