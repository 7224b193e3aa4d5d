"""The data directory: where uploads are stored, and how rightsizer knows it is its own.

    <data_dir>/
        .rightsizer-data                     marker, written at first use
        3f2a...e1.upload                     a stored file: 32 hex digits, server-made
        .incoming-9b1c...07.part             an upload still arriving (renamed when complete)
        5d0e...9a.orphan                     a stored file that had no row, set aside by repair

Only names of these three patterns are ever created or deleted here. A server holds an exclusive
`flock` on an upload's file from its creation until its row is committed (or the file removed),
so maintenance can tell a live upload from a crash's leftover without guessing. A directory
that has files but no marker belongs to someone else, and rightsizer refuses to use or clean
it. Several processes may initialise the same directory at once: the marker is created
exclusively and a process that loses the race simply finds it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from rightsizer.errors import RefusedError, RightsizerError, UsageError
from rightsizer.filelock import locked

MARKER = ".rightsizer-data"
MARKER_TEXT = "This directory holds rightsizer uploads; `rightsizer reset` may empty it.\n"
STORED_NAME = re.compile(r"[0-9a-f]{32}\.upload")
TEMP_NAME = re.compile(r"\.incoming-[0-9a-f]{32}\.part")
QUARANTINED_NAME = re.compile(r"[0-9a-f]{32}\.orphan")
# Errors that the person running rightsizer fixes (permissions, a read-only mount): exit 2.
_SETUP_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


class DirState(Enum):
    """What a data directory is, as far as rightsizer may touch it."""

    MISSING = "missing"  # will be created
    EMPTY = "empty"  # will be marked
    OURS = "ours"  # has the marker
    FOREIGN = "foreign"  # has entries and no marker: never touched


class EntryKind(Enum):
    """Which of rightsizer's name patterns a file has."""

    STORED = "stored"
    PARTIAL = "partial"  # .incoming-*.part: an upload arriving, or left by a crash
    QUARANTINED = "quarantined"  # *.orphan: set aside by `verify --repair`


@dataclass(frozen=True)
class Entry:
    """A regular file in the data directory whose name rightsizer recognises."""

    name: str
    size: int
    kind: EntryKind
    mtime: float = 0.0

    @property
    def is_temp(self) -> bool:
        return self.kind is EntryKind.PARTIAL


def new_stored_name() -> str:
    return f"{secrets.token_hex(16)}.upload"


def is_stored_name(name: str) -> bool:
    return STORED_NAME.fullmatch(name) is not None


def kind_of(name: str) -> EntryKind | None:
    """The kind of a name rightsizer makes, or None for any other name."""
    if STORED_NAME.fullmatch(name):
        return EntryKind.STORED
    if TEMP_NAME.fullmatch(name):
        return EntryKind.PARTIAL
    if QUARANTINED_NAME.fullmatch(name):
        return EntryKind.QUARANTINED
    return None


def unusable(root: Path, exc: OSError) -> RightsizerError:
    """The one-line error for a data directory the process cannot use."""
    reason = exc.strerror or str(exc)
    if exc.errno in _SETUP_ERRNOS:
        return UsageError(
            f"{root}: {reason}; give the user running rightsizer write access to it, or point "
            "--data-dir (RIGHTSIZER_DATA_DIR) at a directory it may write"
        )
    return RightsizerError(f"{root}: cannot use it ({reason}); check the disk and the mount")


class DataDir:
    """One data directory; every path built here is `root / <a name of ours>`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # Hot-path names are joined as strings: pathlib costs microseconds per join.
        self._prefix = os.path.join(root, "")  # noqa: PTH118

    def state(self) -> DirState:
        """Classify the directory without changing it."""
        if self._has_marker():
            return DirState.OURS
        try:
            with os.scandir(self.root) as entries:
                empty = next(entries, None) is None
        except FileNotFoundError:
            return DirState.MISSING
        except NotADirectoryError:
            return DirState.FOREIGN
        if empty:
            return DirState.EMPTY
        # A process initialising it right now writes the marker before anything else.
        return DirState.OURS if self._has_marker() else DirState.FOREIGN

    def initialise(self) -> None:
        """Create and mark the directory if new or empty; RefusedError if it is someone else's.

        A directory the process may not read or write is a UsageError naming it.
        """
        try:
            self._initialise()
        except OSError as exc:
            raise unusable(self.root, exc) from None

    def _initialise(self) -> None:
        current = self.state()
        if current is DirState.FOREIGN:
            raise self.refusal()
        if current is DirState.OURS:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.root / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return
        with os.fdopen(fd, "w") as handle:
            handle.write(MARKER_TEXT)

    def refusal(self) -> RefusedError:
        return RefusedError(
            f"{self.root} has files but no {MARKER} marker, so it is not a rightsizer data "
            "directory; nothing was touched. Point --data-dir (RIGHTSIZER_DATA_DIR) at an empty "
            "or new directory"
        )

    def is_healthy(self) -> bool:
        """True when the marker is there and the directory accepts writes (two system calls)."""
        return self._has_marker() and os.access(self.root, os.W_OK | os.X_OK)

    def open_temp(self) -> tuple[str, int]:
        """A new, exclusively created temp file for an upload: (path, writable fd).

        The fd holds an exclusive `flock` on the file until it is closed: keep it open until
        the file is removed or its row is committed, so repair sees the upload as live.
        """
        path = f"{self._prefix}.incoming-{secrets.token_hex(16)}.part"
        # Read-write: NFS emulates flock with POSIX locks, whose exclusive kind needs it.
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
        fd = os.open(path, flags, 0o644)
        try:
            # Blocking: only a repair can hold it, for a stat call, and it leaves new files be.
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            os.unlink(path)  # noqa: PTH108  (a str path, as above)
            raise
        return path, fd

    def lock(self, name: str) -> int | None:
        """An fd holding the exclusive `flock` of a file of ours, or None while a server holds it.

        FileNotFoundError when it is gone; the caller closes the fd to release the lock.
        """
        if kind_of(name) is None:
            raise ValueError(f"not a name rightsizer makes: {name!r}")
        fd = os.open(self._prefix + name, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        return locked(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def quarantine(self, stored_name: str) -> str:
        """Rename a stored file to its `.orphan` name (same directory); returns the new name."""
        if not is_stored_name(stored_name):
            raise ValueError(f"not a stored file name: {stored_name!r}")
        target = stored_name.removesuffix(".upload") + ".orphan"
        os.rename(self._prefix + stored_name, self._prefix + target)  # noqa: PTH104
        return target

    def commit(self, temp: str) -> str:
        """Rename a finished temp file to a fresh stored name; returns that name."""
        name = new_stored_name()
        os.rename(temp, self._prefix + name)  # noqa: PTH104
        return name

    def path_of(self, stored_name: str) -> Path:
        """The path of a stored file; ValueError for any name rightsizer would not make."""
        if not is_stored_name(stored_name):
            raise ValueError(f"not a stored file name: {stored_name!r}")
        return self.root / stored_name

    def entries(self) -> Iterator[Entry]:
        """Recognised regular files (every kind); symlinks and everything else are skipped."""
        try:
            scan = os.scandir(self.root)
        except FileNotFoundError:
            return
        with scan:
            for item in scan:
                kind = kind_of(item.name)
                if kind is None:
                    continue
                try:
                    info = item.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    yield Entry(item.name, info.st_size, kind, info.st_mtime)

    def others(self) -> list[str]:
        """Names in the directory that rightsizer does not recognise (left alone by reset)."""
        try:
            with os.scandir(self.root) as scan:
                names = [item.name for item in scan]
        except FileNotFoundError:
            return []
        recognised = {entry.name for entry in self.entries()} | {MARKER}
        return sorted(name for name in names if name not in recognised)

    def remove(self, names: Iterable[str], *, keep: frozenset[str] = frozenset()) -> list[str]:
        """Delete recognised regular files by name; returns the names actually deleted.

        Each name is re-checked at deletion time, relative to a descriptor of the directory (so
        a root swapped meanwhile is not followed): it must match a pattern of ours, be a
        regular file (never a symlink or a directory) and not be in `keep` (mount points).
        """
        deleted: list[str] = []
        try:
            dir_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            return deleted
        try:
            for name in names:
                if kind_of(name) is None or name in keep:
                    continue
                try:
                    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode):
                        os.unlink(name, dir_fd=dir_fd)
                        deleted.append(name)
                except FileNotFoundError:
                    continue
        finally:
            os.close(dir_fd)
        return deleted

    def _has_marker(self) -> bool:
        try:
            info = (self.root / MARKER).lstat()
        except OSError:
            return False
        return stat.S_ISREG(info.st_mode)
