"""Rows of `uploaded_files`: add one, list the newest, fetch one, find one, walk them all.

Statements are Core built once at import (pure data, no I/O) and run through `queries.Tx`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import sqlalchemy as sa

from rightsizer.uploader.queries import Query, Tx
from rightsizer.uploader.schema import uploaded_files

NEWEST = 20

_c = uploaded_files.c
_FIELDS = (_c.id, _c.original_name, _c.stored_name, _c.size, _c.sha256, _c.content_type)
_NEWEST = Query(sa.select(_c.id, _c.original_name).order_by(_c.id.desc()).limit(NEWEST))
_ONE = Query(sa.select(*_FIELDS).where(_c.id == sa.bindparam("b_id")))
_ALL = Query(sa.select(*_FIELDS).order_by(_c.id))
_BY_STORED = Query(sa.select(_c.id).where(_c.stored_name == sa.bindparam("b_stored")))
_INSERT = Query(
    uploaded_files.insert().values(
        original_name=sa.bindparam("b_name"),
        stored_name=sa.bindparam("b_stored"),
        size=sa.bindparam("b_size"),
        sha256=sa.bindparam("b_sha256"),
        content_type=sa.bindparam("b_type"),
        session_id=sa.bindparam("b_session"),
        created_at=sa.bindparam("b_created"),
    )
)


class Listing(NamedTuple):
    """What the index page shows of one upload (two columns: each costs pymysql per row)."""

    id: int
    original_name: str


@dataclass(frozen=True)
class StoredFile:
    """One row of `uploaded_files` (without the session and the time)."""

    id: int
    original_name: str
    stored_name: str
    size: int
    sha256: str
    content_type: str


@dataclass(frozen=True)
class NewFile:
    """What an upload adds: the row's fields that the request knows."""

    original_name: str
    stored_name: str
    size: int
    sha256: str
    content_type: str
    session_id: str | None


def newest(tx: Tx) -> list[Listing]:
    """The NEWEST most recent uploads, newest first (primary-key order: no sort, no scan)."""
    return [Listing._make(row) for row in tx.all(_NEWEST)]


def add(tx: Tx, new: NewFile, *, now: datetime | None = None) -> int:
    """Insert one row; returns its id."""
    created = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    tx.execute(
        _INSERT,
        {
            "b_name": new.original_name,
            "b_stored": new.stored_name,
            "b_size": new.size,
            "b_sha256": new.sha256,
            "b_type": new.content_type,
            "b_session": new.session_id,
            "b_created": created,
        },
    )
    return tx.lastrowid


def get(tx: Tx, file_id: int) -> StoredFile | None:
    row = tx.first(_ONE, {"b_id": file_id})
    return StoredFile(*row) if row is not None else None


def has_stored_name(tx: Tx, stored_name: str) -> bool:
    """True when a row names this stored file."""
    return tx.first(_BY_STORED, {"b_stored": stored_name}) is not None


def every(tx: Tx) -> list[StoredFile]:
    """All rows in id order."""
    return [StoredFile(*row) for row in tx.all(_ALL)]
