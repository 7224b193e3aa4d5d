from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from rightsizer.errors import UsageError
from rightsizer.metrics.statistics import Statistic, percentile
from rightsizer.metrics.store import MetricKey, MetricStore, Sample, period_start


def test_keys_are_canonical_whatever_the_dimension_order() -> None:
    a = MetricKey.of("CPUUtilization", TaskId="1", ServiceName="svc")
    b = MetricKey.of("CPUUtilization", ServiceName="svc", TaskId="1")
    assert a == b
    assert str(a) == "rightsizer/CPUUtilization{ServiceName=svc,TaskId=1}"


def test_datapoints_group_samples_into_epoch_aligned_periods(tmp_path: Path) -> None:
    key = MetricKey.of("CPUUtilization", ServiceName="svc")
    with MetricStore(tmp_path / "m.db") as store:
        # 12 samples, one every 5 s from t=1000 (not aligned to 60).
        store.put_many(Sample(key, 1000.0 + 5 * i, float(i)) for i in range(12))
        points = store.datapoints(key, 60, Statistic.parse("Average"))
        maxima = store.datapoints(key, 60, Statistic.parse("Maximum"))
    # [960, 1020) holds t=1000..1015 (values 0..3); [1020, 1080) holds t=1020..1055 (4..11).
    assert [(p.timestamp, p.value, p.sample_count) for p in points] == [
        (960.0, 1.5, 4),
        (1020.0, 7.5, 8),
    ]
    assert [p.value for p in maxima] == [3.0, 11.0]


def test_missing_periods_give_no_datapoint(tmp_path: Path) -> None:
    key = MetricKey.of("X")
    with MetricStore(tmp_path / "m.db") as store:
        store.put_many([Sample(key, 5.0, 1.0), Sample(key, 35.0, 2.0)])
        points = store.datapoints(key, 10, Statistic.parse("Sum"))
    assert [p.timestamp for p in points] == [0.0, 30.0]


def test_two_writers_on_one_file(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    key = MetricKey.of("X")
    stores = [MetricStore(path), MetricStore(path)]

    def write(store: MetricStore, base: int) -> None:
        for i in range(200):
            store.put(key, float(base + i), 1.0)

    threads = [threading.Thread(target=write, args=(s, i * 1000)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reader = MetricStore(path, readonly=True)
    assert len(reader.samples(key)) == 400
    assert reader.keys() == [key]
    for s in [*stores, reader]:
        s.close()


def test_non_finite_values_are_dropped(tmp_path: Path) -> None:
    key = MetricKey.of("X")
    with MetricStore(tmp_path / "m.db") as store:
        store.put_many([Sample(key, 1.0, float("nan")), Sample(key, 2.0, 3.0)])
        assert store.samples(key) == [(2.0, 3.0)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Average", 2.5),
        ("Maximum", 4.0),
        ("Minimum", 1.0),
        ("Sum", 10.0),
        ("SampleCount", 4.0),
        ("p50", 2.0),
        ("p75", 3.0),
        ("p100", 4.0),
        ("p0", 1.0),
        ("p99.9", 4.0),
    ],
)
def test_statistics(name: str, expected: float) -> None:
    assert Statistic.parse(name).of([3.0, 1.0, 4.0, 2.0]) == expected


def test_percentile_never_exceeds_max_and_is_exact_for_whole_ranks() -> None:
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 95) == 95.0
    assert percentile(values, 57) == 57.0
    assert percentile(values, 100) == 100.0


def test_bad_statistic_names_are_refused() -> None:
    for bad in ("average", "p101", "p", "Median", "p-1"):
        with pytest.raises(ValueError, match="unknown statistic"):
            Statistic.parse(bad)


def test_period_start() -> None:
    assert period_start(59.999, 60) == 0.0
    assert period_start(60.0, 60) == 60.0
    assert period_start(1234.5, 10) == 1230.0


def _recorded(path: Path) -> MetricKey:
    key = MetricKey.of("CPUUtilization", ServiceName="svc")
    with MetricStore(path) as store:
        store.put_many(Sample(key, 1000.0 + i, float(i)) for i in range(50))
    return key


@pytest.mark.parametrize("name", ["run#1", "run?mode=rwc", "a%20b", "x?y#z"])
def test_read_only_opens_exactly_the_named_file(tmp_path: Path, name: str) -> None:
    # An unquoted "file:{path}?mode=ro" cut such paths at '#' or '?': another file was opened,
    # or created, and read-only mode was lost with the rest of the URI.
    run = tmp_path / name
    run.mkdir()
    key = _recorded(run / "metrics.db")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with MetricStore(run / "metrics.db", readonly=True) as store:
        assert len(store.samples(key)) == 50
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store._db.execute("DELETE FROM samples")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no -wal or -shm either


def test_a_reader_beside_a_live_writer_sees_its_commits(tmp_path: Path) -> None:
    path = tmp_path / "metrics.db"
    key = _recorded(path)
    with MetricStore(path) as writer, MetricStore(path, readonly=True) as reader:
        assert len(reader.samples(key)) == 50
        writer.put(key, 2000.0, 1.0)
        assert len(reader.samples(key)) == 51


def test_read_only_never_creates_a_missing_store(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"metrics\.db: missing"):
        MetricStore(tmp_path / "metrics.db", readonly=True)
    assert list(tmp_path.iterdir()) == []


def test_a_text_file_is_named_in_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "metrics.db"
    path.write_text("timestamp,value\n1,2\n" * 200)
    with pytest.raises(UsageError, match="not a readable rightsizer metric store") as caught:
        MetricStore(path, readonly=True)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    assert path.read_text().startswith("timestamp,value")  # untouched


def test_a_foreign_sqlite_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "metrics.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (name TEXT)")
    db.close()
    with pytest.raises(UsageError, match="no series and samples tables"):
        MetricStore(path, readonly=True)


def test_a_truncated_store_fails_with_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "metrics.db"
    key = MetricKey.of("CPUUtilization", ServiceName="svc")
    with MetricStore(path) as store:
        store.put_many(Sample(key, float(i), float(i)) for i in range(20_000))
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(UsageError, match=str(path)), MetricStore(path, readonly=True) as store:
        store.samples(key)


def test_points_of_several_series_in_one_batch(tmp_path: Path) -> None:
    a, b = MetricKey.of("A"), MetricKey.of("B", Name="/x")
    with MetricStore(tmp_path / "m.db") as store:
        points = {a: [(1.0, 10.0), (2.0, float("inf"))], b: [(1.5, 3.0)]}
        store.put_many((), points, "Milliseconds")
        assert store.samples(a) == [(1.0, 10.0)]  # a non-finite value is dropped
        assert store.samples(b) == [(1.5, 3.0)]
        assert store.keys() == [a, b]


def test_a_rolled_back_write_leaves_no_cached_series_id(tmp_path: Path) -> None:
    """A new series inserted in a batch that then fails: its id was cached though the row
    was rolled back, and later samples went to a series that does not exist."""
    key = MetricKey.of("New", TaskId="7")
    with MetricStore(tmp_path / "m.db") as store:
        # A real failure inside the transaction, after the series row is in: a trigger on
        # the samples table that another connection creates and drops.
        other = sqlite3.connect(store.path, isolation_level=None)
        other.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON samples WHEN NEW.value = 666 "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        with pytest.raises(sqlite3.IntegrityError):
            store.put_many([Sample(key, 1.0, 666.0)])
        other.execute("DROP TRIGGER refuse")
        other.close()
        assert store.keys(name="New") == []
        store.put_many([Sample(key, 2.0, 1.0)])
        assert store.keys(name="New") == [key]
        assert store.samples(key) == [(2.0, 1.0)]
