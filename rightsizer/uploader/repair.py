"""Settling what a crash leaves in the data directory: stale partial uploads and orphan files.

    result = repair(settings)       # `rightsizer verify --repair`
    sweep_partials(datadir)         # at every server start: the partial uploads only

A server that dies mid-upload leaves a `.incoming-*.part` file; one that dies between the rename
and the row's insert leaves a stored file that no row names (an orphan). Neither was ever
acknowledged to the client (the 303 comes after the insert).

The rule that keeps a live upload safe: a file is settled only when BOTH
  - no process holds its `flock` (a server holds it from the file's creation until the row is
    committed or the file removed, files.py), and
  - it was last written more than SETTLE_AFTER_S ago (a second guard for servers on other
    hosts whose locks the filesystem does not share, and for servers older than the lock).
Stale partials are deleted: they are incomplete by definition. Orphans are quarantined, not
deleted: renamed `<name>.orphan` in place, after checking once more, under the lock, that no
row names them. Renaming one back to `.upload` and inserting its row undoes that; `reset`
removes them. Repair refuses to quarantine when the table is missing, or when more than half of
the stored files (and more than MAX_CRASH_ORPHANS) have no row: crashes leave a few orphans, a
wrong `--db` makes them all look like one.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from rightsizer.config import Settings
from rightsizer.errors import RefusedError
from rightsizer.uploader import records
from rightsizer.uploader.database import Database
from rightsizer.uploader.files import DataDir, DirState, Entry, EntryKind, unusable

# An hour without a write. A live upload writes its file at least every upload.BODY_IDLE_S while
# the file arrives, then reaches its row within the database's timeouts (seconds); the lock is
# the first guard, this one covers servers whose locks the filesystem does not share.
SETTLE_AFTER_S = 3600.0
MAX_CRASH_ORPHANS = 8


class Outcome(Enum):
    """What became of one file."""

    SETTLED = "settled"  # removed (partial) or quarantined (orphan)
    LEFT = "left"  # held by a server, or written too recently: a later repair may settle it
    GONE = "gone"  # removed, or given its row, by a server meanwhile


@dataclass(frozen=True)
class RepairResult:
    """What a repair did, and what it left for a later one (held by a server, or too recent)."""

    removed_partials: tuple[str, ...]
    quarantined: tuple[str, ...]
    left: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "removed_partials": list(self.removed_partials),
            "quarantined": list(self.quarantined),
            "left": list(self.left),
        }


def is_stale(entry: Entry, now: float) -> bool:
    """Last written more than SETTLE_AFTER_S ago."""
    return now - entry.mtime > SETTLE_AFTER_S


def sweep_partials(datadir: DataDir, *, now: float | None = None) -> tuple[list[str], list[str]]:
    """Delete stale partial uploads that no server holds; returns (removed, left)."""
    now = time.time() if now is None else now
    removed: list[str] = []
    left: list[str] = []
    try:
        partials = [e for e in datadir.entries() if e.kind is EntryKind.PARTIAL]
        for entry in partials:
            if not is_stale(entry, now):
                continue
            remove = functools.partial(datadir.remove, [entry.name])
            outcome = _under_lock(datadir, entry.name, now, remove)
            if outcome is Outcome.SETTLED:
                removed.append(entry.name)
            elif outcome is Outcome.LEFT:
                left.append(entry.name)
    except OSError as exc:
        raise unusable(datadir.root, exc) from None
    return removed, left


def repair(settings: Settings, *, now: float | None = None) -> RepairResult:
    """Delete stale partials, quarantine orphans; both only under the module's rule."""
    now = time.time() if now is None else now
    datadir = DataDir(settings.data_dir)
    try:
        state = datadir.state()
    except OSError as exc:
        raise unusable(settings.data_dir, exc) from None
    if state is DirState.FOREIGN:
        raise datadir.refusal()
    if state is not DirState.OURS:
        return RepairResult((), (), ())
    removed, left = sweep_partials(datadir, now=now)
    db = Database(settings.db)
    try:
        quarantined, waiting = _settle_orphans(datadir, db, now)
    finally:
        db.dispose()
    return RepairResult(tuple(removed), tuple(quarantined), tuple(left + waiting))


def _settle_orphans(datadir: DataDir, db: Database, now: float) -> tuple[list[str], list[str]]:
    if db.sqlite_path is not None and not db.sqlite_path.exists():
        raise _no_table(db)
    if not db.run_core(lambda conn: conn.dialect.has_table(conn, "uploaded_files")):
        raise _no_table(db)
    try:
        stored = [e for e in datadir.entries() if e.kind is EntryKind.STORED]
    except OSError as exc:
        raise unusable(datadir.root, exc) from None
    known = {row.stored_name for row in db.run(records.every)}
    orphans = [e for e in stored if e.name not in known]
    if len(orphans) > MAX_CRASH_ORPHANS and 2 * len(orphans) > len(stored):
        raise RefusedError(
            f"{len(orphans)} of {len(stored)} stored files have no row in {db.label}: more than "
            "crashes leave, so nothing was quarantined; check that --db names the uploader's "
            "database"
        )
    quarantined: list[str] = []
    left: list[str] = []
    for entry in orphans:
        if not is_stale(entry, now):
            left.append(entry.name)
            continue

        def settle(name: str = entry.name) -> bool:
            if db.run(lambda tx: records.has_stored_name(tx, name)):
                return False  # its row was committed after the listing
            datadir.quarantine(name)
            return True

        try:
            outcome = _under_lock(datadir, entry.name, now, settle)
        except OSError as exc:
            raise unusable(datadir.root, exc) from None
        if outcome is Outcome.SETTLED:
            quarantined.append(entry.name)
        elif outcome is Outcome.LEFT:
            left.append(entry.name)
    return quarantined, left


def _under_lock(datadir: DataDir, name: str, now: float, settle: Callable[[], object]) -> Outcome:
    """Take the file's lock, check its age again, then `settle()` it (truthy: it did)."""
    try:
        fd = datadir.lock(name)
    except FileNotFoundError:
        return Outcome.GONE
    if fd is None:
        return Outcome.LEFT
    try:
        if now - os.fstat(fd).st_mtime <= SETTLE_AFTER_S:
            return Outcome.LEFT  # written again since it was listed
        return Outcome.SETTLED if settle() else Outcome.GONE
    except FileNotFoundError:
        return Outcome.GONE
    finally:
        os.close(fd)


def _no_table(db: Database) -> RefusedError:
    return RefusedError(
        f"{db.label} has no uploaded_files table, so every stored file would look like an "
        "orphan; nothing was quarantined. Check that --db names the uploader's database"
    )
