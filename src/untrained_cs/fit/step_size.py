"""Default gradient-descent step: 1/L with L ≈ ||A||² ||J_G(θ₀)||², per member.

||A|| comes from power iteration on AᵀA, ||J_G|| from power iteration on J_Gᵀ J_G with
reverse-mode products only, never a dense Jacobian: Jᵀu is a backward pass, and J v the
derivative of the linear map u ↦ ⟨Jᵀu, v⟩ in u (a second backward through the first).
Plain autograd, not ``torch.func``: the first ``torch.func`` transform of a process imports
``torch._dynamo``, a fixed cost that dominated short fits and sweep tasks (bench/RESULTS.md).
"""

from __future__ import annotations

import torch

from ..generators.base import Generator
from ..operators.base import Operator
from ..seeding import rng as seeded
from ..solvers.norms import operator_norm


def _member_norms(tensors: list[torch.Tensor], batch: int) -> torch.Tensor:
    total = sum(t.reshape(batch, -1).pow(2).sum(1) for t in tensors)
    return torch.as_tensor(total).sqrt()


def jacobian_norm(gen: Generator, iters: int = 20, seed: int = 0) -> torch.Tensor:
    """Largest singular value of θ ↦ G(θ) at the current θ, per member ``[B]``."""
    batch = gen.batch
    params = [p for p in gen.parameters() if p.requires_grad]
    rng = seeded(seed)
    # one start per parameter, the same for every member (independent of batch position)
    v = [torch.randn(p.shape[1:], generator=rng).expand(p.shape).clone().to(p) for p in params]
    with torch.enable_grad():
        out = gen()
        u = torch.zeros_like(out, requires_grad=True)
        jt_u = torch.autograd.grad((out * u).sum(), params, create_graph=True)
    sigma = torch.zeros(batch, device=out.device)
    for _ in range(iters):
        norms = _member_norms(v, batch).clamp_min(1e-30)
        v = [t / norms.reshape(-1, *[1] * (t.dim() - 1)) for t in v]
        # scalar outputs, not ``grad_outputs=``: a tensor there imports sympy (a fixed cost)
        inner = torch.stack([(j * t).sum() for j, t in zip(jt_u, v, strict=True)]).sum()
        (jv,) = torch.autograd.grad(inner, u, retain_graph=True)
        v = list(torch.autograd.grad((out * jv).sum(), params, retain_graph=True))
        sigma = _member_norms(v, batch).sqrt()
    return sigma.detach()


def gd_step_size(gen: Generator, operator: Operator, safety: float = 1.0) -> torch.Tensor:
    """Step η_b = safety / (||A_b||² ||J_b||²) for each member b (a CPU tensor [B])."""
    a_norm = operator_norm(operator).detach().cpu()
    j_norm = jacobian_norm(gen).detach().cpu()
    lipschitz = a_norm.pow(2) * j_norm.pow(2)
    return (safety / lipschitz.clamp_min(1e-30)).double()
