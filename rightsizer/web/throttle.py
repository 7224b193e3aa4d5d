"""Failed web logins, throttled per client: each failure locks that client out for longer.

    throttle = LoginThrottle()
    wait = throttle.retry_after("192.0.2.7")   # None: may try; else seconds (answer 429)
    throttle.failed("192.0.2.7")               # locked for 1 s, then 2, 4, ... up to 60 s
    throttle.succeeded("192.0.2.7")            # forgotten

A per-request sleep slows nothing down for a guesser who sends requests in parallel; a lockout
per client address does, and costs no thread. IPv6 clients count per /64, the block one
machine usually owns. A client quiet for `forget_after` seconds past its lockout starts over,
and at most `capacity` clients are remembered (the least recently seen go first), so the
table stays bounded whatever the number of addresses. Behind a proxy every client has the
proxy's address and shares one lockout. Pure: the clock is an argument.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

FIRST_LOCK = 1.0
MAX_LOCK = 60.0
FORGET_AFTER = 600.0
CAPACITY = 4096
IPV6_PREFIX = 64


@dataclass
class Failures:
    """One client's failures in a row and when it may try again."""

    count: int
    locked_until: float


class LoginThrottle:
    """Lockouts of clients (by address) after failed logins; see the module docstring."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        first_lock: float = FIRST_LOCK,
        max_lock: float = MAX_LOCK,
        forget_after: float = FORGET_AFTER,
        capacity: int = CAPACITY,
    ) -> None:
        self.clock = clock
        self.first_lock = first_lock
        self.max_lock = max_lock
        self.forget_after = forget_after
        self.capacity = capacity
        self._clients: OrderedDict[str, Failures] = OrderedDict()
        self.refused = 0  # attempts answered 429, for tests and logs

    def __len__(self) -> int:
        return len(self._clients)

    def retry_after(self, address: str | None) -> float | None:
        """Seconds before the client may try again (it is refused meanwhile), or None."""
        entry = self._current(client_key(address))
        if entry is None:
            return None
        wait = entry.locked_until - self.clock()
        if wait <= 0:
            return None
        self.refused += 1
        return wait

    def failed(self, address: str | None) -> None:
        """A failed attempt: lock the client out, twice as long as last time."""
        key = client_key(address)
        entry = self._current(key)
        count = 1 if entry is None else entry.count + 1
        lock = min(self.max_lock, self.first_lock * 2 ** min(count - 1, 62))
        self._clients[key] = Failures(count, self.clock() + lock)
        self._clients.move_to_end(key)
        while len(self._clients) > self.capacity:
            self._clients.popitem(last=False)

    def succeeded(self, address: str | None) -> None:
        """A successful login: the client's failures are forgotten."""
        self._clients.pop(client_key(address), None)

    def _current(self, key: str) -> Failures | None:
        entry = self._clients.get(key)
        if entry is not None and self.clock() >= entry.locked_until + self.forget_after:
            del self._clients[key]
            return None
        return entry


def client_key(address: str | None) -> str:
    """What one client is counted as: its IPv4 address, its IPv6 /64, or the text given."""
    if not address:
        return "?"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


def retry_header(wait: float) -> str:
    """A Retry-After value: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait)))
