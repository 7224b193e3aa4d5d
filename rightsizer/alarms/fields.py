"""Checks for single PutMetricAlarm fields; each failure names the field as the user wrote it.

Types follow what `aws cloudwatch put-metric-alarm --cli-input-json` accepts: numbers are JSON
numbers (not strings), counts are whole numbers, lists are lists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from rightsizer.errors import AlarmDefinitionError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PORT = re.compile(r"^[0-9]{1,5}$")
MAX_ACTIONS = 5  # PutMetricAlarm allows five actions per state
MAX_DIMENSIONS = 30


def text(doc: Mapping[str, Any], field: str, *, limit: int, required: bool = False) -> str | None:
    """A string of 1..limit characters without control characters."""
    raw = doc.get(field)
    if raw is None:
        if required:
            raise AlarmDefinitionError(field, "missing; it is required")
        return None
    return _string(raw, field, limit)


def _string(raw: Any, field: str, limit: int) -> str:
    if not isinstance(raw, str) or not raw:
        raise AlarmDefinitionError(field, f"expected a non-empty string, got {raw!r}")
    if len(raw) > limit:
        raise AlarmDefinitionError(field, f"longer than {limit} characters")
    if _CONTROL.search(raw):
        raise AlarmDefinitionError(field, "contains control characters; remove them")
    return raw


def whole(doc: Mapping[str, Any], field: str, *, low: int, high: int) -> int | None:
    """A whole JSON number within low..high, or None when absent."""
    raw = doc.get(field)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise AlarmDefinitionError(field, f"expected a whole number, got {raw!r}")
    if not low <= raw <= high:
        raise AlarmDefinitionError(field, f"must be between {low} and {high}, got {raw}")
    return raw


def number(doc: Mapping[str, Any], field: str) -> float | None:
    """A finite JSON number, or None when absent."""
    raw = doc.get(field)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise AlarmDefinitionError(field, f"expected a finite number, got {raw!r}")
    return float(raw)


def flag(doc: Mapping[str, Any], field: str, default: bool) -> bool:
    raw = doc.get(field, default)
    if not isinstance(raw, bool):
        raise AlarmDefinitionError(field, f"expected true or false, got {raw!r}")
    return raw


def choice(doc: Mapping[str, Any], field: str, allowed: Sequence[str]) -> str | None:
    raw = doc.get(field)
    if raw is None:
        return None
    if raw not in allowed:
        raise AlarmDefinitionError(field, f"expected one of {', '.join(allowed)}, got {raw!r}")
    return str(raw)


def pairs(
    doc: Mapping[str, Any], field: str, names: tuple[str, str], limit: int
) -> tuple[tuple[str, str], ...]:
    """A list of two-key objects such as Dimensions [{Name, Value}] or Tags [{Key, Value}]."""
    raw = doc.get(field)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise AlarmDefinitionError(field, f"expected a list of {{{', '.join(names)}}} objects")
    if len(raw) > limit:
        raise AlarmDefinitionError(field, f"at most {limit} entries, got {len(raw)}")
    out: list[tuple[str, str]] = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, dict) or set(item) != set(names):
            raise AlarmDefinitionError(where, f"expected exactly the keys {' and '.join(names)}")
        key = _string(item[names[0]], f"{where}.{names[0]}", 255)
        value = _string(item[names[1]], f"{where}.{names[1]}", 1024)
        if any(k == key for k, _ in out):
            raise AlarmDefinitionError(where, f"{names[0]} {key!r} appears twice")
        out.append((key, value))
    return tuple(out)


def actions(doc: Mapping[str, Any], field: str) -> tuple[str, ...]:
    """A list of action strings: an ARN, `log`, `stop-run`, `webhook:URL` or `command:CMD`."""
    raw = doc.get(field)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise AlarmDefinitionError(field, "expected a list of action strings")
    if len(raw) > MAX_ACTIONS:
        raise AlarmDefinitionError(field, f"at most {MAX_ACTIONS} actions, got {len(raw)}")
    return tuple(check_action(item, f"{field}[{i}]") for i, item in enumerate(raw))


def check_action(raw: Any, field: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise AlarmDefinitionError(field, f"expected an action string, got {raw!r}")
    action = raw.strip()
    if _CONTROL.search(action):
        raise AlarmDefinitionError(field, "contains control characters; remove them")
    if action.startswith("arn:") or action in ("log", "stop-run"):
        return action
    if action.startswith("webhook:"):
        problem = url_problem(action.removeprefix("webhook:"))
        if problem is not None:
            raise AlarmDefinitionError(field, f"webhook URL {problem}")
        return action
    if action.startswith("command:"):
        if not action.removeprefix("command:").strip():
            raise AlarmDefinitionError(field, "command: needs a shell command after the colon")
        return action
    raise AlarmDefinitionError(
        field,
        f"unknown action {action!r}; use log, stop-run, webhook:https://..., "
        "command:<shell command> or an AWS ARN",
    )


def url_problem(url: str) -> str | None:
    """What keeps `url` from being a webhook address (None: nothing), checked as the POST
    will use it: scheme http or https, a host, a numeric port 1-65535 if one is given, and a
    URL httpx accepts; so a bad address is refused before the run, not when the alarm fires."""
    if any(c.isspace() for c in url):
        return "must not contain spaces"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"cannot be read ({exc})"
    problem = _address_problem(parts.scheme, *_host_and_port(parts.netloc.rpartition("@")[2]))
    if problem is not None:
        return problem
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        return f"cannot be used ({exc})"
    return None


def _address_problem(scheme: str, host: str, port: str | None) -> str | None:
    if scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if host in ("", "[]"):
        return "has no host"
    if port is not None and (not _PORT.match(port) or not 1 <= int(port) <= 65535):
        return f"has port {port!r}; a port is a number from 1 to 65535"
    return None


def _host_and_port(hostport: str) -> tuple[str, str | None]:
    """Split `host[:port]` (`[v6]:port` too); the port is None when there is no colon."""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            return "", None
        host, rest = hostport[: close + 1], hostport[close + 1 :]
        return (host, rest[1:]) if rest.startswith(":") else (host, rest or None)
    host, colon, port = hostport.partition(":")
    return host, port if colon else None
