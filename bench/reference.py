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


def run_reference(
    truth: torch.Tensor,
    matrix: torch.Tensor,
    channels: int = 64,
    layers: int = 5,
    iters: int = 4000,
    lr: float = 0.005,
    seed: int = 0,
    device: str = "cpu",
    log_every: int = 50,
) -> ReferenceRun:
    """Fit the reference decoder to y = A x* with constant-lr Adam for ``iters`` steps.

    Args:
        truth: the image ``[C, H, W]`` in [0, 1].
        matrix: the dense measurement matrix ``[m, C*H*W]``.
    """
    torch.manual_seed(seed)  # the reference recipe seeds globally, as published code does
    c, h, w = truth.shape
    size = h // 2 ** (layers - 1)
    net = reference_decoder(c, channels, layers).to(device)
    noise = (torch.rand(1, channels, size, size) * 0.1).to(device)
    a = matrix.to(device)
    x = truth.to(device).reshape(-1)
    y = a @ x
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    its, losses, errs = [], [], []
    start = time.perf_counter()
    for it in range(iters):
        opt.zero_grad()
        out = net(noise).reshape(-1)
        loss = 0.5 * (a @ out - y).pow(2).sum()
        loss.backward()
        opt.step()
        value = loss.item()  # per-step host sync, as the published loops log
        if it % log_every == 0 or it == iters - 1:
            its.append(it)
            losses.append(value)
            errs.append((out.detach() - x).pow(2).mean().item())
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return ReferenceRun(its, losses, errs, seconds, 1000.0 * seconds / iters)
