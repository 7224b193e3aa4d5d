"""Look at the report as a person would: headless Chromium renders it to a PNG.

Checks that the page is not blank, has the expected size and look (dark header band, light
page), and that it loaded nothing from the network: Chromium's own net log lists every request
the page made (browser-internal requests have the initiator "not an origin"; the page's carry
the file:// origin). A control page with an external image proves the check can fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rightsizer.analysis.answer import build_answer
from rightsizer.analysis.recorded_run import load_run
from rightsizer.report.html import write_comparison, write_report
from tests import chromium
from tests.chromium import headless

WIDTH, HEIGHT = 1280, 3000

pytestmark = [
    pytest.mark.chromium,
]


@dataclass(frozen=True)
class Rendered:
    screenshot: Image.Image
    page_requests: list[str]


def render(page: Path, work: Path) -> Rendered:
    """Screenshot `page` at WIDTH x HEIGHT and list the URLs the page itself requested."""
    shot, netlog = work / "shot.png", work / "net.json"
    command = [
        *headless(work),
        f"--log-net-log={netlog}",
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{HEIGHT}",
        page.resolve().as_uri(),
    ]
    _, stderr = chromium.run(command)
    assert shot.is_file(), stderr[-2000:]
    return Rendered(Image.open(shot).convert("RGB"), chromium.page_requests(netlog))


def assert_looks_like_a_report(image: Image.Image) -> None:
    assert image.size == (WIDTH, HEIGHT)
    pixels = np.asarray(image, dtype=int)
    header = pixels[10:60, 10:400].mean(axis=(0, 1))
    assert header.max() < 60  # the dark header band
    page = pixels[:, 5].mean(axis=0)  # the left margin: light page background
    assert page.min() > 230
    content = pixels[:, 40:-40]
    not_background = np.any(np.abs(content - content[-1, 0]) > 16, axis=-1).mean()
    assert not_background > 0.08, "page looks blank"
    colours = np.unique(content.reshape(-1, 3)[::97], axis=0)
    assert len(colours) > 200, "page has hardly any pictures or text"


def test_the_report_renders_readably_without_network(
    one_task: Path, four_tasks: Path, tmp_path: Path
) -> None:
    answer = build_answer(load_run(one_task), load_run(four_tasks), recommended_threshold=45.0)
    report = write_report(one_task, answer=answer).report
    rendered = render(report, tmp_path)
    assert_looks_like_a_report(rendered.screenshot)
    assert all(u.startswith(("file:", "data:")) for u in rendered.page_requests)


def test_the_comparison_renders_readably_without_network(
    one_task: Path, four_tasks: Path, tmp_path: Path
) -> None:
    page, _ = write_comparison(one_task, four_tasks)
    rendered = render(page, tmp_path)
    assert_looks_like_a_report(rendered.screenshot)
    assert all(u.startswith(("file:", "data:")) for u in rendered.page_requests)


def test_the_network_check_sees_a_page_that_fetches(tmp_path: Path) -> None:
    page = tmp_path / "fetches.html"
    # Port 9 (discard) on loopback: refused at once, but the request is made and logged.
    page.write_text('<html><body><img src="http://127.0.0.1:9/pixel.png"></body></html>')
    rendered = render(page, tmp_path)
    assert "http://127.0.0.1:9/pixel.png" in rendered.page_requests
