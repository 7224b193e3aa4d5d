from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from rightsizer.analysis.run import Run, load_run
from rightsizer.report import style
from rightsizer.report.charts import cpu_chart, latency_chart, run_charts, users_rps_chart

# ALARM bands: style.ALARM at alpha 0.12 over white.
BAND = (248, 229, 229)


def picture(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def band_pixels(png: bytes) -> int:
    pixels = np.asarray(picture(png), dtype=int)
    return int(np.all(np.abs(pixels - np.array(BAND)) <= 3, axis=-1).sum())


def test_every_chart_is_a_report_wide_png(one_task: Path) -> None:
    charts = run_charts(load_run(one_task))
    assert [c.name for c in charts] == ["load-curve", "users-rps", "latency", "cpu", "memory"]
    for chart in charts:
        image = picture(chart.png)
        assert image.width == int(style.WIDTH_IN * style.DPI)
        assert 300 <= image.height <= 500
        assert chart.title and chart.caption


def test_alarm_periods_are_shaded_on_the_cpu_chart(one_task: Path) -> None:
    run = load_run(one_task)
    with_alarm = cpu_chart(run)
    without = cpu_chart(dataclasses.replace(run, alarms=()))
    assert with_alarm is not None and without is not None
    assert band_pixels(with_alarm.png) > 5000
    assert band_pixels(without.png) < 100


def test_charts_without_data_are_left_out() -> None:
    empty = Run("empty", {})
    assert run_charts(empty) == ()
    assert users_rps_chart(empty) is None and latency_chart(empty) is None


def test_rendering_does_not_load_pyplot(one_task: Path) -> None:
    # pyplot selects a GUI backend and keeps global figures; the report must not need it.
    code = (
        "import sys; from pathlib import Path; "
        "from rightsizer.report.html import write_report; "
        f"write_report(Path({str(one_task)!r})); "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
