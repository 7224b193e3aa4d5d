"""Load balancer metrics as the ALB publishes them, from HAProxy's `show stat`.

Per target ({LoadBalancer, TaskId}) and for the whole balancer ({LoadBalancer}), per tick:
RequestCount and HTTPCode_Target_2XX..5XX_Count (deltas of HAProxy's counters),
TargetResponseTime in seconds (HAProxy's `rtime`, only when the target served requests), and
Healthy/UnHealthyHostCount. Counts carry the middle of the interval as their timestamp.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from rightsizer.metrics import names
from rightsizer.metrics.store import MetricKey, Sample

CODES = {
    "hrsp_2xx": names.TARGET_2XX,
    "hrsp_3xx": names.TARGET_3XX,
    "hrsp_4xx": names.TARGET_4XX,
    "hrsp_5xx": names.TARGET_5XX,
}
_RESPONSES = ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")


class StatSource(Protocol):
    """HAProxy's `show stat` rows (the runtime API)."""

    def show_stat(self) -> list[dict[str, str]]: ...


class TargetMap(Protocol):
    """Which task each HAProxy server stands for now: server name -> task id."""

    def targets(self) -> Mapping[str, str]: ...


def is_healthy(status: str) -> bool:
    """Whether HAProxy's status of a server makes it a healthy target, as the ALB counts:
    `UP`, also `UP 1/2` (one check failed, not down yet); not DOWN, MAINT, DRAIN or NOLB."""
    return status.split(" ", 1)[0] == "UP"


def _int_field(row: Mapping[str, str], field: str) -> int:
    value = row.get(field) or "0"
    return int(value) if value.isdigit() else 0


class HAProxySampler:
    """Turns two successive `show stat` readings into per-interval samples."""

    def __init__(
        self,
        stats: StatSource,
        targets: TargetMap,
        backend: str,
        load_balancer: str = names.DEFAULT_LOAD_BALANCER,
    ) -> None:
        self._stats = stats
        self._targets = targets
        self._backend = backend
        self._lb = load_balancer
        self._last: dict[str, dict[str, int]] = {}
        self._last_at: float | None = None
        self._keys: dict[tuple[str, str | None], MetricKey] = {}  # built once, used every tick
        self.status: dict[str, str] = {}  # server -> HAProxy status (UP, DOWN, MAINT, ...)

    def _key(self, name: str, task_id: str | None = None) -> MetricKey:
        key = self._keys.get((name, task_id))
        if key is None:
            dims = {names.LB_DIMENSION: self._lb}
            if task_id is not None:
                dims[names.TASK_DIMENSION] = task_id
            key = self._keys[(name, task_id)] = MetricKey.of(name, **dims)
        return key

    def sample(self, now: float) -> Iterator[Sample]:
        rows = [
            r
            for r in self._stats.show_stat()
            if r.get("pxname") == self._backend and r.get("svname") not in ("BACKEND", "FRONTEND")
        ]
        self.status = {r["svname"]: (r.get("status") or "").split(" ")[0] for r in rows}
        healthy = sum(1 for r in rows if is_healthy(r.get("status") or ""))
        yield Sample(self._key(names.HEALTHY_HOST_COUNT), now, float(healthy), "Count")
        unhealthy = float(len(rows) - healthy)
        yield Sample(self._key(names.UNHEALTHY_HOST_COUNT), now, unhealthy, "Count")
        counters = {
            r["svname"]: {f: _int_field(r, f) for f in (*_RESPONSES, "rtime")} for r in rows
        }
        previous, previous_at = self._last, self._last_at
        self._last, self._last_at = counters, now
        if previous_at is None or now <= previous_at:
            return
        yield from self._deltas(counters, previous, previous_at + (now - previous_at) / 2)

    def _deltas(
        self,
        counters: Mapping[str, Mapping[str, int]],
        previous: Mapping[str, Mapping[str, int]],
        at: float,
    ) -> Iterator[Sample]:
        targets = self._targets.targets()
        totals = dict.fromkeys([names.REQUEST_COUNT, *CODES.values()], 0.0)
        weighted_rtime = 0.0
        for server, now_counts in counters.items():
            before = previous.get(server, now_counts)
            delta = {f: max(0, now_counts[f] - before.get(f, 0)) for f in _RESPONSES}
            requests = float(sum(delta.values()))
            task = targets.get(server, server)
            yield Sample(self._key(names.REQUEST_COUNT, task), at, requests, "Count")
            totals[names.REQUEST_COUNT] += requests
            for field, name in CODES.items():
                yield Sample(self._key(name, task), at, float(delta[field]), "Count")
                totals[name] += delta[field]
            if requests:
                seconds = now_counts["rtime"] / 1000
                yield Sample(self._key(names.TARGET_RESPONSE_TIME, task), at, seconds, "Seconds")
                weighted_rtime += seconds * requests
        for name, value in totals.items():
            yield Sample(self._key(name), at, value, "Count")
        if totals[names.REQUEST_COUNT]:
            average = weighted_rtime / totals[names.REQUEST_COUNT]
            yield Sample(self._key(names.TARGET_RESPONSE_TIME), at, average, "Seconds")
