"""The data directory: where uploads are stored, and how rightsizer knows it is its own.

    <data_dir>/
        .rightsizer-data                     marker, written at first use
        3f2a...e1.upload                     a stored file: 32 hex digits, server-made
        .incoming-9b1c...07.part             an upload still arriving (renamed when complete)

Only names of these two patterns are ever created or deleted here. A directory that has files
but no marker belongs to someone else, and rightsizer refuses to use or clean it. Several
processes may initialise the same directory at once: the marker is created exclusively and a
process that loses the race simply finds it.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from rightsizer.errors import RefusedError

MARKER = ".rightsizer-data"
MARKER_TEXT = "This directory holds rightsizer uploads; `rightsizer reset` may empty it.\n"
STORED_NAME = re.compile(r"[0-9a-f]{32}\.upload")
TEMP_NAME = re.compile(r"\.incoming-[0-9a-f]{32}\.part")


class DirState(Enum):
    """What a data directory is, as far as rightsizer may touch it."""

    MISSING = "missing"  # will be created
    EMPTY = "empty"  # will be marked
    OURS = "ours"  # has the marker
    FOREIGN = "foreign"  # has entries and no marker: never touched


@dataclass(frozen=True)
class Entry:
    """A regular file in the data directory whose name rightsizer recognises."""

    name: str
    size: int
    is_temp: bool


def new_stored_name() -> str:
    return f"{secrets.token_hex(16)}.upload"


def is_stored_name(name: str) -> bool:
    return STORED_NAME.fullmatch(name) is not None


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
        """Create and mark the directory if new or empty; RefusedError if it is someone else's."""
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
        """A new, exclusively created temp file for an upload: (path, writable fd)."""
        path = f"{self._prefix}.incoming-{secrets.token_hex(16)}.part"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
        return path, os.open(path, flags, 0o644)

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
        """Recognised regular files (stored and temp); symlinks and everything else are skipped."""
        try:
            scan = os.scandir(self.root)
        except FileNotFoundError:
            return
        with scan:
            for item in scan:
                is_temp = TEMP_NAME.fullmatch(item.name) is not None
                if not (is_temp or is_stored_name(item.name)):
                    continue
                try:
                    info = item.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    yield Entry(item.name, info.st_size, is_temp)

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
                recognised = is_stored_name(name) or TEMP_NAME.fullmatch(name) is not None
                if not recognised or name in keep:
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
