r"""Jacobians of θ ↦ G(θ) and θ ↦ A G(θ): dense (chunked) and matrix-free spectra.

A generator holds B independent members; θ_b only moves output b, so one reverse-mode
product with the cotangent e_i placed in every member gives row i of every member's
Jacobian at once. Dense Jacobians vmap that product over a chunk of rows (one batched
backward per chunk instead of one backward per row). When the dense matrix would not fit,
the top singular values come from Lanczos (ARPACK, via scipy) on J J^T, each product being
one vjp followed by one jvp — the Jacobian is never formed.

The network is any ``torch.nn.Module`` whose ``forward()`` takes no input and returns its
members' outputs ``[B, *out_shape]`` (a :class:`~untrained_cs.generators.Generator`); this
module needs nothing else of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jvp, vjp, vmap

if TYPE_CHECKING:
    from scipy.sparse.linalg import LinearOperator

from ..operators.base import Operator

Params = dict[str, torch.Tensor]


def trainable(gen: nn.Module) -> Params:
    """The generator's trainable parameters, detached (a copy of the references)."""
    return {k: p.detach() for k, p in gen.named_parameters() if p.requires_grad}


def output_map(
    gen: nn.Module, operator: Operator | None = None
) -> Callable[[Params], torch.Tensor]:
    """θ ↦ G(θ) (or A G(θ)) flattened per member to ``[B, rows]``.

    A generator output whose shape is not the operator's input shape raises ``ValueError``
    at the first evaluation (before any product).
    """

    def f(params: Params) -> torch.Tensor:
        out = functional_call(gen, params, ())
        if operator is not None and tuple(operator.in_shape) != tuple(out.shape[1:]):
            raise ValueError(
                f"{type(operator).__name__} expects signals of shape "
                f"{list(operator.in_shape)}, but {type(gen).__name__} produces "
                f"{list(out.shape[1:])}"
            )
        out = out.reshape(out.shape[0], -1)
        return operator.matvec(out) if operator is not None else out

    return f


def _basis_cotangents(rows: range, batch: int, total: int, like: torch.Tensor) -> torch.Tensor:
    """``[len(rows), B, total]`` with a one in column i of every member for each row i."""
    ct = torch.zeros(len(rows), batch, total, dtype=like.dtype, device=like.device)
    idx = torch.arange(rows.start, rows.stop, device=like.device)
    ct[torch.arange(len(rows)), :, idx] = 1.0
    return ct


def dense_jacobian(
    gen: nn.Module, operator: Operator | None = None, chunk_size: int = 128
) -> torch.Tensor:
    r"""The Jacobian of θ ↦ G(θ) (or A G(θ)) per member, ``[B, rows, P]``.

    Args:
        gen: the generator at its current parameters (not modified).
        operator: optional A; then the rows are the m measurements.
        chunk_size: rows per vmapped backward pass (memory ~ chunk_size x P).

    Returns:
        J with ``J[b, i, :]`` the gradient of output i of member b w.r.t. θ_b, parameters
        concatenated in ``named_parameters`` order (each flattened).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    params = trainable(gen)
    out, pullback = vjp(output_map(gen, operator), params)  # type: ignore[misc]
    batch, total = out.shape
    blocks = []
    for start in range(0, total, chunk_size):
        rows = range(start, min(start + chunk_size, total))
        (grads,) = vmap(pullback)(_basis_cotangents(rows, batch, total, out))
        blocks.append(torch.cat([g.reshape(len(rows), batch, -1) for g in grads.values()], -1))
    return torch.cat(blocks, dim=0).transpose(0, 1)


def gram_matrix(
    gen: nn.Module, operator: Operator | None = None, chunk_size: int = 64
) -> torch.Tensor:
    r"""J J^T per member, ``[B, rows, rows]``, matrix-free: column i is J(J^T e_i).

    One vjp and one jvp per row (vmapped over chunks); memory ~ chunk_size x P.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    f = output_map(gen, operator)
    params = trainable(gen)
    out, pullback = vjp(f, params)  # type: ignore[misc]
    batch, total = out.shape

    def column(ct: torch.Tensor) -> torch.Tensor:
        (tangent,) = pullback(ct)
        return jvp(f, (params,), (tangent,))[1]

    cols = []
    for start in range(0, total, chunk_size):
        rows = range(start, min(start + chunk_size, total))
        cols.append(vmap(column)(_basis_cotangents(rows, batch, total, out)))
    return torch.cat(cols, dim=0).permute(1, 2, 0)


def singular_values(jac: torch.Tensor) -> torch.Tensor:
    """All singular values of ``[..., rows, P]`` (rows <= P), descending, float64.

    Computed as square roots of the eigenvalues of J J^T (rows x rows), which is far
    cheaper than an SVD of the wide matrix.
    """
    j = jac.to(torch.float64)
    evals = torch.linalg.eigvalsh(j @ j.transpose(-1, -2)).flip(-1)
    return evals.clamp_min(0.0).sqrt()


def left_singular_vectors(jac: torch.Tensor, r: int) -> torch.Tensor:
    """The r leading left singular vectors of one ``[rows, P]`` Jacobian, ``[rows, r]``."""
    j = jac.to(torch.float64)
    _, evecs = torch.linalg.eigh(j @ j.T)
    return evecs.flip(-1)[:, :r]


def gram_operator(gen: nn.Module, operator: Operator | None = None) -> LinearOperator:
    r"""J J^T of a one-member generator as a scipy ``LinearOperator`` (float64 in/out).

    Each product is one vjp (J^T x) and one jvp (J t) in the generator's dtype.
    """
    # scipy's sparse linear algebra is imported here only: a heavy import, which every user
    # of the package's theory (the basis of every p-smooth problem) would pay otherwise
    from scipy.sparse.linalg import LinearOperator

    f = output_map(gen, operator)
    params = trainable(gen)
    out, pullback = vjp(f, params)  # type: ignore[misc]
    if out.shape[0] != 1:
        raise ValueError(
            f"matrix-free spectra need a one-member generator, got batch {out.shape[0]}"
        )
    rows = out.shape[1]

    def matvec(x: np.ndarray) -> np.ndarray:
        ct = torch.as_tensor(np.ascontiguousarray(x).reshape(1, rows), dtype=out.dtype)
        (tangent,) = pullback(ct.to(out.device))
        jjt = jvp(f, (params,), (tangent,))[1]
        return jjt.detach().to(torch.float64).cpu().numpy().reshape(rows)

    return LinearOperator((rows, rows), matvec=matvec, dtype=np.float64)  # type: ignore[call-arg]


def top_singular(
    gen: nn.Module,
    k: int,
    operator: Operator | None = None,
    tol: float = 1e-6,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Top-k singular values and left singular vectors of J, matrix-free (Lanczos).

    Args:
        gen: a one-member generator (its current θ).
        k: how many (k < rows).
        operator: optional A, for the Jacobian of θ ↦ A G(θ).
        tol: ARPACK's relative tolerance on the eigenvalues of J J^T.
        seed: seed of the Lanczos start vector.

    Returns:
        ``(sigma [k] descending, left vectors [rows, k])`` as numpy float64.
    """
    from scipy.sparse.linalg import eigsh

    gram = gram_operator(gen, operator)
    rows = gram.shape[0]
    if not 1 <= k < rows:
        raise ValueError(f"top_singular needs 1 <= k < rows = {rows}, got k = {k}")
    v0 = np.random.default_rng(seed).standard_normal(rows)
    evals, evecs = eigsh(gram, k=k, which="LA", tol=tol, v0=v0)
    order = np.argsort(evals)[::-1]
    return np.sqrt(np.maximum(evals[order], 0.0)), evecs[:, order]


def running_sum_jacobian(gen: nn.Module, initial: Params | None = None) -> torch.Tensor:
    r"""The matrix the authors' Figure-4 notebook computes, ``[rows, P]`` (one member).

    That loop calls ``backward`` on each output entry in turn without zeroing the
    gradients in between, starting from whatever the last training step left in them
    (``initial``: the last loss gradient g). Row i is therefore g + \sum_{l \le i}
    \partial G_l/\partial\theta — a running sum of the Jacobian's rows, not row i of J.
    Written here by that very procedure so that it can be compared with :func:`dense_jacobian`.
    """
    params = [p for p in gen.parameters() if p.requires_grad]
    names = [k for k, p in gen.named_parameters() if p.requires_grad]
    saved = [p.grad for p in params]
    try:
        for name, p in zip(names, params, strict=True):
            p.grad = None if initial is None else initial[name].detach().clone().to(p)
        out = gen()
        if out.shape[0] != 1:
            raise ValueError("running_sum_jacobian reproduces a one-member computation")
        out = out.reshape(-1)
        rows = []
        for i in range(out.numel()):
            out[i].backward(retain_graph=True)
            rows.append(torch.cat([_grad(p).reshape(-1) for p in params]).clone())
        return torch.stack(rows)
    finally:
        for p, g in zip(params, saved, strict=True):
            p.grad = g


def summation_matrix(n: int) -> torch.Tensor:
    """The running sum alone, ``[n, n]`` float64: L_il = 1 for l ≤ i, else 0.

    :func:`running_sum_jacobian` is L J + 1 gᵀ, so L's own singular vectors and values
    (sines of half-integer frequencies, σ_k ∝ 1/(2k − 1) roughly) are a reference that
    holds no network.
    """
    return torch.tril(torch.ones(n, n, dtype=torch.float64))


def _grad(p: torch.Tensor) -> torch.Tensor:
    return p.grad if p.grad is not None else torch.zeros_like(p)
