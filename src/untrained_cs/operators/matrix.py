"""A given dense matrix as an operator: y = A x, one matrix per independent draw."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .base import Operator, Shape


class MatrixOperator(Operator):
    """y = A x for a given ``matrix`` ``[m, n]`` (or ``[count, m, n]``: one per member).

    Args:
        matrix: float32, float64 or bfloat16 (bf16: float32 accumulation).
        in_shape: shape of one signal (n entries; default ``(1, n)``).
    """

    matrix: torch.Tensor

    def __init__(self, matrix: torch.Tensor, in_shape: Shape | None = None) -> None:
        mats = matrix if matrix.dim() == 3 else matrix.unsqueeze(0)
        if mats.dim() != 3:
            raise ValueError(
                f"MatrixOperator needs [m, n] or [count, m, n], got {list(matrix.shape)}"
            )
        count, m, n = mats.shape
        shape = tuple(in_shape) if in_shape is not None else (1, n)
        super().__init__(shape, (int(m),), count=int(count))
        if self.n != n:
            raise ValueError(
                f"MatrixOperator in_shape {shape} has {self.n} entries, A has {n} columns"
            )
        self.register_buffer("matrix", mats)

    def select(self, members: Sequence[int]) -> MatrixOperator:
        """The operator of the listed draws only, in that order (itself when it holds one
        matrix, which every member shares)."""
        if self.count == 1:
            return self
        idx = torch.as_tensor(list(members), dtype=torch.long, device=self.matrix.device)
        return MatrixOperator(self.matrix.index_select(0, idx), self.in_shape)

    def _compute_dtype(self, x: torch.Tensor) -> torch.dtype:
        return torch.float64 if x.dtype == torch.float64 else torch.float32

    def _matmul(self, x: torch.Tensor, transpose: bool) -> torch.Tensor:
        a = self.matrix
        out_dtype = self._compute_dtype(x)
        if a.dtype == torch.bfloat16:
            # bf16 operands, float32 accumulation inside the matmul kernel.
            x = x.to(torch.bfloat16)
        else:
            a = a.to(out_dtype)
            x = x.to(out_dtype)
        if self.count == 1:
            mat = a[0]
            out = x @ mat if transpose else x @ mat.T
        else:
            # Row vector times matrix: BLAS then streams A once along its rows; the
            # column form (A @ x[..., None]) measured slower on CPU, see bench/RESULTS.md.
            mat = a if transpose else a.transpose(1, 2)
            out = torch.bmm(x.unsqueeze(1), mat).squeeze(1)
        return out.to(out_dtype)

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        return self._matmul(x.reshape(x.shape[0], -1), transpose=False)

    def rmatvec(self, y: torch.Tensor) -> torch.Tensor:
        return self._matmul(y, transpose=True).reshape(y.shape[0], *self.in_shape)


def stack_rows(matrices: Sequence[torch.Tensor], in_shape: Shape | None = None) -> MatrixOperator:
    """One operator of ``count`` draws from matrices ``[m_b, n]`` of different heights.

    Shorter matrices are padded with zero rows to the largest m: their extra measurements
    are 0 for every input, so with y padded by zeros too, ½||A x − y||², its gradient and
    the entries :func:`~untrained_cs.operators.noise.measured_entries` finds are those of
    draw b alone.

    Args:
        matrices: one ``[m_b, n]`` matrix per draw (one dtype, one n).
        in_shape: the shape of one signal (default ``(1, n)``).
    """
    if not matrices:
        raise ValueError("stack_rows needs at least one matrix")
    mats = [a[0] if a.dim() == 3 and a.shape[0] == 1 else a for a in matrices]
    if any(a.dim() != 2 for a in mats) or len({a.shape[1] for a in mats}) != 1:
        shapes = [list(a.shape) for a in matrices]
        raise ValueError(f"stack_rows needs [m, n] matrices of one n, got {shapes}")
    height = max(a.shape[0] for a in mats)
    out = mats[0].new_zeros(len(mats), height, mats[0].shape[1])
    for b, a in enumerate(mats):
        out[b, : a.shape[0]] = a
    return MatrixOperator(out, in_shape)
