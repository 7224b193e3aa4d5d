from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from rightsizer.analysis.recorded_run import Alarm, RecordedRun, load_run
from rightsizer.metrics import names
from rightsizer.metrics.statistics import percentile
from rightsizer.metrics.store import Datapoint
from rightsizer.report import style
from rightsizer.report.charts import (
    alarm_line,
    cpu_chart,
    latency_chart,
    latency_lines,
    run_charts,
    users_rps_chart,
)

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
    empty = RecordedRun("empty")
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


def test_the_latency_chart_draws_the_slo_s_own_percentile(one_task: Path) -> None:
    run = load_run(one_task)
    lines = latency_lines(run, 5.0)
    assert 95 in lines and set(lines) >= {50, 90, 99}
    p95 = lines[95]
    # Each point is the nearest-rank p95 of the raw response times of its window.
    for middle, value in zip(p95.times, p95.values, strict=True):
        window = sorted(run.latency.window(middle - 2.5, middle + 2.5).values)
        assert value == percentile(window, 95)
    assert all(
        a <= b <= c
        for a, b, c in zip(lines[90].values, lines[95].values, lines[99].values, strict=True)
    )


def test_the_service_line_is_the_alarm_s_datapoints(one_task: Path) -> None:
    run = load_run(one_task)
    line = alarm_line(run, names.CPU_UTILIZATION)
    assert line is not None
    alarm, edges, values = line
    drawn = [float(v) for v in values if not np.isnan(v)]
    assert drawn == [p.value for p in alarm.view]
    assert alarm.period is not None and np.allclose(np.diff(edges), alarm.period)
    assert edges[0] == alarm.view[0].timestamp  # epoch-aligned, as the alarm's periods


def test_periods_without_a_datapoint_are_gaps_not_joined(one_task: Path) -> None:
    run = load_run(one_task)
    alarm = Alarm(
        "cpu",
        {"MetricName": names.CPU_UTILIZATION, "Period": 10, "Statistic": "Average"},
        view=(Datapoint(1000.0, 30.0, 4), Datapoint(1030.0, 50.0, 4)),
    )
    line = alarm_line(dataclasses.replace(run, alarms=(alarm,)), names.CPU_UTILIZATION)
    assert line is not None
    _, edges, values = line
    assert list(edges) == [1000.0, 1010.0, 1020.0, 1030.0, 1040.0]
    assert values[0] == 30.0 and np.isnan(values[1]) and np.isnan(values[2]) and values[3] == 50.0
    assert alarm_line(run, names.MEMORY_UTILIZATION) is None  # no alarm watches memory
