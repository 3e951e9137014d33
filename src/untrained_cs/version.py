"""The package version, recorded in every file the tool writes, and the format checks that
use it: a file written in a newer format than this version reads is refused with one line
naming the version that wrote it.

Each kind of file has its own format number (the run folder's manifest, ``resume.json``,
the fit state file, the sweep store); a version that changes a layout so that older ones
would misread it raises that number.
"""

from __future__ import annotations

from typing import Any

#: the distribution name whose version is recorded
DISTRIBUTION = "untrained-cs"


def package_version() -> str:
    """The installed version of this package (``"unknown"`` in a bare source checkout)."""
    try:
        from importlib.metadata import version

        return version(DISTRIBUTION)
    except Exception:  # not installed as a distribution
        return "unknown"


class NewerFormat(ValueError):
    """A file was written in a format newer than this version reads (bad input, exit 2)."""


def check_format(path: Any, what: str, found: Any, known: int, written_by: Any = None) -> None:
    """Refuse a file whose format number is not one this version reads.

    Args:
        path: the file (named in the message).
        what: the kind of file, e.g. ``"resume"`` or ``"checkpoint"``.
        found: the format number the file declares.
        known: the newest format this version reads (it reads every older one too).
        written_by: the package version the file says wrote it, if it says.

    Raises:
        NewerFormat: ``found`` is a number above ``known``.
        ValueError: ``found`` is not a positive integer.
    """
    if isinstance(found, bool) or not isinstance(found, int) or found < 1:
        raise ValueError(f"{path}: {what} format must be a positive integer, got {found!r}")
    if found > known:
        by = f"untrained-cs {written_by}" if written_by else "a newer untrained-cs"
        raise NewerFormat(
            f"{path} was written by {by} ({what} format {found}); this is untrained-cs "
            f"{package_version()}, which reads {what} format {known} and older: use the "
            "version that wrote it, or a newer one"
        )
