"""report.html: one self-contained page — it parses, every figure is embedded, every claim
is there with its verdict's colour, and users' strings stay text."""

from __future__ import annotations

import base64
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from untrained_cs.experiments.claims import Claim
from untrained_cs.experiments.report import Section
from untrained_cs.experiments.report_html import VERDICT_COLOURS, html_report

HOSTILE = '/data/a|b <script>alert(1)</script> &amp; "quoted"'
INFO = {"cpu": "cpu", "cores": 2, "threads": 1, "device": "cpu", "torch": "2", "date": "d"}


class Page(HTMLParser):
    """The page's images, table rows (with their style) and text, tags balanced."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.rows: list[tuple[str | None, list[str]]] = []
        self.text: list[str] = []
        self.scripts = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a)
        elif tag == "script":
            self.scripts += 1
        elif tag == "tr":
            self.rows.append((a.get("style"), []))
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1][1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture
def report(tmp_path):
    (tmp_path / "fig1").mkdir()
    pixels = (np.arange(48).reshape(4, 4, 3) * 5).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "fig1" / "a b.png")
    claims = [
        Claim("the fit converges", "", 0.001, "holds", "loss near 0"),
        Claim(f"x {HOSTILE}", "1 dB", "0.9 / 0.8", "does not hold", "gap 2 dB",
              published="1.55 dB (authors' curve)", kind="project check"),
        Claim("rate", "", None, "not comparable", "no number"),
    ]
    section = Section("fig1", "Figure 1", {"image": HOSTILE}, ["fig1/a b.png", "fig1/data.json"],
                      claims, 3.0, notes=[HOSTILE])  # fmt: skip
    page = html_report(tmp_path, [section], "smoke", 3.0, INFO)
    (tmp_path / "report.html").write_text(page)
    return tmp_path, page, claims


def test_the_page_parses_embeds_every_figure_and_holds_every_claim(report):
    folder, page, claims = report
    parsed = Page()
    parsed.feed(page)
    parsed.close()
    assert len(parsed.images) == 1
    src = parsed.images[0]["src"] or ""
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == (folder / "fig1" / "a b.png").read_bytes()
    claim_rows = [r for r in parsed.rows if r[0] and r[0].startswith("background")]
    assert [cells[0] for _, cells in claim_rows] == [c.claim for c in claims]
    for (style, cells), c in zip(claim_rows, claims, strict=True):
        assert VERDICT_COLOURS[c.verdict] in style and cells[5] == c.verdict
        assert cells[1] == c.kind and cells[3] == (c.published or "—")
    assert parsed.scripts == 0  # the hostile string is text, not markup
    assert HOSTILE in "".join(parsed.text)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no headless Chromium here")
def test_chromium_loads_the_page_with_no_broken_image(report, tmp_path_factory):
    folder, page, _ = report
    # a copy that counts, once loaded, the images that did not decode
    probe = (
        "<script>window.addEventListener('load', () => document.body.setAttribute("
        "'data-broken', [...document.images].filter(i => !i.naturalWidth).length));</script>"
    )
    copy = folder / "probe.html"
    copy.write_text(page.replace("</body>", probe + "</body>"))
    profile = tmp_path_factory.mktemp("chromium")
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom",
         copy.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert 'data-broken="0"' in dom and "does not hold" in dom
