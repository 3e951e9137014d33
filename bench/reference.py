"""The reference recipe: how a user of the published deep-decoder code fits one image.

``nn.Conv2d`` 1x1 layers, ``nn.Upsample`` bilinear x2, ReLU, ``nn.BatchNorm2d``, sigmoid
output, a fixed uniform-noise input x0.1, a dense Gaussian matrix applied by matmul, Adam at
a constant lr 0.005, one Python iteration per step with ``.item()`` logging. This is the
yardstick every benchmark case compares the project's fit against, on the same image,
operator (the same matrix) and machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn


def reference_decoder(out_channels: int, channels: int, layers: int) -> nn.Sequential:
    """d x (1x1 conv, bilinear x2 except the last, ReLU, BatchNorm2d), 1x1 conv, sigmoid."""
    mods: list[nn.Module] = []
    for i in range(layers):
        mods.append(nn.Conv2d(channels, channels, 1, bias=False))
        if i < layers - 1:
            mods.append(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
        mods += [nn.ReLU(), nn.BatchNorm2d(channels)]
    mods += [nn.Conv2d(channels, out_channels, 1, bias=False), nn.Sigmoid()]
    return nn.Sequential(*mods)


@dataclass
class ReferenceRun:
    """Per-iteration loss and true MSE (every ``log_every``), and the wall time."""

    iterations: list[int]
    loss: list[float]
    mse: list[float]
    seconds: float
    ms_per_iter: float


class ReferenceFit:
    """The reference recipe's state: network, fixed input, matrix, y = A x*, Adam.

    Args:
        truth: the image ``[C, H, W]`` in [0, 1].
        matrix: the dense measurement matrix ``[m, C*H*W]``.
    """

    def __init__(
        self,
        truth: torch.Tensor,
        matrix: torch.Tensor,
        channels: int = 64,
        layers: int = 5,
        lr: float = 0.005,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        torch.manual_seed(seed)  # the reference recipe seeds globally, as published code does
        c, h, _ = truth.shape
        size = h // 2 ** (layers - 1)
        self.net = reference_decoder(c, channels, layers).to(device)
        self.noise = (torch.rand(1, channels, size, size) * 0.1).to(device)
        self.a = matrix.to(device)
        self.x = truth.to(device).reshape(-1)
        self.y = self.a @ self.x
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr)

    def step(self) -> tuple[float, torch.Tensor]:
        """One iteration; returns its loss (read back, as the published loops log) and the
        network's output before the step."""
        self.opt.zero_grad()
        out = self.net(self.noise).reshape(-1)
        loss = 0.5 * (self.a @ out - self.y).pow(2).sum()
        loss.backward()
        self.opt.step()
        return loss.item(), out  # per-step host sync, as the published loops log

    def run(self, iters: int = 4000, log_every: int = 50) -> ReferenceRun:
        """Fit for ``iters`` steps, logging the loss and the true MSE every ``log_every``."""
        its, losses, errs = [], [], []
        start = time.perf_counter()
        for it in range(iters):
            value, out = self.step()
            if it % log_every == 0 or it == iters - 1:
                its.append(it)
                losses.append(value)
                errs.append((out.detach() - self.x).pow(2).mean().item())
        if self.a.is_cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        return ReferenceRun(its, losses, errs, seconds, 1000.0 * seconds / iters)
