"""Client series: per-request latency samples and per-second counts that always add up."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from rightsizer.load.client_series import ClientSeries, gauges
from rightsizer.load.records import RequestRecord
from rightsizer.metrics import names
from rightsizer.metrics.store import MetricKey, MetricStore, Sample

T0 = 1_800_000_000.0


def rec(start: float, ms: float, ok: bool = True, name: str = "/a") -> RequestRecord:
    return RequestRecord(T0 + start, name, "GET", ms, ok, 0)


def by_key(samples: list[Sample]) -> dict[MetricKey, list[tuple[float, float]]]:
    out: dict[MetricKey, list[tuple[float, float]]] = defaultdict(list)
    for sample in samples:
        out[sample.key].append((sample.timestamp - T0, sample.value))
    return out


def test_a_request_counts_in_the_second_it_completed() -> None:
    series = ClientSeries(T0, lag=0.25)
    latency = series.add([rec(0.2, 100), rec(0.9, 300, ok=False, name="/b")])
    overall = [(ts - T0, value) for ts, value in latency[MetricKey.of(names.CLIENT_RESPONSE_TIME)]]
    assert [value for _, value in overall] == [100, 300]
    assert [stamp for stamp, _ in overall] == pytest.approx([0.3, 1.2])
    # and one per request name
    assert latency[MetricKey.of(names.CLIENT_RESPONSE_TIME, Name="/b")] == [(T0 + 1.2, 300)]
    assert sum(len(points) for points in latency.values()) == 4
    samples = by_key(series.flush(T0 + 2.3))
    count = samples[MetricKey.of(names.CLIENT_REQUEST_COUNT)]
    assert count == [(0.5, 1), (1.5, 1)]
    assert samples[MetricKey.of(names.CLIENT_FAILURE_COUNT)] == [(0.5, 0), (1.5, 1)]
    assert samples[MetricKey.of(names.CLIENT_FAILURE_RATE)] == [(0.5, 0.0), (1.5, 100.0)]
    assert samples[MetricKey.of(names.CLIENT_REQUEST_COUNT, Name="/b")] == [(0.5, 0), (1.5, 1)]


def test_a_second_is_written_only_after_the_lag() -> None:
    series = ClientSeries(T0, lag=4.0)
    series.add([rec(0.1, 1)])
    assert series.flush(T0 + 4.9) == []
    assert by_key(series.flush(T0 + 5.0))[MetricKey.of(names.CLIENT_RPS)] == [(0.5, 1)]


def test_late_records_still_add_up_and_empty_seconds_are_zero() -> None:
    series = ClientSeries(T0, lag=0.0)
    series.add([rec(0.5, 1)])
    written = series.flush(T0 + 3)  # seconds 0, 1, 2 are written
    series.add([rec(0.7, 1), rec(3.2, 1)])  # the first arrives after its second was written
    written += series.close()
    counts = by_key(written)[MetricKey.of(names.CLIENT_REQUEST_COUNT)]
    assert [t for t, _ in counts] == [0.5, 1.5, 2.5, 3.5]
    assert sum(v for _, v in counts) == 3
    assert counts[1] == (1.5, 0)
    assert counts[-1] == (3.5, 2)  # the late one joined the oldest second still open


def test_latency_samples_are_one_per_request_and_land_in_the_store(tmp_path: Path) -> None:
    series = ClientSeries(T0)
    records = [rec(i * 0.1, float(i)) for i in range(50)]
    store = MetricStore(tmp_path / "m.db")
    points = series.add(records)
    store.put_many(series.close(), points)
    all_latency = store.samples(MetricKey.of(names.CLIENT_RESPONSE_TIME))
    assert sorted(v for _, v in all_latency) == [float(i) for i in range(50)]
    per_name = store.samples(MetricKey.of(names.CLIENT_RESPONSE_TIME, Name="/a"))
    assert len(per_name) == 50
    counts = store.samples(MetricKey.of(names.CLIENT_REQUEST_COUNT))
    assert sum(v for _, v in counts) == 50
    store.close()


def test_gauges() -> None:
    users, cpu = gauges(T0 + 10, 7, 42.0, interval=1.0)
    assert (users.key.name, users.timestamp, users.value) == (names.CLIENT_USERS, T0 + 10, 7)
    assert (cpu.key.name, cpu.timestamp, cpu.value) == (names.GENERATOR_CPU, T0 + 9.5, 42.0)
    assert len(gauges(T0, 0, None)) == 1
    # Before the load starts no users are sampled: a 0 then would be read as "no load".
    (cpu_only,) = gauges(T0, None, 5.0)
    assert cpu_only.key.name == names.GENERATOR_CPU


def test_only_the_first_names_get_series_of_their_own() -> None:
    series = ClientSeries(T0, lag=0.0)
    latency = series.add([rec(0.1, 1, name=f"/item/{i}") for i in range(150)])
    keyed = by_key(series.close())
    named = {k for k in keyed if k.name == names.CLIENT_REQUEST_COUNT and k.dimensions}
    assert len(named) == 100
    assert keyed[MetricKey.of(names.CLIENT_REQUEST_COUNT)] == [(0.5, 150)]
    assert len(latency[MetricKey.of(names.CLIENT_RESPONSE_TIME)]) == 150
    assert len([k for k in latency if k.dimensions]) == 100


def test_the_watermark_is_the_oldest_second_not_yet_written() -> None:
    series = ClientSeries(T0 + 0.7, lag=0.25)
    assert series.complete_until == T0  # nothing before the series began is missing
    series.add([rec(0.2, 100)])
    assert series.complete_until == T0
    series.flush(T0 + 1.2)  # second 0 ended only 0.2 s ago
    assert series.complete_until == T0
    series.flush(T0 + 1.25)
    assert series.complete_until == T0 + 1
    series.flush(T0 + 4.5)  # the tick half a second past a whole second: 0..3 are written
    assert series.complete_until == T0 + 4


def test_close_at_a_time_writes_every_second_begun_before_it() -> None:
    series = ClientSeries(T0, lag=4.0)
    series.add([rec(0.5, 1)])
    counts = by_key(series.close(T0 + 3.2))[MetricKey.of(names.CLIENT_REQUEST_COUNT)]
    assert counts == [(0.5, 1), (1.5, 0), (2.5, 0), (3.5, 0)]
    assert series.complete_until == T0 + 4
