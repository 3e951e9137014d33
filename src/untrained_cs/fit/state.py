"""A fit in progress, saveable to one file and loadable onto freshly built modules.

:class:`FitState` holds everything the loop (:func:`~untrained_cs.fit.loop.run_until`)
needs to continue: the working generator and operator, the settings, the optimiser, the
stopping rule's bookkeeping, the learning rates, divergence restarts and the last good
snapshot, the history logged so far, the iteration counter, the elapsed fit seconds and the
torch CPU RNG state, and the compute batch (:class:`~untrained_cs.fit.members.Work`: the
members still computed). Between iterations it is complete: saving, loading in another
process and continuing gives the same numbers as never stopping (bit for bit on the CPU).
The file (its sections: :mod:`~untrained_cs.fit.checkpoint`) keeps the full layout (every
member's parameters and optimiser state) and lists the members of the compute batch,
which loading splits off again.

A state is built in one place, :meth:`FitState.start`: a new fit's
(:func:`~untrained_cs.fit.engine.init_state`) and a loaded one's (:meth:`FitState.load`,
which then puts the saved progress into it).
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
from ..solvers.norms import weight_scale
from ..version import package_version
from . import checkpoint as ckpt
from .inputs import check_inputs, on_device, resolve_device
from .members import Work, full_snapshot, restrict, sync, whole_batch
from .optim import OPTIMIZERS, MemberwiseOptimizer
from .schedule import Rates
from .selection import Holdout, Settled
from .settings import FitSettings
from .stopping import StopState

History = ckpt.History


def tv_weights(operator: Operator, y: torch.Tensor, relative: float) -> torch.Tensor | None:
    """The TV term's weight per member ``[B]``: ``relative`` × max|Aᵀy_b| (the scale the
    TV solver's weights are given in), None when ``relative`` is 0."""
    if relative == 0:
        return None
    return (relative * weight_scale(operator, y)).float()


@dataclass
class FitState:
    """A fit between two iterations (see module docstring).

    Attributes:
        generator: the working generator (a copy of the caller's) of all B members, at
            the current θ once :func:`~untrained_cs.fit.members.sync` has run.
        operator: the operator on the fit's device; y, truth: the problem there.
        device: where the fit runs; settings: what it runs with (optimizer, stopping
            rule, schedule, restarts, compaction, cap).
        opt: the memberwise optimiser of all members (current after ``sync`` too).
        stop: the stopping rule's bookkeeping; rates: the learning rates
            (:class:`~untrained_cs.fit.schedule.Rates`); restarts: divergences undone.
        work: the compute batch (its optimiser's rates: set by ``rates``; its snapshot:
            the state tensors at the last good check).
        log: history lists (iteration, loss, lr, mse, compute_batch); iteration: steps
            taken so far.
        seconds: elapsed fit time so far; rng_state: the torch CPU RNG at the last pause.
        error: optional scorer: generator output → per-member MSE in the space the truth
            lives in (normalised by the data range²); logged as ``mse`` in place of the
            plain comparison.
        holdout: the hold-out rule's entries and best iterate (None: every entry is fitted).
        settled: the settled rule's references (None: another rule ends the fit).
        tv: the TV term's weight per member ``[B]``, ``settings.tv_weight`` × max|Aᵀy_b|
            (None: no TV term).
    """

    generator: Generator
    operator: Operator
    y: torch.Tensor
    truth: torch.Tensor | None
    device: torch.device
    settings: FitSettings
    opt: MemberwiseOptimizer
    stop: StopState
    rates: Rates
    restarts: np.ndarray
    work: Work
    log: History
    rng_state: torch.Tensor
    iteration: int = 0
    seconds: float = 0.0
    error: Callable[[torch.Tensor], torch.Tensor] | None = None
    holdout: Holdout | None = None
    settled: Settled | None = None
    tv: torch.Tensor | None = None

    @classmethod
    def start(
        cls,
        generator: Generator,
        operator: Operator,
        y: torch.Tensor,
        truth: torch.Tensor | None,
        device: torch.device,
        settings: FitSettings,
        stop: StopState,
        rates: Rates,
        holdout: Holdout | None = None,
        settled: Settled | None = None,
    ) -> FitState:
        """A state at iteration 0 with every member in the compute batch: the one place a
        state is built.

        Args:
            generator, operator, y, truth: the fit's own modules and problem, on
                ``device``, where the fit runs; settings: what it runs with.
            stop, rates, holdout, settled: the stopping rule's bookkeeping, the
                learning rates, the hold-out and settled states, new or loaded.

        Returns:
            the state, its optimiser new (a loaded fit's state is put into it after).
        """
        params = [p for p in generator.parameters() if p.requires_grad]
        opt = OPTIMIZERS[settings.optimizer](params, torch.as_tensor(rates.base, device=device))
        opt.compiled = settings.compile
        keep, held = (None, None) if holdout is None else (holdout.keep, holdout.held)
        tv = tv_weights(operator, y, settings.tv_weight)
        state = cls(
            generator=generator,
            operator=operator,
            y=y,
            truth=truth,
            device=device,
            settings=settings,
            opt=opt,
            stop=stop,
            rates=rates,
            restarts=np.zeros(generator.batch, dtype=np.int64),
            work=whole_batch(generator, operator, y, truth, opt, opt.snapshot(), keep, held, tv),
            log={"iteration": [], "loss": [], "lr": [], "mse": [], "compute_batch": []},
            rng_state=torch.get_rng_state(),
            holdout=holdout,
            settled=settled,
            tv=tv,
        )
        rates.apply(state)
        return state

    def compute(self, members: np.ndarray) -> None:
        """Make ``members`` (full-batch indices, increasing) the compute batch of a state
        whose compute batch is still the full one, and give it its rates."""
        restrict(self, members)
        self.rates.apply(self)

    @property
    def finished(self) -> bool:
        """True when every member has stopped (none active, none queued)."""
        return not bool(self.stop.active.any() or self.stop.queued.any())

    @property
    def dtype(self) -> torch.dtype:
        """The floating dtype of the generator's trainable parameters."""
        return self.opt.params[0].dtype

    def to_payload(self) -> dict[str, Any]:
        """Everything needed to continue, as plain containers of CPU tensors (copies), in
        the full layout (the compute batch is written back first, and listed)."""
        sync(self)
        settings = {
            **self.settings.to_dict(),
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": str(self.device),
            "truth": self.truth is not None,
            "batch": int(self.generator.batch),
        }
        return {
            "format": ckpt.FORMAT,
            "version": package_version(),
            "settings": settings,
            "generator": {k: ckpt.cpu(v) for k, v in self.generator.state_dict().items()},
            "optimizer": self.opt.state_dict(),
            "snapshot": [ckpt.cpu(t) for t in full_snapshot(self)],
            "members": torch.from_numpy(self.work.index.astype(np.int64)),
            "stop": ckpt.stop_payload(self.stop),
            "rates": self.rates.state_dict(),
            "restarts": torch.from_numpy(self.restarts.astype(np.int64)),
            "history": ckpt.history_payload(self.log, self.generator.batch),
            "iteration": int(self.iteration),
            "seconds": float(self.seconds),
            "rng_state": self.rng_state.clone(),
            "holdout": None if self.holdout is None else ckpt.holdout_payload(self.holdout),
            "settled": None if self.settled is None else ckpt.settled_payload(self.settled),
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
        payload = ckpt.read(path)
        saved = payload["settings"]
        _check_match(saved, generator, truth, path)
        y, truth = check_inputs(generator, operator, y, truth)
        dev = resolve_device(device if device is not None else saved["device"])
        _restore_generator(generator, payload["generator"], path)
        generator.to(dev)
        settings = FitSettings.from_dict(saved)
        holdout, settled = payload.get("holdout"), payload.get("settled")
        state = cls.start(
            generator,
            on_device(operator, dev),
            y.to(dev),
            truth.to(dev) if truth is not None else None,
            dev,
            settings,
            ckpt.stop_from_payload(payload["stop"], settings.rule),
            Rates.from_state_dict(payload["rates"], settings.schedule),
            None if holdout is None else ckpt.holdout_from_payload(holdout, dev),
            None if settled is None else ckpt.settled_from_payload(settled, dev),
        )
        state.error = error
        state._resume(payload)
        members = payload.get("members")
        state.compute(np.arange(generator.batch) if members is None else members.numpy())
        return state

    def _resume(self, payload: dict[str, Any]) -> None:
        """Put the saved progress of ``payload`` into a state just started from it."""
        self.opt.load_state_dict(payload["optimizer"])
        self.work.snapshot = [t.to(self.device) for t in payload["snapshot"]]
        self.restarts = payload["restarts"].numpy().copy()
        self.log = ckpt.history_from_payload(payload["history"], self.generator.batch)
        self.iteration = int(payload["iteration"])
        self.seconds = float(payload["seconds"])
        self.rng_state = payload["rng_state"].clone()
        torch.set_rng_state(payload["rng_state"])


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
