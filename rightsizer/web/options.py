"""The web UI's flags, checked before anything starts: where it listens and who may use it.

    web = WebOptions.build(host="127.0.0.1", port=8089, auth="ops:s3cret")
    web.check_bindable()      # UsageError when something already listens there

Safe by default: the UI starts and stops load, so it binds 127.0.0.1; an address other
machines can reach is refused (exit 2) unless `--web-auth USER:PASS` is given too. The
password never reaches the manifest or an error message (`redact` hides it in a command line).
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rightsizer.errors import RefusedError, UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8089
AUTH_FLAG = "--web-auth"
HIDDEN = "***"


@dataclass(frozen=True)
class Credentials:
    """One user and password; `matches` compares in constant time."""

    user: str
    password: str = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> Credentials:
        """`"USER:PASS"` (the first colon splits); UsageError without echoing the value."""
        user, colon, password = text.partition(":")
        if not colon or not user.strip() or not password:
            raise UsageError(
                f"{AUTH_FLAG}: give USER:PASSWORD, a non-empty user and password joined by a colon"
            )
        if any(ch.isspace() or not ch.isprintable() for ch in user):
            raise UsageError(f"{AUTH_FLAG}: the user name must not contain spaces or controls")
        return cls(user, password)

    def matches(self, user: str, password: str) -> bool:
        same_user = hmac.compare_digest(user.encode(), self.user.encode())
        same_password = hmac.compare_digest(password.encode(), self.password.encode())
        return same_user and same_password


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the UI on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other machines may resolve to a public address


@dataclass(frozen=True)
class WebOptions:
    """Where Locust's web UI listens, and the credentials it asks for (None: no login)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    credentials: Credentials | None = None

    @classmethod
    def build(
        cls, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, auth: str | None = None
    ) -> WebOptions:
        """Checked options; UsageError names the flag, RefusedError (exit 2) a bind beyond
        this machine without credentials."""
        host = host.strip()
        if host == "*":
            host = "0.0.0.0"  # noqa: S104  # Locust's spelling of every interface
        if not host or any(ch.isspace() for ch in host):
            raise UsageError(f"--web-host: {host!r} is not an address; give e.g. 127.0.0.1")
        if not 1 <= port <= 65535:
            raise UsageError(f"--web-port: {port} is not a port; give 1 to 65535, e.g. 8089")
        credentials = Credentials.parse(auth) if auth is not None else None
        if credentials is None and not is_loopback(host):
            raise RefusedError(
                f"--web-host: {host} is reachable from other machines and the web UI controls "
                f"the load; add {AUTH_FLAG} USER:PASS, or keep the default {DEFAULT_HOST}"
            )
        return cls(host, port, credentials)

    @property
    def url(self) -> str:
        shown = DEFAULT_HOST if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        return f"http://{f'[{shown}]' if ':' in shown else shown}:{self.port}"

    def as_dict(self) -> dict[str, Any]:
        """For the manifest: no password."""
        user = self.credentials.user if self.credentials else None
        return {"host": self.host, "port": self.port, "login": user}

    def check_bindable(self) -> None:
        """UsageError when the address cannot be bound now (in use, not ours, unknown)."""
        try:
            infos = socket.getaddrinfo(
                self.host.strip("[]"), self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )
        except socket.gaierror as exc:
            raise UsageError(f"--web-host: cannot resolve {self.host} ({exc.strerror})") from None
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as sock:
            # As the web server will: a port left in TIME_WAIT by an earlier run is free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise UsageError(
                    f"--web-port: cannot listen on {self.host}:{self.port} "
                    f"({exc.strerror or exc}); give another --web-port or --web-host"
                ) from None


def redact(argv: Sequence[str]) -> tuple[str, ...]:
    """`argv` with the password of `--web-auth USER:PASS` (or `--web-auth=USER:PASS`) hidden."""
    shown: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            shown.append(_hide(arg))
            hide_next = False
        elif arg == AUTH_FLAG:
            shown.append(arg)
            hide_next = True
        elif arg.startswith(AUTH_FLAG + "="):
            shown.append(f"{AUTH_FLAG}={_hide(arg.split('=', 1)[1])}")
        else:
            shown.append(arg)
    return tuple(shown)


def _hide(value: str) -> str:
    user, colon, _ = value.partition(":")
    return f"{user}:{HIDDEN}" if colon else HIDDEN
