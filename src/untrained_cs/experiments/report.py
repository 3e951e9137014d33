"""Run experiments and write what ``reproduce`` leaves: per experiment its figures and
``data.json``, and over all of them ``report.md`` (figures, settings, claims tables), the
same as one self-contained page ``report.html`` (:mod:`.report_html`) and ``claims.json``
(the same rows for machines). Strings that come from the user (paths, image
names, in settings, notes and file names) are escaped where they are written
(:func:`escape_markdown`, :func:`link_target`; :func:`escape_html` for an HTML report)."""

from __future__ import annotations

import os
import platform
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..writer import to_json
from .claims import Claim, settings_dict
from .registry import experiment
from .report_html import escape_html as escape_html  # re-exported: one HTML escaper
from .report_html import html_report


@dataclass
class Section:
    """One experiment's outcome: its settings, files, claims and wall time."""

    name: str
    title: str
    settings: dict[str, Any]
    files: list[str]
    claims: list[Claim]
    seconds: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "settings": self.settings,
            "files": self.files, "seconds": self.seconds, "notes": self.notes,
            "claims": [c.to_dict() for c in self.claims],
        }  # fmt: skip


def run_one(name: str, settings: Any, folder: Path, seed: int = 0) -> Section:
    """Run experiment ``name`` at ``settings``, writing its files into ``folder/name``."""
    exp = experiment(name)
    out = folder / name
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    data = exp.data(settings, seed)
    seconds = time.perf_counter() - start
    (out / "data.json").write_text(to_json(data) + "\n")
    files = [f"{name}/{f}" for f in exp.plot(data, out)]
    claims = list(exp.claims(data))
    notes = list(data.get("notes", [])) if isinstance(data, dict) else []
    return Section(name, exp.title, settings_dict(settings), files, claims, seconds, notes)


def machine() -> dict[str, Any]:
    """Where the numbers came from: CPU model, its cores, torch's threads, device, date."""
    info = {
        "cpu": _cpu_model(), "cores": os.cpu_count(), "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(), "date": time.strftime("%Y-%m-%d"),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
    }  # fmt: skip
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def write_report(folder: Path, sections: list[Section], scale: str, seconds: float) -> None:
    """``report.md``, ``report.html`` (one self-contained page) and ``claims.json`` of the
    experiments run into ``folder``."""
    info = machine()
    doc = {"scale": scale, "seconds": seconds, "machine": info,
           "experiments": [s.to_dict() for s in sections]}  # fmt: skip
    (folder / "claims.json").write_text(to_json(doc, indent=1) + "\n")
    (folder / "report.md").write_text(markdown(sections, scale, seconds, info))
    (folder / "report.html").write_text(html_report(folder, sections, scale, seconds, info))


def markdown(sections: list[Section], scale: str, seconds: float, info: dict[str, Any]) -> str:
    """The human report: a summary, then per experiment its figures, settings and claims."""
    lines = [
        f"# Reproduction of the paper's experiments (scale: {scale})", "",
        f"Machine: {info['cpu']} ({info['cores']} cores, {info['threads']} threads), "
        f"device {info['device']}, "
        f"torch {info['torch']}, {info['date']}. Wall time {seconds:.0f} s.", "",
        "| experiment | claims holding | does not hold | not comparable | seconds |",
        "|---|---|---|---|---|",
    ]  # fmt: skip
    for s in sections:
        v = [c.verdict for c in s.claims]
        lines.append(f"| {s.name}: {s.title} | {v.count('holds')} | {v.count('does not hold')} "
                     f"| {v.count('not comparable')} | {s.seconds:.0f} |")  # fmt: skip
    for s in sections:
        lines += ["", f"## {s.name}: {s.title}", ""]
        lines += [f"![{escape_markdown(f)}]({link_target(f)})" for f in s.files
                  if f.endswith(".png")]  # fmt: skip
        lines += ["", "Settings: " + ", ".join(f"{escape_markdown(k)} = {_short(v)}"
                                               for k, v in s.settings.items())]  # fmt: skip
        lines += ["", *[f"Note: {escape_markdown(n)}" for n in s.notes]] if s.notes else []
        lines += ["", "| claim | whose | paper | published | measured | verdict | reason |",
                  "|---|---|---|---|---|---|---|"]  # fmt: skip
        lines += [f"| {_cell(c.claim)} | {c.kind} | {_cell(c.paper or '—')} "
                  f"| {_cell(c.published or '—')} | {_short(c.measured)} "
                  f"| {c.verdict} | {_cell(c.reason)} |" for c in s.claims]  # fmt: skip
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _short(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "/".join(_short(v) for v in value)
    return escape_markdown(str(value))


#: the characters Markdown (and GitHub's, with its math and strikethrough) gives a meaning
#: to; each is shown as it is when backslash-escaped
MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()<>#+-.!|~$&")


def escape_markdown(text: str) -> str:
    """``text`` shown as it is in Markdown (a paragraph, a table cell, a link's text).

    Args:
        text: any string (a path, an image name).

    Returns:
        the text with every character Markdown gives a meaning to backslash-escaped and
        its line breaks turned into spaces.
    """
    flat = " ".join(str(text).splitlines())
    return "".join("\\" + c if c in MARKDOWN_SPECIAL else c for c in flat)


def link_target(path: str) -> str:
    """A relative file path as the target of a Markdown or HTML link (percent-encoded,
    slashes kept), so that spaces, parentheses and quotes in it cannot end the link."""
    return urllib.parse.quote(str(path), safe="/")
