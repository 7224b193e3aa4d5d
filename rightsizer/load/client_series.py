"""The client side as per-second series in the metric store (names from rightsizer.metrics.names).

Per request: ClientResponseTime, one sample stamped when the answer came back, for all requests
({}) and per request name ({Name}); a period's pNN over those samples is exact.
Per second, stamped at the middle of the second: ClientRequestCount, ClientFailureCount,
ClientRPS and ClientFailureRate (only when the second had requests), for all and per name.
A request counts in the second it completed, as a load balancer counts it. A second is written
once `lag` seconds have passed after it (workers report every few seconds); a record that arrives
later still (a very slow report) counts in the oldest second not yet written, so the sum of the
per-second counts is always the number of requests. `complete_until` is the watermark: once the
samples `flush` returned are stored, every second before it is complete in the store (live
alarms wait for it before they evaluate a period of these series).
Gauges, one sample per tick: ClientUsers (once the load has started: before it, Locust has
not had a chance to start a user, and a 0 read then is no measurement of the load) and
GeneratorCPUUtilization (`gauges`).
Only the first MAX_NAMES request names get series of their own.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rightsizer.load.records import RequestRecord
from rightsizer.metrics import names
from rightsizer.metrics.store import MetricKey, Sample

ALL = ""  # the bucket key of "all request names"
Points = dict[MetricKey, list[tuple[float, float]]]
# Per-name series for the first 100 names only: a locustfile that names requests by raw URL
# (ids in the path) would otherwise write thousands of series a second. steps.json keeps all.
MAX_NAMES = 100
MILLISECONDS = "Milliseconds"


@dataclass
class _Second:
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _dims(name: str) -> dict[str, str]:
    return {} if name == ALL else {names.REQUEST_NAME_DIMENSION: name}


class ClientSeries:
    """Turns records into samples: `add` as records arrive, `flush` once a second, `close` last."""

    def __init__(self, start: float, lag: float = 0.25) -> None:
        self._next = math.floor(start)  # the oldest second not yet written
        self._lag = lag
        self._seconds: dict[int, _Second] = defaultdict(_Second)
        self._names: set[str] = set()
        self._keys: dict[tuple[str, str], MetricKey] = {}
        self._latency_keys: dict[str, MetricKey | None] = {}

    def key(self, metric: str, name: str = ALL) -> MetricKey:
        cached = self._keys.get((metric, name))
        if cached is None:
            cached = self._keys[(metric, name)] = MetricKey.of(metric, **_dims(name))
        return cached

    def add(self, records: Iterable[RequestRecord]) -> Points:
        """Count `records` in their seconds; return their ClientResponseTime points (in
        MILLISECONDS), by series, for `MetricStore.put_many`."""
        # The generator's hot path (every request passes here): locals, plain tuples, lists
        # keyed by name strings (whose hashes Python caches), no helper calls.
        every: list[tuple[float, float]] = []
        append = every.append
        by_name: dict[str, list[tuple[float, float]]] = {}
        oldest, seconds, latency_keys = self._next, self._seconds, self._latency_keys
        for start, name, _, response_ms, ok, _, _ in records:
            end = start + response_ms / 1000.0
            second = seconds[max(math.floor(end), oldest)]
            second.requests[ALL] += 1
            if not ok:
                second.failures[ALL] += 1
            point = (end, response_ms)
            append(point)
            named = latency_keys[name] if name in latency_keys else self._track(name)
            if named is not None:
                second.requests[name] += 1
                if not ok:
                    second.failures[name] += 1
                by_name.setdefault(name, []).append(point)
        points: Points = {self.key(names.CLIENT_RESPONSE_TIME): every} if every else {}
        for name, values in by_name.items():
            key = latency_keys[name]
            assert key is not None
            points[key] = values
        return points

    def _track(self, name: str) -> MetricKey | None:
        """The latency key of a new `name`, or None past MAX_NAMES names (aggregate only)."""
        key = None
        if len(self._names) < MAX_NAMES:
            self._names.add(name)
            key = self.key(names.CLIENT_RESPONSE_TIME, name)
        self._latency_keys[name] = key
        return key

    @property
    def complete_until(self) -> float:
        """Every per-second sample of the seconds before this time has been returned (by `add`
        for latencies, by `flush` for counts and rates)."""
        return float(self._next)

    def flush(self, now: float) -> list[Sample]:
        """Samples of every second that ended at least `lag` seconds before `now`."""
        samples: list[Sample] = []
        while self._next + 1 + self._lag <= now:
            samples.extend(self._second_samples(self._next, self._seconds.pop(self._next, None)))
            self._next += 1
        return samples

    def close(self, now: float | None = None) -> list[Sample]:
        """Samples of every second still open (the run is over, nothing more will arrive):
        those with records, and with `now` every second begun before it (zero counts)."""
        last = max(self._seconds, default=self._next - 1)
        if now is not None:
            last = max(last, math.ceil(now) - 1)
        return self.flush(last + 1 + self._lag)

    def _second_samples(self, second: int, counts: _Second | None) -> list[Sample]:
        counts = counts or _Second()
        stamp = second + 0.5
        out: list[Sample] = []
        for name in (ALL, *sorted(self._names)):
            requests = counts.requests.get(name, 0)
            failures = counts.failures.get(name, 0)
            out.append(Sample(self.key(names.CLIENT_REQUEST_COUNT, name), stamp, requests, "Count"))
            out.append(Sample(self.key(names.CLIENT_FAILURE_COUNT, name), stamp, failures, "Count"))
            out.append(Sample(self.key(names.CLIENT_RPS, name), stamp, requests, "Count/Second"))
            if requests:
                rate = 100.0 * failures / requests
                key = self.key(names.CLIENT_FAILURE_RATE, name)
                out.append(Sample(key, stamp, rate, "Percent"))
        return out


def gauges(
    now: float, users: int | None, generator_cpu: float | None, interval: float = 1.0
) -> list[Sample]:
    """The per-tick gauges: users running now (None: the load has not started, no sample),
    and the generator's CPU over the `interval` seconds before now (stamped at its middle)."""
    out = []
    if users is not None:
        out.append(Sample(MetricKey.of(names.CLIENT_USERS), now, float(users), "Count"))
    if generator_cpu is not None:
        stamp = now - interval / 2
        out.append(Sample(MetricKey.of(names.GENERATOR_CPU), stamp, generator_cpu, "Percent"))
    return out


def process_gauges(process: str, stamp: float, cpu: float, busy: float | None) -> list[Sample]:
    """One generator process's CPU and busy figures (rightsizer.load.generator.ProcessMeter)
    at `stamp`, in series of its own (dimension Process)."""
    dimension = {names.PROCESS_DIMENSION: process}
    out = [Sample(MetricKey.of(names.GENERATOR_PROCESS_CPU, **dimension), stamp, cpu, "Percent")]
    if busy is not None:
        key = MetricKey.of(names.GENERATOR_PROCESS_BUSY, **dimension)
        out.append(Sample(key, stamp, busy, "Percent"))
    return out
