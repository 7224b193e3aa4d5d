from __future__ import annotations

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from rightsizer.metrics.prometheus import private_registry, snake
from rightsizer.metrics.recent import Recent
from rightsizer.metrics.store import MetricKey, Sample


def test_names_become_snake_case() -> None:
    assert snake("CPUUtilization") == "cpu_utilization"
    assert snake("HTTPCode_Target_5XX_Count") == "http_code_target_5xx_count"
    assert snake("UnHealthyHostCount") == "un_healthy_host_count"


def test_latest_tick_is_exposed_with_dimensions_as_labels() -> None:
    recent = Recent()
    per_task = MetricKey.of("CPUUtilization", ServiceName="svc", TaskId="1")
    service = MetricKey.of("CPUUtilization", ServiceName="svc")
    recent.add(1.0, [Sample(per_task, 0.5, 99.0)])
    recent.add(2.0, [Sample(per_task, 1.5, 40.0), Sample(service, 1.5, 40.0),
                     Sample(service, 1.5, 60.0)])  # fmt: skip
    registry = private_registry(recent)
    text = generate_latest(registry).decode()
    (family,) = list(text_string_to_metric_families(text))
    assert family.name == "rightsizer_cpu_utilization"
    values = {tuple(sorted(s.labels.items())): s.value for s in family.samples}
    assert values == {
        (("service_name", "svc"), ("task_id", "1")): 40.0,
        (("service_name", "svc"), ("task_id", "")): 50.0,  # average of the tick's samples
    }
    assert "rightsizer_cpu_utilization" not in generate_latest(REGISTRY).decode()


def test_nothing_before_the_first_tick() -> None:
    assert generate_latest(private_registry(Recent())) == b""


def test_recent_knows_its_newest_tick() -> None:
    recent = Recent()
    assert recent.newest() == (None, ())
    key = MetricKey.of("X")
    recent.add(1.0, [Sample(key, 0.5, 1.0)])
    recent.add(2.0, [Sample(key, 1.5, 2.0)])
    assert recent.newest() == (2.0, (Sample(key, 1.5, 2.0),))
    assert recent.latest() == (Sample(key, 1.5, 2.0),)
