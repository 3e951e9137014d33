"""Run folders that never touch what a command did not create.

A run writes into ``DIR.partial/`` (created, and probed for writing, before any work) and
only a complete run is moved to ``DIR``. A finished folder carries ``manifest.json``, the
list of the files the run wrote; that is what makes it replaceable with ``overwrite``:

* ``DIR`` missing or empty: the run lands there.
* ``DIR`` a finished run folder holding only its manifest's files, with ``overwrite``: the
  new folder is complete before the old one is renamed away and removed file by file.
* anything else (a non-empty folder of other files, a run folder someone added notes to, a
  file): refused before any work, and nothing is touched.
* ``DIR.partial/`` already there (an interrupted run, resumable): refused.

An interrupted run keeps ``DIR.partial/`` (its checkpoint and config); a failed one removes
it, since the command created it.

The manifest and ``resume.json`` record their format and the package version that wrote
them (:mod:`untrained_cs.version`); a manifest of a newer format is never replaced.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from .version import NewerFormat, check_format, package_version

MANIFEST = "manifest.json"
PARTIAL_SUFFIX = ".partial"
#: files of an unfinished run (fit state, the settings to resume with), never committed
CHECKPOINT = "checkpoint.pt"
RESUME = "resume.json"
#: the layout of ``manifest.json``
MANIFEST_FORMAT = 1
#: the layout of ``resume.json`` (files without a ``format`` field are of format 1)
RESUME_FORMAT = 1


class OutputError(ValueError):
    """The output folder cannot be used (refused before any work): bad input, exit 2."""


def partial_path(out: Path) -> Path:
    """Where the run ``out`` is staged: the sibling ``<name>.partial``."""
    out = Path(os.path.abspath(out))
    return out.with_name(out.name + PARTIAL_SUFFIX)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a finished run folder, or None when there is none (or it is bad)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("tool") != "untrained-cs":
        return None
    if not isinstance(manifest.get("files"), list):
        return None
    return manifest


def _replaceable(out: Path, shown: str) -> None:
    """Raise unless ``out`` is a finished run folder holding only what its run wrote."""
    manifest = read_manifest(out)
    if manifest is None:
        raise OutputError(
            f"--out {shown} is a non-empty folder that is not an untrained-cs run folder; "
            "choose a new or empty folder"
        )
    try:
        check_format(out / MANIFEST, "manifest", manifest.get("format", 1), MANIFEST_FORMAT,
                     manifest.get("version"))  # fmt: skip
    except NewerFormat as exc:
        raise OutputError(f"{exc}; refusing to replace it") from None
    except ValueError:
        raise OutputError(f"--out {shown}: its {MANIFEST} is not one this tool wrote") from None
    known = {*manifest["files"], MANIFEST}
    extra = sorted(p.name for p in out.iterdir() if p.name not in known or p.is_dir())
    if extra:
        listed = ", ".join(extra[:3]) + (", ..." if len(extra) > 3 else "")
        raise OutputError(
            f"--out {shown} holds files its run did not write ({listed}); "
            "refusing to replace it: choose a new folder"
        )


class RunFolder:
    """An output folder staged in ``DIR.partial`` and moved into place when complete.

    Args:
        out: the final folder ``DIR``.
        command: the command writing it (recorded in the manifest).
        overwrite: allow replacing a finished run folder of this project.
    """

    def __init__(self, out: Path, command: str, overwrite: bool = False) -> None:
        self.shown = str(out)
        self.out = Path(os.path.abspath(out))
        self.staging = partial_path(self.out)
        self.command = command
        self.overwrite = overwrite

    def check(self) -> None:
        """Refuse an unusable ``DIR`` (see module docstring) without touching anything."""
        self._check_target()
        if self.staging.exists():
            raise OutputError(
                f"{self.staging} holds an interrupted run: continue it with "
                f"`untrained-cs resume {self.staging}` or remove it"
            )

    def _check_target(self) -> None:
        out, shown = self.out, self.shown
        if out.exists() or out.is_symlink():
            if not out.is_dir():
                raise OutputError(f"--out {shown} exists and is not a folder")
            if any(out.iterdir()):
                _replaceable(out, shown)
                if not self.overwrite:
                    raise OutputError(
                        f"--out {shown} holds an earlier run; pass --overwrite to replace it, "
                        "or choose a new folder"
                    )
        for parent in self.out.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise OutputError(f"--out {shown}: {parent} is a file, not a folder")
                break

    def create(self, resume: bool = False) -> Path:
        """Check, create ``DIR.partial`` and probe it for writing; return its path.

        With ``resume`` the staging folder of an interrupted run is taken over instead.
        """
        if resume:
            if not (self.staging / RESUME).is_file():
                raise OutputError(f"{self.staging} is not an interrupted run of untrained-cs")
            self._check_target()
        else:
            self.check()
        try:
            self.staging.parent.mkdir(parents=True, exist_ok=True)
            self.staging.mkdir(exist_ok=resume)
            probe = self.staging / ".write-probe"
            with open(probe, "wb") as f:
                f.write(b"\0" * 4096)
                f.flush()
                os.fsync(f.fileno())
            probe.unlink()
        except OSError as exc:
            if not resume:
                self.discard()
            raise OutputError(f"cannot write to --out {self.shown}: {_reason(exc)}") from None
        return self.staging

    def commit(self) -> Path:
        """Write the manifest and move the staged folder to ``DIR``; return ``DIR``."""
        for name in (CHECKPOINT, RESUME):
            _remove(self.staging / name)
        files = sorted(p.name for p in self.staging.iterdir())  # all written by this run
        manifest = {
            "tool": "untrained-cs",
            "format": MANIFEST_FORMAT,
            "version": package_version(),
            "command": self.command,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "files": files,
        }
        (self.staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if self.out.is_dir() and any(self.out.iterdir()):
            self._replace()
        elif self.out.is_dir():
            for p in self.staging.iterdir():  # an empty folder the user made (maybe cwd)
                os.replace(p, self.out / p.name)
            self.staging.rmdir()
        else:
            os.replace(self.staging, self.out)
        return self.out

    def _replace(self) -> None:
        _replaceable(self.out, self.shown)  # re-check: nothing new appeared meanwhile
        old = self.out.with_name(f".{self.out.name}.replaced-{uuid.uuid4().hex[:8]}")
        os.replace(self.out, old)
        os.replace(self.staging, self.out)
        manifest = read_manifest(old) or {"files": []}
        for name in [*manifest["files"], MANIFEST]:
            _remove(old / name)
        try:
            old.rmdir()
        except OSError:
            pass  # something appeared in it after the check: leave it

    def discard(self) -> None:
        """Remove the staging folder (the command created it) after a failure."""
        if self.staging.is_dir():
            shutil.rmtree(self.staging, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
