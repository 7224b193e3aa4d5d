"""The cross-site guard: which requests the web UI refuses before any route sees them.

    hosts = HostRule.bound_to("127.0.0.1", login=False)
    cross_site_refusal("POST", "/swarm", request.host, request.headers, hosts)  # reason or None

The UI starts load, so a web page the operator happens to open must not drive it. Three checks,
each on every request, in this order:

1. Host. A DNS-rebinding page reaches 127.0.0.1 under its own name, so the Host header's name
   must be one the UI is bound to: 127.0.0.1, localhost, ::1 or the `--web-host` itself. The
   port is not checked: a rebinding page must use ours anyway, so only the name tells it
   apart, and an SSH tunnel or a local proxy may forward from another port. Bound to every
   interface (0.0.0.0 or ::, allowed only with `--web-auth`), any Host is accepted, because
   the machine's names are many; a rebinding page still gets nothing, as every route asks for
   the login and the browser keeps our cookie and password for our name only.
2. Sec-Fetch-Site. A browser says where a request comes from. `cross-site` and `same-site`
   are refused (same-site too: every port of localhost is the same site, so any local dev
   server's page would count), except a GET or HEAD navigation to a route that changes
   nothing, so a link from elsewhere still opens the UI.
3. Origin. A request that changes state (any method but GET, HEAD and OPTIONS, and Locust's
   control routes whatever their method) that carries an Origin must come from the UI's own
   origin; `null` (sandboxed frames, file: pages) is refused.

A request with neither header (curl, a script) passes: no web page made a browser send it, and
with `--web-auth` it still needs the password. Pure: no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
EVERY_INTERFACE = frozenset({"0.0.0.0", "::", ""})  # noqa: S104  # what we recognise, not bind
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Locust's routes that change the run; older Locust versions served some of them on GET.
CONTROL_PATHS = frozenset({"/swarm", "/stop", "/stats/reset", "/user"})
FOREIGN_SITES = frozenset({"cross-site", "same-site"})

WRONG_HOST = (
    "refused: the Host header names no address this web UI is bound to; "
    "open it by that address (e.g. http://127.0.0.1:PORT)"
)
OTHER_SITE = "refused: this request comes from another site"


class Headers(Protocol):
    """A request's headers, as Werkzeug's `Headers` or a dict give them."""

    def get(self, key: str) -> str | None: ...


@dataclass(frozen=True)
class HostRule:
    """The host names a request may be addressed to; `names` None accepts any."""

    names: frozenset[str] | None

    @classmethod
    def bound_to(cls, host: str, login: bool) -> HostRule:
        """The rule for a UI listening on `host`: its own name and the loopback names; any
        name when it listens on every interface behind a login (refuse rather than guess
        when there is no login)."""
        name = host.strip().strip("[]").lower()
        if name in EVERY_INTERFACE:
            return cls(None if login else LOOPBACK_NAMES)
        return cls(LOOPBACK_NAMES | {name})

    def allows(self, host: str) -> bool:
        """Whether a Host header value (`name` or `name:port`, IPv6 in brackets) is ours."""
        if self.names is None:
            return True
        name = host_name(host)
        return name is not None and name in self.names


def host_name(host: str) -> str | None:
    """The name of a Host header value, lowercased; None when it is malformed."""
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, port = host[1:].partition("]")
        if not bracket or (port and not _is_port_suffix(port)):
            return None
        return name
    name, colon, port = host.partition(":")
    if colon and (":" in port or not _is_port_suffix(colon + port)):
        return None
    return name or None


def _is_port_suffix(text: str) -> bool:
    return text.startswith(":") and text[1:].isascii() and text[1:].isdigit()


def changes_state(method: str, path: str) -> bool:
    """Whether a request may change the run: an unsafe method, or one of Locust's control
    routes by any method."""
    return method.upper() not in SAFE_METHODS or path.rstrip("/") in CONTROL_PATHS


def cross_site_refusal(
    method: str, path: str, host: str, headers: Headers, hosts: HostRule
) -> str | None:
    """Why the request is refused (a one-line message), or None when it may go on."""
    if not hosts.allows(host):
        return WRONG_HOST
    mutating = changes_state(method, path)
    site = (headers.get("Sec-Fetch-Site") or "").strip().lower()
    if site in FOREIGN_SITES:
        navigation = (headers.get("Sec-Fetch-Mode") or "").strip().lower() == "navigate"
        if mutating or not navigation or method.upper() not in ("GET", "HEAD"):
            return OTHER_SITE
    origin = headers.get("Origin")
    if mutating and origin is not None and not _same_origin(origin, host):
        return OTHER_SITE
    return None


def _same_origin(origin: str, host: str) -> bool:
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.strip().lower()
