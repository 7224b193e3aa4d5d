"""Sessions the way PHP keeps them with a database handler.

A cookie carries a random id; the `session_data` row holds the data (a JSON object of strings)
and an expiry. Every request reads its row once (by primary key) and writes it once (moving the
expiry forward), as PHP's `session_start()` and `session_write_close()` do. An unknown, expired
or malformed id is never adopted: the visitor gets a fresh one (PHP's strict mode). Expired rows
are swept at most once a minute per process, with an indexed delete.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from rightsizer.uploader.queries import Query, Tx
from rightsizer.uploader.schema import session_data

COOKIE = "RSSESSID"
LIFETIME_S = 1440  # PHP's session.gc_maxlifetime default
SWEEP_INTERVAL_S = 60.0
_ID = re.compile(r"[0-9a-f]{32}")

_c = session_data.c
_SELECT = Query(
    sa.select(_c.data).where(_c.id == sa.bindparam("b_id"), _c.expires_at > sa.bindparam("b_now"))
)
_UPDATE = Query(
    session_data.update()
    .where(_c.id == sa.bindparam("b_id"))
    .values(data=sa.bindparam("b_data"), expires_at=sa.bindparam("b_expires"))
)
_INSERT = Query(
    session_data.insert().values(
        id=sa.bindparam("b_id"), data=sa.bindparam("b_data"), expires_at=sa.bindparam("b_expires")
    )
)
_SWEEP = Query(session_data.delete().where(_c.expires_at <= sa.bindparam("b_now")))


@dataclass(frozen=True)
class Session:
    """One visitor's session as read at the start of a request."""

    id: str
    data: Mapping[str, str] = field(default_factory=dict)
    is_new: bool = True


class SessionStore:
    """Loads and saves sessions on a connection the caller's transaction owns."""

    def __init__(
        self, *, lifetime: int = LIFETIME_S, clock: Callable[[], float] = time.time
    ) -> None:
        self.lifetime = lifetime
        self._clock = clock
        self._next_sweep = 0.0

    def load(self, tx: Tx, cookie: str | None) -> Session:
        """The session named by the cookie, or a new one when it names none that is alive."""
        now = int(self._clock())
        if cookie and _ID.fullmatch(cookie):
            row = tx.first(_SELECT, {"b_id": cookie, "b_now": now})
            if row is not None:
                return Session(cookie, _decode(row[0]), is_new=False)
        return Session(secrets.token_hex(16))

    def save(self, tx: Tx, session: Session, data: Mapping[str, str]) -> None:
        """Write the session's data and push its expiry `lifetime` seconds ahead."""
        now = self._clock()
        params = {
            "b_id": session.id,
            "b_data": json.dumps(dict(data), separators=(",", ":")),
            "b_expires": int(now) + self.lifetime,
        }
        if session.is_new or tx.execute(_UPDATE, params) == 0:
            tx.execute(_INSERT, params)
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL_S
            tx.execute(_SWEEP, {"b_now": int(now)})


def _decode(raw: str) -> dict[str, str]:
    """The stored JSON object; anything else (a foreign writer, a bad row) reads as empty."""
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}
