"""Prometheus's HTTP API (/api/v1/query and /api/v1/query_range): a few retries, one-line errors.

    api = PrometheusApi.flag("http://prometheus.monitoring:9090")
    now = api.query('count by (pod) (up{namespace="shop"})')          # instant vector
    for series in api.query_range("rate(x[1m])", start, end, step=15):
        series.labels["pod"], series.points                            # ((ts, value), ...)

Retried, RETRIES tries in all with the wait doubling from BACKOFF seconds: a connection refused,
reset or timed out, 429 and 5xx (a Prometheus starting up answers 503). Not retried, because a
second try gets the same answer: a query Prometheus refuses (400 bad_data, a parse error in
the selector) is a QueryError (a UsageError) with Prometheus's own text; one it could not run
(422 execution, too many samples...) is an UnavailableError with that text. A range longer than
MAX_POINTS steps is asked in pieces, since Prometheus answers at most 11,000 points a series.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from rightsizer.errors import UnavailableError, UsageError

RETRIES = 4
BACKOFF = 0.5
TIMEOUT = 30.0
CONNECT_TIMEOUT = 5.0
MAX_POINTS = 10_000
_RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})


class QueryError(UsageError):
    """Prometheus refused a query as malformed (400 bad_data); the message is its own."""


@dataclass(frozen=True)
class Series:
    """One series of a query's answer: its labels and (epoch seconds, value) points, oldest
    first; a NaN or infinite value is left out."""

    labels: tuple[tuple[str, str], ...]
    points: tuple[tuple[float, float], ...]

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass(frozen=True)
class PrometheusApi:
    """Where the queries go: a Prometheus (or an API-compatible server: Thanos, Mimir...)."""

    url: str
    timeout: float = TIMEOUT
    backoff: float = BACKOFF  # the first wait between tries, in seconds

    @classmethod
    def flag(cls, url: str) -> PrometheusApi:
        """The API at `url` (--prometheus); UsageError when it is not an http(s) URL."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"--prometheus: {url!r} is not an http(s) URL; give one like http://host:9090"
            )
        return cls(url.rstrip("/"))

    def query(self, expr: str, at: float | None = None) -> list[Series]:
        """The instant vector `expr` at `at` (default: Prometheus's now), one point a series."""
        params: dict[str, str] = {"query": expr}
        if at is not None:
            params["time"] = _number(at)
        return _vector(self._get("/api/v1/query", params))

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        """`expr` evaluated every `step` seconds from `start` to `end`, the series of every
        piece (MAX_POINTS steps each) joined by their labels."""
        joined: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
        for first, last in _pieces(start, end, step):
            params = {
                "query": expr,
                "start": _number(first),
                "end": _number(last),
                "step": _number(step),
            }
            for series in _matrix(self._get("/api/v1/query_range", params)):
                joined.setdefault(series.labels, []).extend(series.points)
        return [Series(labels, tuple(sorted(set(points)))) for labels, points in joined.items()]

    def _get(
        self,
        path: str,
        params: dict[str, str],
        sleep: Callable[[float], None] = time.sleep,
    ) -> Any:
        """The `data` of a successful answer; the errors and retries of the module docstring."""
        url = self.url + path
        wait = self.backoff
        for attempt in range(1, RETRIES + 1):
            try:
                timeout = httpx.Timeout(self.timeout, connect=CONNECT_TIMEOUT)
                reply = httpx.get(url, params=params, timeout=timeout)
            except httpx.TransportError as exc:
                problem = f"cannot reach {self.url} ({_reason(exc)})"
            else:
                body = _json(reply)
                if reply.status_code == 200 and body.get("status") == "success":
                    return body.get("data")
                error = f"{body.get('errorType', reply.status_code)}: {body.get('error', '')}"
                if reply.status_code == 400:
                    raise QueryError(f"Prometheus refused {params['query']!r}: {error}")
                problem = f"{self.url} answered {reply.status_code} ({error.rstrip(': ')})"
                if reply.status_code not in _RETRIED_STATUS:
                    raise UnavailableError(f"Prometheus: {problem}")
            if attempt < RETRIES:
                sleep(wait)
                wait *= 2
        raise UnavailableError(f"Prometheus: {problem}, {RETRIES} tries")


def _pieces(start: float, end: float, step: float) -> Iterator[tuple[float, float]]:
    if not (math.isfinite(step) and step > 0):
        raise UsageError(f"a Prometheus step must be positive, got {step:g}")
    first = start
    while True:
        last = min(end, first + (MAX_POINTS - 1) * step)
        yield first, last
        if last >= end:
            return
        first = last + step


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _json(reply: httpx.Response) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        return {"error": reply.text.strip()[:200] or reply.reason_phrase}
    return body if isinstance(body, dict) else {}


def _labels(raw: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in dict(raw or {}).items()))


def _point(raw: Any) -> tuple[float, float] | None:
    ts, value = float(raw[0]), float(raw[1])
    return (ts, value) if math.isfinite(value) else None


def _vector(data: Any) -> list[Series]:
    found = []
    for item in data.get("result", []) if isinstance(data, dict) else []:
        point = _point(item["value"])
        found.append(Series(_labels(item.get("metric")), (point,) if point else ()))
    return found


def _matrix(data: Any) -> list[Series]:
    found = []
    for item in data.get("result", []) if isinstance(data, dict) else []:
        points = (_point(raw) for raw in item.get("values", []))
        found.append(Series(_labels(item.get("metric")), tuple(p for p in points if p)))
    return found
