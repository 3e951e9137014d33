"""SIGINT and SIGTERM as requests to stop: a fit stops at its next iteration and saves its
state; anywhere else the command stops at once (raising :class:`Interrupted`)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from .common import Interrupted

EXIT_CODES: dict[int, int] = {int(signal.SIGINT): 130, int(signal.SIGTERM): 143}


class StopRequests:
    """The signal handlers' shared state: which signal came, and whether a fit polls it."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.polled = False  # a fit loop is running and checks :meth:`requested`

    def requested(self) -> bool:
        """The ``should_stop`` of the fit loop (called once per iteration)."""
        return self.signum is not None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        first = self.signum is None
        self.signum = signum
        if not (self.polled and first):  # outside a fit, or asked twice: stop right here
            raise Interrupted(signum)

    @contextmanager
    def polling(self) -> Iterator[StopRequests]:
        """Within this block a signal only sets the flag; the fit loop acts on it."""
        self.polled = True
        try:
            yield self
        finally:
            self.polled = False
        if self.signum is not None:
            raise Interrupted(self.signum)


@contextmanager
def stop_requests() -> Iterator[StopRequests]:
    """Install the handlers for the duration of a command; restore the old ones after."""
    requests = StopRequests()
    old = {s: signal.signal(s, requests.handle) for s in EXIT_CODES}
    try:
        yield requests
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
