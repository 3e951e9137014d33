"""A compressive-sensing problem: a signal x*, an operator A and its measurements y = A x*."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .data import load_image
from .operators import Operator, make_operator


@dataclass
class Problem:
    """Ground truth ``truth`` [C, H, W], operator A, measurements ``y`` = A x* [1, m]."""

    truth: torch.Tensor
    operator: Operator
    y: torch.Tensor

    @property
    def n(self) -> int:
        return self.operator.n

    @property
    def m(self) -> int:
        return self.operator.m


def make_problem(
    image: str = "camera",
    size: int = 64,
    operator: str = "gaussian",
    ratio: float = 0.25,
    seed: int = 1,
    noise_std: float = 0.0,
) -> Problem:
    """Load ``image`` at ``size``, measure it with the registered ``operator`` at m/n = ratio.

    ``noise_std`` adds Gaussian noise of that standard deviation to each measurement (drawn
    from ``seed`` too; circular complex noise for complex measurements).
    """
    truth = load_image(image, size)
    op = make_operator(operator, tuple(truth.shape), ratio, seed=seed)
    with torch.no_grad():
        y = op(truth.unsqueeze(0))
    if noise_std > 0:
        g = torch.Generator().manual_seed(seed + 7919)
        noise = torch.randn(y.shape, generator=g, dtype=y.real.dtype) * noise_std
        if y.is_complex():  # circular complex noise of the same total variance
            imag = torch.randn(y.shape, generator=g, dtype=y.real.dtype) * noise_std
            noise = torch.complex(noise, imag) / 2**0.5
        y = y + noise.to(y.dtype)
    return Problem(truth=truth, operator=op, y=y)
