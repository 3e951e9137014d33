"""The authors' Figure-4 notebook as a procedure: its target, its Adam fit, its two matrices.

The network is :class:`~untrained_cs.generators.Figure4Decoder`. The notebook fits it by
Adam to a noisy step (the caption says gradient descent: :func:`notebook_fit` runs either)
and, at chosen steps, computes a matrix with a Jacobian loop that never zeroes gradients:
row i is the last loss gradient plus the running sum of the Jacobian's rows up to i
(:func:`~untrained_cs.theory.jacobian.running_sum_jacobian`). Both that matrix and the true
Jacobian with respect to the mixings are given here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from ..generators.figure4_decoder import Figure4Decoder, mixings_only
from ..seeding import rng
from ..theory.jacobian import Params, dense_jacobian, running_sum_jacobian

#: ``measure(t, net, g)``: what is recorded after Adam step t (g: the mixings' gradient)
Snapshot = Callable[[int, Figure4Decoder, Params], dict[str, Any]]


def true_jacobian(net: Figure4Decoder) -> torch.Tensor:
    """∂G/∂(C_1, …, C_d), ``[n, d·k²]`` (each row one output entry)."""
    with mixings_only(net):
        return dense_jacobian(net)[0]


def notebook_matrix(net: Figure4Decoder, gradient: Params) -> torch.Tensor:
    """The notebook's matrix: row i = g + Σ_{l≤i} ∂G_l/∂C, g the last loss gradient."""
    with mixings_only(net):
        return running_sum_jacobian(net, gradient)


def noisy_step(n: int, noise: float, std: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The fitted signal: a step (−1 on the first half, +1 on the second) plus noise.

    Returns ``(clean, y)``, ``y = clean + noise · ε`` with ε iid N(0, std²), both ``[1, 1, n]``.
    """
    clean = torch.ones(n)
    clean[: n // 2] = -1.0
    eps = torch.randn(n, generator=rng(seed)) * std
    return clean.reshape(1, 1, n), (clean + noise * eps).reshape(1, 1, n)


def notebook_fit(
    net: Figure4Decoder,
    y: torch.Tensor,
    iterations: int,
    lr: float,
    snapshots: Sequence[int],
    measure: Snapshot,
    restart: bool = False,
    optimizer: str = "adam",
) -> tuple[list[float], dict[int, dict[str, Any]]]:
    """Fit ``net`` to ``y`` by Adam (the notebook's) or, with ``optimizer`` ``"gd"``, plain
    gradient descent (no momentum; the caption's), on the mean squared error, all parameters
    trained.

    With ``restart`` a fresh Adam (its moments and step count reset) starts after every
    snapshot, as the published notebook does: its fit function builds a new optimiser at
    each call, and it calls it once per snapshot, continuing the same network. Here the
    snapshot steps are cumulative in both modes (this project's reading of the notebook's
    calls), so both runs are measured at the same steps.

    The notebook's own loop (batch statistics in the norms, every parameter in one
    optimiser), so the fit engine is not used. After step t (t = 1, 2, …) for each t in
    ``snapshots``, ``measure(t, net, g)`` is called with g the mixings' loss gradient of that
    step (still held, as in the notebook, where the Jacobian loop starts from it).

    Returns:
        ``(loss of every step, {t: measure's result})``.
    """
    if optimizer not in ("adam", "gd"):
        raise ValueError(f"optimizer must be adam or gd, got {optimizer!r}")

    def new() -> torch.optim.Optimizer:
        if optimizer == "gd":
            return torch.optim.SGD(net.parameters(), lr=lr)
        return torch.optim.Adam(net.parameters(), lr=lr)

    opt = new()
    wanted = set(int(t) for t in snapshots)
    losses: list[float] = []
    found: dict[int, dict[str, Any]] = {}
    names = net.mixing_names()
    params = dict(net.named_parameters())
    for t in range(1, iterations + 1):
        if restart and t - 1 in wanted:
            opt = new()
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
