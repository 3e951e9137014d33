"""report.md shows users' strings (paths, image names) as they are: escaped, never markup."""

from __future__ import annotations

from untrained_cs.experiments.claims import Claim
from untrained_cs.experiments.report import (
    Section,
    escape_html,
    escape_markdown,
    link_target,
    markdown,
)

HOSTILE = "/data/a|b_[x](y).h5 <script>alert(1)</script> *bold* `code` $x$ #1 &amp;"
INFO = {"cpu": "cpu", "cores": 2, "threads": 1, "device": "cpu", "torch": "2", "date": "d"}


def test_user_strings_in_report_md_are_escaped():
    claim = Claim("m ≳ p suffices", "", "0.9 / 0.8", "holds", "measured")
    section = Section(
        "fig5", "MRI", {"kspace": HOSTILE, "images": ["<b>cam</b>", "x*y"]},
        ["fig5/my fig (1).png"], [claim], 1.0, notes=[f"k-space: {HOSTILE}\nsecond line"],
    )  # fmt: skip
    text = markdown([section], "smoke", 1.0, INFO)
    shown = escape_markdown(HOSTILE)
    assert f"kspace = {shown}" in text
    assert f"Note: {escape_markdown('k-space: ' + HOSTILE)} second line" in text
    assert "\\<b\\>cam\\</b\\>/x\\*y" in text
    assert "![fig5/my fig \\(1\\)\\.png](fig5/my%20fig%20%281%29.png)" in text
    for raw in ("<script>", "*bold*", "`code`", "](y)", "$x$", " &amp;", "| b"):
        assert raw not in text
    rows = [line for line in text.splitlines() if line.startswith("| m ≳ p")]
    assert len(rows) == 1 and rows[0].count(" | ") == 6  # the claim's row keeps its 7 cells


def test_escaping_shows_the_text_as_it_is():
    escaped = escape_markdown(HOSTILE)
    # every backslash escape stands for the character after it: removing them restores it
    restored, i = "", 0
    while i < len(escaped):
        if escaped[i] == "\\":
            i += 1
        restored += escaped[i]
        i += 1
    assert restored == HOSTILE
    assert escape_markdown("a\nb\r\nc") == "a b c"
    assert escape_html('<img src="x" onerror=a>&') == "&lt;img src=&quot;x&quot; onerror=a&gt;&amp;"
    assert link_target("fig3/a b'(c).png") == "fig3/a%20b%27%28c%29.png"
