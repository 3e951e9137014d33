"""The sections of a fit state file: plain containers of CPU tensors, one per part of the state.

A file (:meth:`~untrained_cs.fit.state.FitState.save`) is a ``torch.save`` of a dict of
plain containers (tensors, lists, dicts, str, int, float, bool, None), so it loads with
``torch.load(weights_only=True)``. Its keys: ``format`` (:data:`FORMAT`), ``settings``
(:meth:`~untrained_cs.fit.settings.FitSettings.to_dict` and what the modules must match),
``generator``, ``optimizer``, ``snapshot``, ``members`` (the compute batch), ``stop``,
``rates`` (:meth:`~untrained_cs.fit.schedule.Rates.state_dict`), ``restarts``,
``history``, ``iteration``, ``seconds``, ``rng_state`` and ``holdout``. Files of format 1
(the schedule's settings inside the rule, the rates inside the stop's section) are read
through :func:`upgrade`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from ..version import check_format
from .schedule import SCHEDULE_FIELDS
from .selection import Holdout, Settled
from .settings import RULE_FIELDS
from .stopping import StopRule, StopState

FORMAT = 2
#: the formats :func:`upgrade` reads
READABLE = (1, 2)
History = dict[str, list[Any]]


def cpu(t: torch.Tensor) -> torch.Tensor:
    """A CPU copy that never aliases the live tensor."""
    return t.detach().to("cpu", copy=True)


#: the entries every state file of each format holds (``version``, ``members`` and
#: ``holdout`` are optional)
PAYLOAD_KEYS = {
    1: ("format", "settings", "generator", "optimizer", "snapshot", "stop", "lr", "restarts",
        "history", "iteration", "seconds", "rng_state"),
    2: ("format", "settings", "generator", "optimizer", "snapshot", "stop", "rates",
        "restarts", "history", "iteration", "seconds", "rng_state"),
}  # fmt: skip


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The payload of a state file, checked before anything is built from it, in the
    layout of :data:`FORMAT` (:func:`upgrade`).

    Raises:
        ValueError: one line: the file cannot be read (truncated, damaged), is no fit
            state, misses entries (named), or was written in a newer format
            (:class:`~untrained_cs.version.NewerFormat`, naming the version).
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch's zip reader, the unpickler, the file system
        reason = (str(exc).strip() or type(exc).__name__).splitlines()[0].split(". ")[0]
        raise ValueError(f"{path} cannot be read, it is damaged ({reason[:120]})") from None
    if not isinstance(payload, dict) or "format" not in payload:
        raise ValueError(f"{path} is not a fit state file")
    check_format(path, "checkpoint", payload["format"], FORMAT, payload.get("version"))
    missing = [k for k in PAYLOAD_KEYS.get(payload["format"], ()) if k not in payload]
    if payload["format"] not in READABLE or missing:
        raise ValueError(f"{path} is not a whole fit state file: no {', '.join(missing)}")
    return upgrade(payload)


def upgrade(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload of a readable format in the layout of :data:`FORMAT` (a shallow copy).

    Format 1 kept the schedule's fields in ``settings["rule"]``, the initial rates and the
    plateau counts in ``stop`` and the base rates in ``lr``.
    """
    if payload["format"] != 1:
        return payload
    out, settings, stop = dict(payload), dict(payload["settings"]), dict(payload["stop"])
    saved_rule = settings["rule"]
    settings["rule"] = {k: v for k, v in saved_rule.items() if k in RULE_FIELDS}
    settings["schedule"] = {k: v for k, v in saved_rule.items() if k in SCHEDULE_FIELDS}
    rates = {"lr0": stop.pop("lr0"), "base": out.pop("lr"), "bad_checks": stop.pop("bad_checks")}
    out.update(format=FORMAT, settings=settings, stop=stop, rates=rates)
    return out


def holdout_payload(h: Holdout) -> dict[str, Any]:
    """The hold-out section."""
    return {
        "held": cpu(h.held),
        "patience": int(h.patience),
        "best": torch.from_numpy(h.best.astype(np.float64)),
        "iteration": torch.from_numpy(h.iteration.astype(np.int64)),
        "since": torch.from_numpy(h.since.astype(np.int64)),
        "output": None if h.output is None else cpu(h.output),
    }


def holdout_from_payload(saved: dict[str, Any], dev: torch.device) -> Holdout:
    """Inverse of :func:`holdout_payload`, on ``dev``."""
    h = Holdout(saved["held"].to(dev), int(saved["patience"]))
    h.best = saved["best"].numpy().copy()
    h.iteration = saved["iteration"].numpy().copy()
    h.since = saved["since"].numpy().copy()
    h.output = None if saved["output"] is None else saved["output"].to(dev)
    return h


def settled_payload(s: Settled) -> dict[str, Any]:
    """The settled rule's section."""
    return {
        "groups": torch.from_numpy(s.groups.astype(np.int64)),
        "window": int(s.window),
        "tol": float(s.tol),
        "reference": None if s.reference is None else cpu(s.reference),
        "since": torch.from_numpy(s.since.astype(np.int64)),
        "change": torch.from_numpy(s.change.astype(np.float64)),
    }


def settled_from_payload(saved: dict[str, Any], dev: torch.device) -> Settled:
    """Inverse of :func:`settled_payload`, on ``dev``."""
    reference = saved["reference"]
    return Settled(
        saved["groups"].numpy().copy(),
        int(saved["window"]),
        float(saved["tol"]),
        None if reference is None else reference.to(dev),
        saved["since"].numpy().copy(),
        saved["change"].numpy().copy(),
    )


def stop_payload(stop: StopState) -> dict[str, Any]:
    """The stopping rule's section."""
    b = len(stop.floor)
    losses = np.stack(stop.losses) if stop.losses else np.zeros((0, b))
    return {
        "floor": torch.from_numpy(np.asarray(stop.floor, dtype=np.float64).copy()),
        "best": torch.from_numpy(stop.best.astype(np.float64)),
        "losses": torch.from_numpy(losses.astype(np.float64)),
        "active": torch.from_numpy(stop.active.copy()),
        "reason": list(stop.reason),
        "stop_iteration": torch.from_numpy(stop.stop_iteration.astype(np.int64)),
        "floor_reason": stop.floor_reason,
        "start": torch.from_numpy(stop.start.astype(np.int64)),
        "queued": torch.from_numpy(stop.queued.copy()),
    }


def stop_from_payload(saved: dict[str, Any], rule: StopRule) -> StopState:
    """Inverse of :func:`stop_payload`, under ``rule``."""
    stop = StopState(
        rule,
        floor=saved["floor"].numpy().copy(),
        floor_reason=str(saved.get("floor_reason", "loss_floor")),
    )
    stop.best = saved["best"].numpy().copy()
    stop.losses = [row.copy() for row in saved["losses"].numpy()]
    stop.active = saved["active"].numpy().copy()
    stop.reason = [str(r) for r in saved["reason"]]
    stop.stop_iteration = saved["stop_iteration"].numpy().copy()
    if "start" in saved:  # files from before the queue had every member start at 0
        stop.start = saved["start"].numpy().copy()
        stop.queued = saved["queued"].numpy().copy()
    stop.refresh_starts()
    return stop


def history_payload(log: History, batch: int) -> dict[str, Any]:
    """The history section (the logged rows)."""
    out: dict[str, Any] = {"iteration": [int(i) for i in log["iteration"]]}
    out["compute_batch"] = [int(b) for b in log["compute_batch"]]
    for key in ("loss", "lr", "mse"):
        rows = log[key]
        arr = np.stack(rows) if rows else np.zeros((0, batch))
        out[key] = torch.from_numpy(arr.astype(np.float64))
    return out


def history_from_payload(saved: dict[str, Any], batch: int) -> History:
    """Inverse of :func:`history_payload`."""
    log: History = {"iteration": [int(i) for i in saved["iteration"]]}
    # files from before compaction computed every member at every iteration
    computed = saved.get("compute_batch", [batch] * len(log["iteration"]))
    log["compute_batch"] = [int(b) for b in computed]
    for key in ("loss", "lr", "mse"):
        log[key] = [row.copy() for row in saved[key].numpy()]
    return log
