"""The compute batch: the members a fit still computes, split off from its full batch.

A fit of B members runs its forward and backward passes on ``state.work``, a :class:`Work`.
At first that is all B members, sharing the state's own modules. When members stop, they
are frozen (learning rate 0) but still computed until the active share of the compute
batch falls to :data:`COMPACT_AT`; then the loop *compacts*: the compute batch is written
back into the full-size modules (:func:`sync`) and replaced by a sub-batch of the active
members only (their parameters, optimiser state, snapshot, operator rows, y, truth and
hold-out masks). So compute follows the active members, not the slowest one, and a
member's own arithmetic is the same whichever others are computed beside it.

The state's full-size generator and optimiser are current only after :func:`sync`, which
saving and finishing call. Compaction needs an operator every member shares (``count``
1) or one with a ``select(members)`` method (a
:class:`~untrained_cs.operators.matrix.MatrixOperator`); with other operators the
stopped members stay frozen in the batch.

A fit may also compute at most ``cap`` members at once: the others wait in a queue
(``stop.queued``) and :func:`admit_queued` brings them into the compute batch, at a check,
as places free up. A member admitted at loop iteration s counts its own iterations from s
(``stop.start``), so its numbers are those it would have had alone; and a batch of many
fits costs about what its active members cost, at the batch size where the kernels are
efficient, instead of the slowest member setting everyone's time.

The functions here change which members are computed, never a rate: a caller whose
compute batch changed gives it its rates (:meth:`~untrained_cs.fit.schedule.Rates.apply`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from ..generators.base import Generator
from ..operators.base import Operator
from .optim import MemberwiseOptimizer
from .stopping import StopState

#: compact when the active members are at most this share of the compute batch (so that
#: splitting, which copies the active members' tensors, happens a few times per fit only)
COMPACT_AT = 0.75


@dataclass
class Work:
    """The members the loop computes, and their tensors (rows in the order of ``index``).

    Attributes:
        index: the full-batch member of each row ``[b]`` (int64, increasing).
        generator, operator, y, truth: the sub-batch's modules and problem.
        opt: its optimiser (rates 0 for stopped members); snapshot: its state at the last
            good check (for undoing a divergence).
        keep, held: the hold-out masks of these members (None without a hold-out).
        tv: the TV term's weight of these members ``[b]`` (None: no TV term).
    """

    index: np.ndarray
    generator: Generator
    operator: Operator
    y: torch.Tensor
    truth: torch.Tensor | None
    opt: MemberwiseOptimizer
    snapshot: list[torch.Tensor]
    keep: torch.Tensor | None = None
    held: torch.Tensor | None = None
    tv: torch.Tensor | None = None

    @property
    def size(self) -> int:
        """The number of members computed."""
        return len(self.index)

    def select(self, rows: np.ndarray) -> Work | None:
        """The work of the rows ``rows`` of this one (positions, increasing), or None when
        the operator cannot be split by member."""
        operator = _select_operator(self.operator, rows)
        if operator is None:
            return None
        device = self.y.device
        idx = torch.as_tensor(rows, dtype=torch.long, device=device)
        generator = self.generator.select(rows.tolist())
        params: list[torch.Tensor] = [p for p in generator.parameters() if p.requires_grad]
        return Work(
            index=self.index[rows],
            generator=generator,
            operator=operator,
            y=self.y.index_select(0, idx),
            truth=_rows(self.truth, idx),
            opt=self.opt.select(params, idx),
            snapshot=[s.index_select(0, idx) for s in self.snapshot],
            keep=_rows(self.keep, idx),
            held=_rows(self.held, idx),
            tv=_rows(self.tv, idx),
        )


def _rows(t: torch.Tensor | None, idx: torch.Tensor) -> torch.Tensor | None:
    """Rows ``idx`` of a per-member tensor; one shared by all members (leading 1) as is."""
    if t is None or t.shape[0] == 1:
        return t
    return t.index_select(0, idx.to(t.device))


def _select_operator(op: Operator, rows: np.ndarray) -> Operator | None:
    if op.count == 1:
        return op
    select = getattr(op, "select", None)
    return None if select is None else select(rows.tolist())


class FitState(Protocol):
    """What the functions below need of a :class:`~untrained_cs.fit.state.FitState` (named
    here so that this lower layer does not import the state that builds on it)."""

    work: Work
    generator: Generator
    operator: Operator
    opt: MemberwiseOptimizer
    stop: StopState
    iteration: int
    device: torch.device
    y: torch.Tensor
    truth: torch.Tensor | None
    tv: torch.Tensor | None


def is_full(state: FitState) -> bool:
    """True while the compute batch is the full batch (the state's own modules)."""
    return state.work.generator is state.generator


def admit_queued(state: FitState, cap: int) -> np.ndarray:
    """Fill the free places of the compute batch (up to ``cap`` active members) with
    queued members, which start at this iteration; call it at a check iteration, before
    its forward pass.

    Returns:
        the members admitted (full-batch indices; empty: the compute batch is unchanged).
    """
    stop, w = state.stop, state.work
    waiting = np.flatnonzero(stop.queued)
    running = w.index[stop.active[w.index]]
    new = waiting[: max(cap - len(running), 0)]
    if len(new) == 0:
        return new
    stop.admit(new, state.iteration)
    sync(state)  # the leaving (stopped) members' final rows reach the full modules
    # (a queue is never combined with a hold-out: the masks need not follow)
    whole = whole_batch(state.generator, state.operator, state.y, state.truth, state.opt,
                        full_snapshot(state), tv=state.tv)  # fmt: skip
    sub = whole.select(np.union1d(running, new))
    if sub is None:
        raise ValueError(f"{type(state.operator).__name__} cannot be split by member")
    state.work = sub
    return new


def spread(state: FitState, values: np.ndarray, fill: np.ndarray | None) -> np.ndarray:
    """Per-row values of the compute batch as a full ``[B]`` array; the members not
    computed take ``fill`` (their last logged value: they are frozen), else NaN."""
    w = state.work
    if is_full(state):
        return values
    full = np.full(state.generator.batch, np.nan) if fill is None else fill.astype(np.float64)
    full[w.index] = values
    return full


def scatter_rows(state: FitState, out: torch.Tensor) -> torch.Tensor:
    """Compute-batch rows placed into a full-size batch (zeros for the others)."""
    if is_full(state):
        return out
    idx = torch.as_tensor(state.work.index, device=out.device)
    full = out.new_zeros((state.generator.batch, *out.shape[1:]))
    return full.index_copy(0, idx, out)


@torch.no_grad()
def sync(state: FitState) -> None:
    """Write the compute batch's parameters and optimiser state into the full modules."""
    if is_full(state):
        return
    w = state.work
    state.generator.put(w.index.tolist(), w.generator)
    state.opt.put(torch.as_tensor(w.index, device=state.device), w.opt)


@torch.no_grad()
def full_snapshot(state: FitState) -> list[torch.Tensor]:
    """The snapshot in the full layout: the compute batch's, and for the other (stopped)
    members their current state, which is where they stopped. Call :func:`sync` first."""
    w = state.work
    if is_full(state):
        return w.snapshot
    idx = torch.as_tensor(w.index, device=state.device)
    return [t.index_copy(0, idx, s) for t, s in zip(state.opt.snapshot(), w.snapshot, strict=True)]


def maybe_compact(state: FitState, compact_at: float) -> bool:
    """Drop the stopped members from the compute batch when they leave at most a share
    ``compact_at`` of it active (0: never).

    Returns:
        whether the compute batch changed.
    """
    w = state.work
    alive = state.stop.active[w.index]
    count = int(alive.sum())
    if compact_at <= 0 or count == 0 or count > compact_at * w.size:
        return False
    sub = w.select(np.flatnonzero(alive))
    if sub is None:
        return False
    sync(state)  # the leaving members' final rows reach the full modules
    state.work = sub
    return True


def restrict(state: FitState, members: np.ndarray) -> None:
    """Make ``members`` (full-batch indices, increasing) the compute batch of a state whose
    compute batch is still the full one (a state just loaded from a file)."""
    if len(members) == state.generator.batch:
        return
    sub = state.work.select(np.asarray(members, dtype=np.int64))
    if sub is None:
        raise ValueError(f"{type(state.operator).__name__} cannot be split by member")
    state.work = sub


def whole_batch(
    generator: Generator,
    operator: Operator,
    y: torch.Tensor,
    truth: torch.Tensor | None,
    opt: MemberwiseOptimizer,
    snapshot: list[torch.Tensor],
    keep: torch.Tensor | None = None,
    held: torch.Tensor | None = None,
    tv: torch.Tensor | None = None,
) -> Work:
    """The compute batch of all members, on the fit's own modules (nothing copied)."""
    index = np.arange(generator.batch, dtype=np.int64)
    return Work(index, generator, operator, y, truth, opt, snapshot, keep, held, tv)
