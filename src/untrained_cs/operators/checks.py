"""Property checks any user can run on an operator: dot test, linearity, norms, VJP.

Solvers (min-norm least squares, the operator norm) live in :mod:`untrained_cs.solvers`.

All accept any object with ``forward``/``adjoint``/``in_shape``/``out_shape`` (an
:class:`~untrained_cs.operators.base.Operator` or a user's own). For real-to-complex maps
the checks treat A as R-linear: the adjoint is Re(A^H y) and <Ax, y> means Re(y^H A x).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..seeding import rng
from .base import LinearMap


@dataclass
class CheckResult:
    """Outcome of one check: the two numbers compared and their relative gap."""

    name: str
    lhs: float
    rhs: float
    rel_error: float
    passed: bool


def _batch(op: LinearMap) -> int:
    return max(1, int(getattr(op, "count", 1)))


def _buffer_device(op: LinearMap) -> torch.device:
    buffers = op.buffers() if isinstance(op, torch.nn.Module) else ()
    for b in buffers:
        return b.device
    return torch.device("cpu")


def random_input(op: LinearMap, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A standard-normal batch shaped like the operator's input: one draw, the same for
    every member, so that what a member gets does not depend on its place in a batch."""
    x = torch.randn(1, *op.in_shape, generator=rng(seed), dtype=dtype)
    return x.expand(_batch(op), *op.in_shape).clone().to(_buffer_device(op))


def random_output(op: LinearMap, seed: int = 1, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A standard-normal batch shaped like the operator's output (complex when it is)."""
    g = rng(seed)
    shape = (_batch(op), *op.out_shape)
    y = torch.randn(*shape, generator=g, dtype=dtype)
    if getattr(op, "complex_output", False):
        y = torch.complex(y, torch.randn(*shape, generator=g, dtype=dtype))
    return y.to(_buffer_device(op))


def inner(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Real inner product Re(sum conj(a) b), one value per batch element."""
    prod = a.conj() * b if a.is_complex() or b.is_complex() else a * b
    return prod.reshape(prod.shape[0], -1).sum(1).real


def dot_test(op: LinearMap, seed: int = 0, rtol: float = 1e-6) -> CheckResult:
    """Adjointness: <A x, y> = <x, A^T y> (R-linear form for complex outputs).

    The gap is measured relative to ||A x|| ||y||, the scale of both sides, so that an inner
    product that happens to be near zero does not inflate it.
    """
    x, y = random_input(op, seed), random_output(op, seed + 1)
    ax = op(x)
    lhs, rhs = float(inner(ax, y).sum()), float(inner(x, op.adjoint(y)).sum())
    scale = float(ax.abs().pow(2).sum().sqrt() * y.abs().pow(2).sum().sqrt())
    rel = abs(lhs - rhs) / max(scale, 1e-30)
    return CheckResult("dot_test", lhs, rhs, rel, rel <= rtol)


def linearity_test(op: LinearMap, seed: int = 0, rtol: float = 1e-6) -> CheckResult:
    """A(a x1 + b x2) = a A x1 + b A x2 for real scalars a, b."""
    x1, x2 = random_input(op, seed), random_input(op, seed + 1)
    a, b = 0.7, -1.3
    lhs = op(a * x1 + b * x2)
    rhs = a * op(x1) + b * op(x2)
    err = (lhs - rhs).abs().pow(2).sum().sqrt() / rhs.abs().pow(2).sum().sqrt().clamp_min(1e-30)
    return CheckResult(
        "linearity", float(lhs.abs().sum()), float(rhs.abs().sum()), float(err), float(err) <= rtol
    )


def vjp_test(op: LinearMap, seed: int = 0, rtol: float = 1e-6) -> CheckResult:
    """Autograd's vector-Jacobian product of ``forward`` equals ``adjoint``."""
    x = random_input(op, seed).requires_grad_(True)
    y = random_output(op, seed + 1)
    (vjp,) = torch.autograd.grad(op(x), x, grad_outputs=y)
    adj = op.adjoint(y)
    err = (vjp - adj).norm() / adj.norm().clamp_min(1e-30)
    return CheckResult("vjp", float(vjp.norm()), float(adj.norm()), float(err), float(err) <= rtol)


def norm_ratio(op_factory, n_draws: int = 64, seed: int = 0) -> float:
    """Mean of ||A x||^2 / ||x||^2 over ``n_draws`` operator draws, one fixed x.

    ``op_factory(seed)`` must return an operator; E||Ax||^2 = ||x||^2 for the normalised
    random operators, so the mean approaches 1.
    """
    ratios = []
    x = None
    for i in range(n_draws):
        op = op_factory(seed + i)
        if x is None:
            x = random_input(op, seed=12345)[:1]
        ratios.append(float(op(x).abs().pow(2).sum() / x.pow(2).sum()))
    return sum(ratios) / len(ratios)
