"""Default gradient-descent step: 1/L with L ≈ ||A||² ||J_G(θ₀)||², per member.

||A|| comes from power iteration on AᵀA, ||J_G|| from power iteration on J_Gᵀ J_G with
forward- and reverse-mode products (``torch.func.jvp`` / ``vjp``), never a dense Jacobian.
"""

from __future__ import annotations

import torch
from torch.func import functional_call, jvp, vjp

from ..generators.base import Generator
from ..operators.base import Operator
from ..seeding import rng as seeded
from ..solvers.norms import operator_norm


def _member_norms(tensors: dict[str, torch.Tensor], batch: int) -> torch.Tensor:
    total = sum(t.reshape(batch, -1).pow(2).sum(1) for t in tensors.values())
    return torch.as_tensor(total).sqrt()


def jacobian_norm(gen: Generator, iters: int = 20, seed: int = 0) -> torch.Tensor:
    """Largest singular value of θ ↦ G(θ) at the current θ, per member ``[B]``."""
    batch = gen.batch
    params = {k: p.detach() for k, p in gen.named_parameters() if p.requires_grad}

    def g(p: dict[str, torch.Tensor]) -> torch.Tensor:
        return functional_call(gen, p, ())

    rng = seeded(seed)
    # one start per parameter, the same for every member (independent of batch position)
    v = {
        k: torch.randn(p.shape[1:], generator=rng).expand(p.shape).clone().to(p)
        for k, p in params.items()
    }
    _, pullback = vjp(g, params)  # type: ignore[misc]
    sigma = torch.zeros(batch, device=next(iter(params.values())).device)
    for _ in range(iters):
        norms = _member_norms(v, batch).clamp_min(1e-30)
        v = {k: t / norms.reshape(-1, *[1] * (t.dim() - 1)) for k, t in v.items()}
        _, jv = jvp(g, (params,), (v,))  # type: ignore[misc]
        (v,) = pullback(jv)
        sigma = _member_norms(v, batch).sqrt()
    return sigma


def gd_step_size(gen: Generator, operator: Operator, safety: float = 1.0) -> torch.Tensor:
    """Step η_b = safety / (||A_b||² ||J_b||²) for each member b (a CPU tensor [B])."""
    a_norm = operator_norm(operator).detach().cpu()
    j_norm = jacobian_norm(gen).detach().cpu()
    lipschitz = a_norm.pow(2) * j_norm.pow(2)
    return (safety / lipschitz.clamp_min(1e-30)).double()
