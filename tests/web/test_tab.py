"""The "Tasks & alarms" tab during a real run on a fleet with a burner task (real cgroups),
through the JSON endpoint and in headless Chromium.

The task burns 80% of its 0.25 vCPU whatever the load; the alarm (service CPU Average > 20 %,
Period 10) goes to ALARM at its first evaluation with data. About 40 s.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.alarms.helpers import alarm_document
from tests.web.conftest import WebRun, browse, poll_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.cgroups,
    pytest.mark.chromium,
    pytest.mark.haproxy,
    pytest.mark.locust,
]
TASK_APP = Path(__file__).parents[1] / "fleet" / "task_app.py"
ALARM = alarm_document(AlarmName="task-cpu-high", Period=10)
LOCUSTFILE = """
from locust import HttpUser, constant, task


class Reader(HttpUser):
    wait_time = constant(0.5)

    @task
    def page(self):
        self.client.get("/")
"""
RED, BLUE = 0, 2  # charts.js: thresholds in #c62828, the first task in #1565c0


def _columns_with(image: Image.Image, channel: int) -> int:
    """How many pixel columns of the image's lower part (below Locust's header, buttons and
    table) show a clearly red or blue pixel, antialiased lines included: a line across a chart
    covers hundreds, a legend swatch ten."""
    pixels = np.asarray(image.convert("RGB"), dtype=int)
    lower = pixels[pixels.shape[0] * 2 // 5 :]
    others = np.delete(lower, channel, axis=-1).max(axis=-1)
    strong = lower[..., channel] - others > 60
    return int(strong.any(axis=0).sum())


def _alarmed_and_charted(doc: dict[str, Any]) -> bool:
    """The alarm in ALARM, and the tab's history holds a few readings of task 1 (the alarm can
    fire from samples taken before the tab began to poll the fleet)."""
    tasks, alarms = doc["tasks"], doc["alarms"]
    alarmed = bool(tasks) and bool(alarms) and alarms[0]["state"] == "ALARM"
    return alarmed and len(doc["series"].get("1", {}).get("cpu", [])) >= 5


def test_the_tab_shows_task_cpu_and_an_alarm_going_to_alarm(
    start_run: Callable[..., WebRun], tmp_path: Path
) -> None:
    (tmp_path / "alarm.json").write_text(json.dumps(ALARM))
    (tmp_path / "reader.py").write_text(LOCUSTFILE)
    burner = f"{sys.executable} {TASK_APP} --port {{port}} --burn 0.8 --cpu 0.25"
    run = start_run(
        "-f", "reader.py", "--task-cmd", burner, "--port", "0", "--cpu", "0.25",
        "--alarm", "alarm.json", "--cooldown", "1",
    ).serving()  # fmt: skip
    started = httpx.post(run.base + "/swarm", data={"user_count": "2", "spawn_rate": "2"})
    assert started.json()["success"] is True

    doc = poll_until(
        lambda: httpx.get(run.base + "/rightsizer/stats").json(),
        _alarmed_and_charted,
        45,
        "task CPU, five readings charted and the alarm in ALARM",
    )
    (task,) = doc["tasks"]
    assert set(task) == {"id", "cpu_utilization", "memory_utilization", "healthy"}
    assert task["id"] == 1 and task["healthy"] is True
    assert 20 < task["cpu_utilization"] < 130 and 0 < task["memory_utilization"] < 100
    (alarm,) = doc["alarms"]
    assert {"name", "state", "reason"} <= set(alarm)
    assert alarm["name"] == "task-cpu-high" and "Threshold Crossed" in alarm["reason"]
    assert alarm["threshold"] == 20.0 and alarm["metric"] == "CPUUtilization"
    assert doc["healthy_hosts"] == 1 and doc["reservation"] == {"cpu": 0.25, "memory_mb": 512}
    series = doc["series"]["1"]
    assert len(series["t"]) == len(series["cpu"]) == len(series["memory"])
    assert series["t"] == sorted(series["t"]) and series["cpu"][-1] is not None

    rows = httpx.get(run.base + "/stats/requests").json()["extended_stats"][0]["data"]
    assert {r["name"]: r["state"] for r in rows} == {
        "task 1": "healthy", "healthy hosts": "1 of 1", "alarm task-cpu-high": "ALARM",
    }  # fmt: skip

    tab = browse(run.base + "/?tab=rightsizer", tmp_path / "tab")
    assert "<span>Tasks &amp; alarms</span>" in tab.dom
    assert 'aria-selected="true"><div class="MuiBox-root' in tab.dom
    assert ">task 1<" in tab.dom and ">ALARM<" in tab.dom and "Threshold Crossed" in tab.dom
    assert '<iframe id="rightsizer-charts"' in tab.dom
    assert all(url.startswith(run.base) for url in tab.requests), tab.requests
    assert tab.screenshot is not None
    shot = Image.open(tab.screenshot)
    shot.save(tmp_path / "tab.png")
    assert _columns_with(shot, RED) > 250, "no threshold line across the CPU chart"
    assert _columns_with(shot, BLUE) > 60, "no task CPU line in the tab"

    charts = browse(run.base + "/rightsizer/", tmp_path / "charts")
    assert 'data-alarm="task-cpu-high" data-state="ALARM"' in charts.dom
    assert '<span class="state state-ALARM">ALARM</span>' in charts.dom
    assert 'aria-label="task 1 ' in charts.dom and "threshold task-cpu-high 20%" in charts.dom
    assert 'data-task="1"' in charts.dom and "healthy hosts: 1 of 1" in charts.dom

    assert httpx.post(run.base + "/stop").json()["success"] is True
    assert run.wait() == 0, run.output()
    manifest = run.manifest()
    assert manifest["stop_reason"] == "completed" and manifest["users"] == [2]
    assert any(t["to"] == "ALARM" for t in manifest["alarm_transitions"])
    (step,) = run.steps()
    assert step["users"] == 2 and step["cpu_utilization"] > 20
