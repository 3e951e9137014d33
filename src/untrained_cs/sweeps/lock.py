"""One coordinator per sweep folder: an operating-system file lock held while a sweep runs.

:func:`hold` takes an exclusive ``flock`` on ``DIR/coordinator.lock`` for as long as its
block runs and writes the holder's PID, host and start time into the file. A second
coordinator of the same folder (another terminal, a scheduler's retry, another thread) is
refused at once with :class:`SweepBusy`, naming that holder. The operating system releases
the lock when its process ends, however it ends (even SIGKILL), so a dead coordinator never
leaves a stale lock behind. Readers (``sweep status``, ``export``, ``report``) take no lock:
the store's write-ahead log lets them read while the coordinator writes.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOCK_NAME = "coordinator.lock"

#: locks this process holds: folder (resolved) → [file descriptor, thread, depth]
_HELD: dict[str, list[int]] = {}
_GUARD = threading.Lock()


class SweepBusy(ValueError):
    """Another coordinator holds the sweep folder (refused before any work, exit 2)."""


class LockUnavailable(ValueError):
    """The sweep folder's file system offers no file locks (refused before any work, exit 2)."""


@contextmanager
def hold(folder: Path) -> Iterator[None]:
    """Hold the coordinator lock of ``folder`` (created, with the folder, when missing).

    Re-entrant in the thread that holds it (the command line locks before planning, then
    :func:`~untrained_cs.sweeps.run.run_sweep` locks again). A folder this call created
    that holds nothing but the lock file when the block ends is removed again.

    Args:
        folder: the sweep folder.

    Raises:
        SweepBusy: another process, or another thread of this one, holds the lock.
        LockUnavailable: the file system cannot lock files.
    """
    folder = Path(folder)
    key = os.path.realpath(folder)
    with _GUARD:
        held = _HELD.get(key)
        if held is not None and held[1] != threading.get_ident():
            raise SweepBusy(busy_message(folder, read_holder(folder), this_process=True))
        if held is not None:
            held[2] += 1
    if held is not None:
        try:
            yield
        finally:
            with _GUARD:
                held[2] -= 1
        return
    created = not folder.exists()
    fd = _acquire(folder)
    with _GUARD:
        _HELD[key] = [fd, threading.get_ident(), 1]
    try:
        yield
    finally:
        with _GUARD:
            del _HELD[key]
        _release(fd, folder, tidy=created)


def _acquire(folder: Path) -> int:
    """Lock ``folder``'s lock file (exclusive, not waiting) and record this process in it."""
    path = folder / LOCK_NAME
    while True:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:  # the folder was removed meanwhile: make it again
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SweepBusy(busy_message(folder, read_holder(folder))) from None
        except OSError as exc:
            os.close(fd)
            raise LockUnavailable(
                f"cannot lock {path} ({exc.strerror or exc}): a sweep folder must be on a "
                "file system with file locks"
            ) from None
        if _same_file(path, fd):
            break
        os.close(fd)  # a holder removed the file before we locked it: lock the new one
    _record(fd)
    return fd


def _same_file(path: Path, fd: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _record(fd: int) -> None:
    """Write the holder (PID, host, start) into the locked file; best effort (a full disk
    leaves it empty, the lock holds all the same)."""
    holder = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": time.strftime("%Y-%m-%d %H:%M:%S")}  # fmt: skip
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
    except OSError:
        pass


def _release(fd: int, folder: Path, tidy: bool) -> None:
    """Unlock; with ``tidy``, first remove the folder when it holds only the lock file."""
    try:
        if tidy and [p.name for p in folder.iterdir()] == [LOCK_NAME]:
            (folder / LOCK_NAME).unlink()  # still locked: no one can lock this file now
            folder.rmdir()
        else:
            os.ftruncate(fd, 0)
    except OSError:
        pass
    finally:
        os.close(fd)  # releases the lock


def read_holder(folder: Path) -> dict[str, Any]:
    """What the lock file says of its holder (empty when it says nothing readable)."""
    try:
        holder = json.loads((Path(folder) / LOCK_NAME).read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def busy_message(folder: Path, holder: dict[str, Any], this_process: bool = False) -> str:
    """One line: who runs the folder, and what to do."""
    if this_process:
        who = f"another thread of this process (PID {os.getpid()})"
    elif "pid" in holder:
        who = f"PID {holder['pid']} on host {holder.get('host', '?')}"
        who += f", since {holder['started']}" if "started" in holder else ""
    else:
        who = "another process (it has not recorded its PID yet)"
    return (
        f"{folder} is being run by another `sweep run` ({who}); one coordinator per sweep "
        "folder: wait for it to finish or stop it, then run again (`sweep status` reads it "
        "meanwhile)"
    )
