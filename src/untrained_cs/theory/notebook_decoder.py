r"""The 1D deep decoder of the authors' Figure-4 notebook, its target and its Adam fit.

Each layer is x ↦ BN(ReLU(C_i · up₂(x))): linear ×2 upsampling, a k×k channel mixing C_i
(1×1 convolution without bias), ReLU and batch normalisation with an affine scale and shift
and batch statistics — after the last layer too. The output is Σ_c v_c x_c with the fixed
v = [1,…,1,−1,…,−1]/√k. Because the last normalisation centres every channel over space,
Σ_j G_j(θ) = n Σ_c v_c β_c does not depend on the C_i: the Jacobian with respect to them
annihilates the constant vector, J^T 1 = 0, so no C_i can move the output's mean.

The Jacobian studied is the one with respect to the four mixings only (d·k² values); the
affine norm terms are trained by Adam like the rest but left out of it, as in the notebook.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from ..generators.base import Generator
from ..generators.layers import channel_norm, combine_channels, mix_channels, upsample
from ..seeding import rng
from .jacobian import Params, dense_jacobian, running_sum_jacobian


class NotebookDecoder(Generator):
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
                f"NotebookDecoder needs layers >= 1, channels >= 2 and n divisible by "
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
def mixings_only(net: NotebookDecoder) -> Iterator[None]:
    """Within the block only the mixings require gradients, so that the Jacobian helpers
    (which differentiate with respect to the trainable parameters) see just the C_i."""
    norms = [*net.norm_weights, *net.norm_biases]
    flags = [p.requires_grad for p in norms]
    try:
        for p in norms:
            p.requires_grad_(False)
        yield
    finally:
        for p, flag in zip(norms, flags, strict=True):
            p.requires_grad_(flag)


def true_jacobian(net: NotebookDecoder) -> torch.Tensor:
    """∂G/∂(C_1, …, C_d), ``[n, d·k²]`` (each row one output entry)."""
    with mixings_only(net):
        return dense_jacobian(net)[0]


def notebook_matrix(net: NotebookDecoder, gradient: Params) -> torch.Tensor:
    """The notebook's matrix: row i = g + Σ_{l≤i} ∂G_l/∂C, g the last loss gradient."""
    with mixings_only(net):
        return running_sum_jacobian(net, gradient)


def summation_matrix(n: int) -> torch.Tensor:
    """The running sum alone, ``[n, n]`` float64: L_il = 1 for l ≤ i, else 0.

    The notebook's matrix is L J + 1 gᵀ, so L's own singular vectors and values (sines of
    half-integer frequencies, σ_k ∝ 1/(2k − 1) roughly) are a reference that holds no network.
    """
    return torch.tril(torch.ones(n, n, dtype=torch.float64))


def noisy_step(n: int, noise: float, std: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The fitted signal: a step (−1 on the first half, +1 on the second) plus noise.

    Returns ``(clean, y)``, ``y = clean + noise · ε`` with ε iid N(0, std²), both ``[1, 1, n]``.
    """
    clean = torch.ones(n)
    clean[: n // 2] = -1.0
    eps = torch.randn(n, generator=rng(seed)) * std
    return clean.reshape(1, 1, n), (clean + noise * eps).reshape(1, 1, n)


Snapshot = Callable[[int, NotebookDecoder, Params], dict[str, Any]]


def adam_fit(
    net: NotebookDecoder,
    y: torch.Tensor,
    iterations: int,
    lr: float,
    snapshots: Sequence[int],
    measure: Snapshot,
) -> tuple[list[float], dict[int, dict[str, Any]]]:
    """Fit ``net`` to ``y`` by Adam on the mean squared error, all parameters trained.

    After step t (t = 1, 2, …) for each t in ``snapshots``, ``measure(t, net, g)`` is called
    with g the mixings' loss gradient of that step (still held, as in the notebook, where
    the Jacobian loop starts from it).

    Returns:
        ``(loss of every step, {t: measure's result})``.
    """
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    wanted = set(int(t) for t in snapshots)
    losses: list[float] = []
    found: dict[int, dict[str, Any]] = {}
    names = net.mixing_names()
    params = dict(net.named_parameters())
    for t in range(1, iterations + 1):
        opt.zero_grad(set_to_none=False)
        loss = torch.mean((net() - y) ** 2)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if t in wanted:
            grad = {k: _grad(params[k]).detach().clone() for k in names}
            found[t] = measure(t, net, grad)
    return losses, found


def _grad(p: torch.Tensor) -> torch.Tensor:
    return p.grad if p.grad is not None else torch.zeros_like(p)
