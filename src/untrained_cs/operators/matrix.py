"""A given dense matrix as an operator: y = A x, one matrix per independent draw."""

from __future__ import annotations

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
