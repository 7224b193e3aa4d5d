"""PHP-like sessions on a real database, with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from rightsizer.uploader.database import Database
from rightsizer.uploader.schema import session_data
from rightsizer.uploader.sessions import LIFETIME_S, SessionStore


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.create_schema()
    yield database
    database.dispose()


def rows(db: Database) -> list[tuple[str, str, int]]:
    query = sa.select(session_data.c.id, session_data.c.data, session_data.c.expires_at)
    return [(r[0], r[1], r[2]) for r in db.run_core(lambda conn: conn.execute(query).all())]


def test_a_new_session_is_written_and_read_back(db: Database) -> None:
    clock = Clock(1_000_000)
    store = SessionStore(clock=clock)
    fresh = db.run(lambda tx: store.load(tx, None))
    assert fresh.is_new and len(fresh.id) == 32
    db.run(lambda tx: store.save(tx, fresh, {"message": "hi"}))
    again = db.run(lambda tx: store.load(tx, fresh.id))
    assert not again.is_new
    assert again.id == fresh.id
    assert again.data == {"message": "hi"}
    assert rows(db) == [(fresh.id, '{"message":"hi"}', 1_000_000 + LIFETIME_S)]


def test_every_save_moves_the_expiry_forward(db: Database) -> None:
    clock = Clock(1_000_000)
    store = SessionStore(clock=clock)
    session = db.run(lambda tx: store.load(tx, None))
    db.run(lambda tx: store.save(tx, session, {}))
    clock.now += 600
    loaded = db.run(lambda tx: store.load(tx, session.id))
    db.run(lambda tx: store.save(tx, loaded, {}))
    assert rows(db)[0][2] == 1_000_600 + LIFETIME_S


def test_an_expired_session_is_not_adopted_and_is_swept(db: Database) -> None:
    clock = Clock(1_000_000)
    store = SessionStore(clock=clock)
    old = db.run(lambda tx: store.load(tx, None))
    db.run(lambda tx: store.save(tx, old, {"message": "old"}))
    clock.now += LIFETIME_S + 1
    replacement = db.run(lambda tx: store.load(tx, old.id))
    assert replacement.is_new and replacement.id != old.id
    db.run(lambda tx: store.save(tx, replacement, {}))  # the sweep runs with this write
    assert [r[0] for r in rows(db)] == [replacement.id]


def test_a_session_deleted_meanwhile_is_written_again(db: Database) -> None:
    store = SessionStore(clock=Clock(1_000_000))
    session = db.run(lambda tx: store.load(tx, None))
    db.run(lambda tx: store.save(tx, session, {}))
    loaded = db.run(lambda tx: store.load(tx, session.id))
    db.run_core(lambda conn: conn.execute(session_data.delete()))  # e.g. a reset
    db.run(lambda tx: store.save(tx, loaded, {"message": "back"}))
    assert [(r[0], r[1]) for r in rows(db)] == [(session.id, '{"message":"back"}')]


def test_garbage_in_the_data_column_reads_as_empty(db: Database) -> None:
    store = SessionStore(clock=Clock(1_000_000))
    sid = "a" * 32
    insert = session_data.insert().values(id=sid, data="not json [", expires_at=2_000_000)
    db.run_core(lambda conn: conn.execute(insert))
    assert db.run(lambda tx: store.load(tx, sid)).data == {}
