"""sizes.html: the sentence on top, a row per size, both charts inside the file."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from rightsizer.sizing.prices import Prices
from rightsizer.sizing.sizes_document import build_sizes
from rightsizer.sizing.sizes_page import write_sizes_page
from tests.sizing.test_sizes_document import measured


def test_page_has_the_sentence_rows_and_charts(tmp_path: Path) -> None:
    doc = build_sizes(
        [measured(0.25, 512, 10), measured(0.5, 1024, 25), measured(1, 2048, None)],
        Prices(0.04, 0.004, "test prices"),
        target_users=1000,
        headroom=0.3,
    )
    text = write_sizes_page(doc, tmp_path).read_text()
    h1 = re.search(r"<h1>(.*?)</h1>", text, re.S)
    assert h1 is not None and html.unescape(h1.group(1)) == doc.sentence()
    assert html.unescape(h1.group(1)).startswith("Deploy 0.5 vCPU / 1024 MiB")
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr") == 3
    assert body.count('class="chosen"') == 1
    assert "test prices" in text
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 2  # users per task (2 measured sizes), dollars (2 priced)
    assert all(base64.b64decode(png).startswith(b"\x89PNG") for png in images)
