"""Checking a fit state file before anything is built from it (``untrained-cs resume``).

:func:`check_state_file` loads a file written by :meth:`~untrained_cs.fit.state.FitState.save`
and refuses, in one line, one that is damaged, that is no fit state, that misses entries,
or that a newer version wrote in a newer format (naming that version), so that a command
can refuse it before it builds the problem or shows progress.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from ..version import check_format
from .state import FORMAT

#: the entries every fit state file holds (``version`` and ``holdout`` are optional)
PAYLOAD_KEYS = ("format", "settings", "generator", "optimizer", "snapshot", "stop", "lr",
                "restarts", "history", "iteration", "seconds", "rng_state")  # fmt: skip


def check_state_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a fit state file and check it, before anything is built from it.

    Args:
        path: a file written by :meth:`~untrained_cs.fit.state.FitState.save`.

    Returns:
        its payload (plain containers of CPU tensors).

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
    missing = [k for k in PAYLOAD_KEYS if k not in payload]
    if missing:
        raise ValueError(f"{path} is not a whole fit state file: no {', '.join(missing)}")
    return payload
