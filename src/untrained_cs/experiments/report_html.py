"""``report.html``: the reproduction report as one self-contained page.

The same content as ``report.md`` — the machine, a summary per experiment, its figures,
settings, notes and claims — with every figure embedded (a ``data:`` URI, so the page can
be mailed or moved alone) and the claims coloured by verdict. Every string that comes from
a run (settings, notes, file names, claims) is HTML-escaped where it is written.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: the colour of each verdict's row
VERDICT_COLOURS = {"holds": "#d9f2d9", "does not hold": "#f8d7d7", "not comparable": "#eeeeee"}
STYLE = """
body { font-family: sans-serif; max-width: 70em; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
img { max-width: 100%; margin: 0.5em 0; }
.settings { font-size: 0.9em; color: #444; }
"""


def escape_html(text: str) -> str:
    """``text`` shown as it is in HTML, as element text or a quoted attribute value."""
    return html.escape(str(text), quote=True)


def html_report(
    folder: Path, sections: Sequence[Any], scale: str, seconds: float, info: dict[str, Any]
) -> str:
    """The page for ``sections`` (:class:`~.report.Section`) whose figures lie under
    ``folder``."""
    e = escape_html

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Reproduction of the paper's experiments (scale: {e(scale)})</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Reproduction of the paper's experiments (scale: {e(scale)})</h1>",
        f"<p>Machine: {e(info['cpu'])} ({e(info['cores'])} cores, {e(info['threads'])} "
        f"threads), device {e(info['device'])}, torch {e(info['torch'])}, {e(info['date'])}. "
        f"Wall time {seconds:.0f} s.</p>",
        "<table><tr><th>experiment</th><th>holds</th><th>does not hold</th>"
        "<th>not comparable</th><th>seconds</th></tr>",
    ]
    for s in sections:
        v = [c.verdict for c in s.claims]
        parts.append(
            f'<tr><td><a href="#{e(s.name)}">{e(s.name)}</a>: {e(s.title)}</td>'
            f"<td>{v.count('holds')}</td><td>{v.count('does not hold')}</td>"
            f"<td>{v.count('not comparable')}</td><td>{s.seconds:.0f}</td></tr>"
        )
    parts.append("</table>")
    for s in sections:
        parts += _section(folder, s)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _section(folder: Path, s: Any) -> list[str]:
    e = escape_html

    out = [f'<h2 id="{e(s.name)}">{e(s.name)}: {e(s.title)}</h2>']
    for f in s.files:
        if f.endswith(".png"):
            out.append(f'<img alt="{e(f)}" src="{embedded_png(folder / f)}">')
    settings = ", ".join(f"{e(k)} = {e(_plain(v))}" for k, v in s.settings.items())
    out.append(f'<p class="settings">Settings: {settings}</p>')
    out += [f"<p>Note: {e(n)}</p>" for n in s.notes]
    out.append("<table><tr><th>claim</th><th>whose</th><th>paper</th><th>published</th>"
               "<th>measured</th><th>verdict</th><th>reason</th></tr>")  # fmt: skip
    for c in s.claims:
        colour = VERDICT_COLOURS.get(c.verdict, "#ffffff")
        out.append(
            f'<tr style="background: {colour}"><td>{e(c.claim)}</td><td>{e(c.kind)}</td>'
            f'<td>{e(c.paper or "—")}</td><td>{e(c.published or "—")}</td>'
            f"<td>{e(_plain(c.measured))}</td><td>{e(c.verdict)}</td>"
            f"<td>{e(c.reason)}</td></tr>"
        )
    out.append("</table>")
    return out


def embedded_png(path: Path) -> str:
    """A PNG file as a ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "/".join(_plain(v) for v in value)
    return str(value)
