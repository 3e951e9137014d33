"""A fit in progress, saveable to one file and loadable onto freshly built modules.

:class:`FitState` holds everything the loop (:func:`~untrained_cs.fit.loop.run_until`)
needs to continue: the working generator and operator, the optimiser, the stopping rule's
bookkeeping, the learning rates, divergence restarts and the last good snapshot, the
history logged so far, the iteration counter, the elapsed fit seconds and the torch CPU
RNG state, and the compute batch (:class:`~untrained_cs.fit.members.Work`: the members
still computed). Between iterations it is complete: saving, loading in another process and
continuing gives the same numbers as never stopping (bit for bit on the CPU). The file
keeps the full layout (every member's parameters and optimiser state) and lists the
members of the compute batch, which loading splits off again.

The file is a ``torch.save`` of plain containers (tensors, lists, dicts, str, int, float,
bool, None), so it loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..generators.base import Generator
from ..operators.base import Operator
from ..version import package_version
from .inputs import check_inputs, on_device, resolve_device
from .members import COMPACT_AT, Work, full_snapshot, restrict, set_rates, sync, whole_batch
from .optim import OPTIMIZERS, MemberwiseOptimizer
from .selection import Holdout
from .stopping import StopRule, StopState

FORMAT = 1
History = dict[str, list[Any]]


@dataclass
class FitState:
    """A fit between two iterations (see module docstring).

    Attributes:
        generator: the working generator (a copy of the caller's) of all B members, at
            the current θ once :func:`~untrained_cs.fit.members.sync` has run.
        operator: the operator on the fit's device; y, truth: the problem there.
        opt: the memberwise optimiser of all members (current after ``sync`` too).
        stop: the stopping rule's bookkeeping; ``stop.rule`` is the rule in force.
        lr_np: per-member learning rates ``[B]`` (float64); restarts: divergences undone.
        log: history lists (iteration, loss, lr, mse, compute_batch); iteration: steps
            taken so far.
        seconds: elapsed fit time so far; rng_state: the torch CPU RNG at the last pause.
        optimizer, max_restarts, device: the settings the fit was started with.
        work: the compute batch (its optimiser's rates: ``lr_np`` where active, else 0;
            its snapshot: the state tensors at the last good check).
        compact_at: the active share of the compute batch at which stopped members are
            dropped from it (0: never, they stay frozen in the batch).
        cap: the most members computed at once (None: all); the others wait in the
            queue (``stop.queued``) until places free up.
    """

    generator: Generator
    operator: Operator
    y: torch.Tensor
    truth: torch.Tensor | None
    opt: MemberwiseOptimizer
    stop: StopState
    lr_np: np.ndarray
    restarts: np.ndarray
    log: History
    iteration: int
    seconds: float
    rng_state: torch.Tensor
    optimizer: str
    max_restarts: int
    device: torch.device
    work: Work
    compact_at: float = COMPACT_AT
    cap: int | None = None
    #: optional scorer: generator output → per-member MSE in the space the truth lives in
    #: (normalised by the data range²); logged as ``mse`` in place of the plain comparison
    error: Callable[[torch.Tensor], torch.Tensor] | None = None
    #: the hold-out rule's entries and best iterate (None: every entry is fitted)
    holdout: Holdout | None = None

    @property
    def rule(self) -> StopRule:
        """The stopping rule in force (the fit's own copy)."""
        return self.stop.rule

    @property
    def finished(self) -> bool:
        """True when every member has stopped (none active, none queued)."""
        return not bool(self.stop.active.any() or self.stop.queued.any())

    @property
    def dtype(self) -> torch.dtype:
        """The floating dtype of the generator's trainable parameters."""
        return self.opt.params[0].dtype

    def settings(self) -> dict[str, Any]:
        """The fit's settings as plain values (optimizer, rule, max_restarts, dtype, device)."""
        return {
            "optimizer": self.optimizer,
            "rule": dict(vars(self.rule)),
            "max_restarts": self.max_restarts,
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": str(self.device),
            "truth": self.truth is not None,
            "batch": int(self.generator.batch),
            "compact_at": float(self.compact_at),
            "cap": self.cap,
        }

    def to_payload(self) -> dict[str, Any]:
        """Everything needed to continue, as plain containers of CPU tensors (copies), in
        the full layout (the compute batch is written back first, and listed)."""
        sync(self)
        return {
            "format": FORMAT,
            "version": package_version(),
            "settings": self.settings(),
            "generator": {k: _cpu(v) for k, v in self.generator.state_dict().items()},
            "optimizer": self.opt.state_dict(),
            "snapshot": [_cpu(t) for t in full_snapshot(self)],
            "members": torch.from_numpy(self.work.index.astype(np.int64)),
            "stop": _stop_payload(self.stop),
            "lr": torch.from_numpy(self.lr_np.astype(np.float64)),
            "restarts": torch.from_numpy(self.restarts.astype(np.int64)),
            "history": _history_payload(self.log, self.generator.batch),
            "iteration": int(self.iteration),
            "seconds": float(self.seconds),
            "rng_state": self.rng_state.clone(),
            "holdout": None if self.holdout is None else _holdout_payload(self.holdout),
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the state to ``path`` atomically (temp file, fsync, rename).

        Args:
            path: the file to write; its folder must exist.

        Returns:
            ``path`` as a :class:`~pathlib.Path`.
        """
        path = Path(path)
        payload = self.to_payload()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(payload, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_folder(path.parent)
        return path

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        generator: Generator,
        operator: Operator,
        y: torch.Tensor,
        truth: torch.Tensor | None = None,
        *,
        device: str | torch.device | None = None,
        error: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> FitState:
        """Rebuild a saved state onto freshly constructed modules.

        The generator is taken over: the saved parameters and buffers are copied into it
        and it is moved to the device. The operator is used as is (a moved copy when it
        lives elsewhere). The torch CPU RNG is set to the saved state.

        Args:
            path: a file written by :meth:`save`.
            generator, operator: built from the same configuration as the saved fit's.
            y, truth: the same measurements (and ground truth, if the fit had it).
            device: where to continue; default the device the state was saved from.
            error: the scorer the fit had (see the ``error`` attribute), if any.

        Returns:
            the :class:`FitState`, ready for :func:`~untrained_cs.fit.loop.run_until`.

        Raises:
            ValueError: when the file, the modules or the problem do not match.
        """
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"{path} is not a fit state file (format {FORMAT})")
        settings = payload["settings"]
        _check_match(settings, generator, truth, path)
        y, truth = check_inputs(generator, operator, y, truth)
        dev = resolve_device(device if device is not None else settings["device"])
        _restore_generator(generator, payload["generator"], path)
        generator.to(dev)
        op = on_device(operator, dev)
        holdout = payload.get("holdout")
        held = None if holdout is None else _holdout_from_payload(holdout, dev)
        state = cls._assemble(payload, generator, op, y.to(dev), truth, dev, held)
        state.error = error
        members = payload.get("members")
        if members is not None:
            restrict(state, members.numpy())
        return state

    @classmethod
    def _assemble(
        cls,
        payload: dict[str, Any],
        generator: Generator,
        operator: Operator,
        y: torch.Tensor,
        truth: torch.Tensor | None,
        dev: torch.device,
        holdout: Holdout | None,
    ) -> FitState:
        settings = payload["settings"]
        stop = _stop_from_payload(payload["stop"], StopRule(**settings["rule"]))
        lr_np = payload["lr"].numpy().copy()
        params = [p for p in generator.parameters() if p.requires_grad]
        opt = OPTIMIZERS[settings["optimizer"]](params, torch.as_tensor(lr_np, device=dev))
        opt.load_state_dict(payload["optimizer"])
        rng_state = payload["rng_state"]
        torch.set_rng_state(rng_state)
        truth = truth.to(dev) if truth is not None else None
        snapshot = [t.to(dev) for t in payload["snapshot"]]
        keep, held = (None, None) if holdout is None else (holdout.keep, holdout.held)
        state = cls(
            generator=generator,
            operator=operator,
            y=y,
            truth=truth,
            opt=opt,
            stop=stop,
            lr_np=lr_np,
            restarts=payload["restarts"].numpy().copy(),
            log=_history_from_payload(payload["history"], int(settings["batch"])),
            iteration=int(payload["iteration"]),
            seconds=float(payload["seconds"]),
            rng_state=rng_state.clone(),
            optimizer=settings["optimizer"],
            max_restarts=int(settings["max_restarts"]),
            device=dev,
            work=whole_batch(generator, operator, y, truth, opt, snapshot, keep, held),
            compact_at=float(settings.get("compact_at", COMPACT_AT)),
            cap=settings.get("cap"),
            holdout=holdout,
        )
        set_rates(state)
        return state


def _cpu(t: torch.Tensor) -> torch.Tensor:
    """A CPU copy that never aliases the live tensor."""
    return t.detach().to("cpu", copy=True)


def _check_match(
    settings: dict[str, Any], generator: Generator, truth: torch.Tensor | None, path: Any
) -> None:
    name = type(generator).__name__
    if settings["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"{path}: unknown optimizer {settings['optimizer']!r}")
    if int(settings["batch"]) != generator.batch:
        raise ValueError(
            f"{path} holds {settings['batch']} members but {name} has {generator.batch}"
        )
    trained = [p for p in generator.parameters() if p.requires_grad]
    dtypes = {str(p.dtype).removeprefix("torch.") for p in trained}
    if dtypes != {settings["dtype"]}:
        raise ValueError(
            f"{path} was saved with {settings['dtype']} parameters but {name} has "
            f"{', '.join(sorted(dtypes))}"
        )
    if bool(settings["truth"]) != (truth is not None):
        said = "with" if settings["truth"] else "without"
        raise ValueError(f"{path} was saved from a fit {said} ground truth; load it {said}")


def _restore_generator(generator: Generator, saved: dict[str, torch.Tensor], path: Any) -> None:
    try:
        generator.load_state_dict(saved, strict=True)
    except RuntimeError as exc:
        raise ValueError(
            f"{path} does not fit {type(generator).__name__}: {str(exc).splitlines()[0]}"
        ) from None


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _holdout_payload(h: Holdout) -> dict[str, Any]:
    return {
        "held": _cpu(h.held),
        "patience": int(h.patience),
        "best": torch.from_numpy(h.best.astype(np.float64)),
        "iteration": torch.from_numpy(h.iteration.astype(np.int64)),
        "since": torch.from_numpy(h.since.astype(np.int64)),
        "output": None if h.output is None else _cpu(h.output),
    }


def _holdout_from_payload(saved: dict[str, Any], dev: torch.device) -> Holdout:
    h = Holdout(saved["held"].to(dev), int(saved["patience"]))
    h.best = saved["best"].numpy().copy()
    h.iteration = saved["iteration"].numpy().copy()
    h.since = saved["since"].numpy().copy()
    h.output = None if saved["output"] is None else saved["output"].to(dev)
    return h


def _stop_payload(stop: StopState) -> dict[str, Any]:
    b = len(stop.floor)
    losses = np.stack(stop.losses) if stop.losses else np.zeros((0, b))
    return {
        "floor": torch.from_numpy(np.asarray(stop.floor, dtype=np.float64).copy()),
        "lr0": torch.from_numpy(np.asarray(stop.lr0, dtype=np.float64).copy()),
        "best": torch.from_numpy(stop.best.astype(np.float64)),
        "bad_checks": torch.from_numpy(stop.bad_checks.astype(np.int64)),
        "losses": torch.from_numpy(losses.astype(np.float64)),
        "active": torch.from_numpy(stop.active.copy()),
        "reason": list(stop.reason),
        "stop_iteration": torch.from_numpy(stop.stop_iteration.astype(np.int64)),
        "floor_reason": stop.floor_reason,
        "start": torch.from_numpy(stop.start.astype(np.int64)),
        "queued": torch.from_numpy(stop.queued.copy()),
    }


def _stop_from_payload(saved: dict[str, Any], rule: StopRule) -> StopState:
    stop = StopState(
        rule,
        floor=saved["floor"].numpy().copy(),
        lr0=saved["lr0"].numpy().copy(),
        floor_reason=str(saved.get("floor_reason", "loss_floor")),
    )
    stop.best = saved["best"].numpy().copy()
    stop.bad_checks = saved["bad_checks"].numpy().copy()
    stop.losses = [row.copy() for row in saved["losses"].numpy()]
    stop.active = saved["active"].numpy().copy()
    stop.reason = [str(r) for r in saved["reason"]]
    stop.stop_iteration = saved["stop_iteration"].numpy().copy()
    if "start" in saved:  # files from before the queue had every member start at 0
        stop.start = saved["start"].numpy().copy()
        stop.queued = saved["queued"].numpy().copy()
    stop.refresh_starts()
    return stop


def _history_payload(log: History, batch: int) -> dict[str, Any]:
    out: dict[str, Any] = {"iteration": [int(i) for i in log["iteration"]]}
    out["compute_batch"] = [int(b) for b in log["compute_batch"]]
    for key in ("loss", "lr", "mse"):
        rows = log[key]
        arr = np.stack(rows) if rows else np.zeros((0, batch))
        out[key] = torch.from_numpy(arr.astype(np.float64))
    return out


def _history_from_payload(saved: dict[str, Any], batch: int) -> History:
    log: History = {"iteration": [int(i) for i in saved["iteration"]]}
    # files from before compaction computed every member at every iteration
    computed = saved.get("compute_batch", [batch] * len(log["iteration"]))
    log["compute_batch"] = [int(b) for b in computed]
    for key in ("loss", "lr", "mse"):
        log[key] = [row.copy() for row in saved[key].numpy()]
    return log
