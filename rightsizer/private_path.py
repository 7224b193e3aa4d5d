"""The rule for every file and directory rightsizer acts on: only its user may have written it.

The process ledger and a fleet's state file name processes to signal; the state directory holds
the lock, the logs and the uploader's data; the socket directory holds HAProxy's admin socket.
Whoever can write one of those can make rightsizer, perhaps running as root, end or touch what
they choose. So, as ssh does with its keys, rightsizer refuses (RefusedError, one line, nothing
done) a path that

- is a symbolic link (looked at with lstat, opened with O_NOFOLLOW),
- is owned by another user than the one rightsizer runs as (root's own are accepted: root can
  write anything anyway), or
- can be written by its group or by others (a group of the user's own, named after them and
  with no other member, may write: umask 002 makes such directories, and ssh on Debian allows
  them too).

    private_directory(state_dir / "processes")  # made 0700 when missing, then checked
    check_private(path)                          # the check alone, for a path that exists
    fd = open_private(path, os.O_RDWR | os.O_CREAT)  # a checked regular file (and its dir)
    data = read_private(path, limit=1 << 20)         # its bytes, at most limit + 1 of them
"""

from __future__ import annotations

import contextlib
import errno
import functools
import grp
import os
import pwd
import stat
from pathlib import Path

from rightsizer.errors import RefusedError

ROOT_UID = 0
_WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH


def _problem(status: os.stat_result, euid: int) -> str | None:
    """What is wrong with a path of this status, or None when only `euid` can write it."""
    if stat.S_ISLNK(status.st_mode):
        return "is a symbolic link"
    if status.st_uid not in (euid, ROOT_UID):
        return f"is owned by uid {status.st_uid}, not by uid {euid} that runs rightsizer"
    writable = status.st_mode & _WRITABLE_BY_OTHERS
    if writable == stat.S_IWGRP and _own_group(status.st_gid, euid):
        writable = 0  # umask 002 with a group of the user's own (Debian's ssh allows it too)
    if writable:
        who = "its group and others" if status.st_mode & stat.S_IWOTH else "its group"
        return f"can be written by {who} (mode {stat.S_IMODE(status.st_mode):04o})"
    return None


@functools.cache  # the user database does not change under us; a full scan is slow on LDAP
def _own_group(gid: int, euid: int) -> bool:
    """True when `gid` is the user's private group: named after the user, their primary group,
    and nobody else's, as a member or as a primary group."""
    try:
        user, group = pwd.getpwuid(euid), grp.getgrgid(gid)
    except KeyError:
        return False
    return (
        group.gr_name == user.pw_name
        and user.pw_gid == gid
        and set(group.gr_mem) <= {user.pw_name}
        and all(other.pw_uid == euid for other in pwd.getpwall() if other.pw_gid == gid)
    )


def refusal(path: Path, problem: str) -> RefusedError:
    """The one-line refusal for `path`, saying what to do."""
    return RefusedError(
        f"{path} {problem}; rightsizer acts only on files that only you can write: "
        "remove it (or give it to yourself with chown and chmod go-w) and try again"
    )


def check_status(path: Path, status: os.stat_result) -> None:
    """RefusedError unless `status` (of `path`) is that of a private path."""
    problem = _problem(status, os.geteuid())
    if problem is not None:
        raise refusal(path, problem)


def check_private(path: Path) -> os.stat_result:
    """The lstat of `path` once it is known private; RefusedError if not (FileNotFoundError
    when it does not exist)."""
    status = os.lstat(path)
    check_status(path, status)
    return status


def private_directory(path: Path) -> Path:
    """`path` as a private directory: created with mode 0700 (and its missing parents) when it
    does not exist, then checked like any other; RefusedError when it is not one."""
    with contextlib.suppress(FileExistsError):  # a file or a link: the check says which
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = check_private(path)
    if not stat.S_ISDIR(status.st_mode):
        raise refusal(path, "is not a directory")
    return path


def open_private(path: Path, flags: int = os.O_RDONLY, mode: int = 0o600) -> int:
    """A descriptor of the regular file `path` (created with `mode` when `flags` has O_CREAT),
    after checking it and its directory; RefusedError when either is not private (the file is
    then closed again), FileNotFoundError when there is no such file."""
    check_private(path.parent)
    try:
        # O_NONBLOCK: a FIFO planted in the file's place must not hang the open.
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise refusal(path, "is a symbolic link") from None
        raise
    try:
        status = os.fstat(fd)
        check_status(path, status)
        if not stat.S_ISREG(status.st_mode):
            raise refusal(path, "is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_private(path: Path, limit: int) -> bytes:
    """Up to `limit` + 1 bytes of the private regular file `path` (a caller that gets more than
    `limit` knows the file is too large); RefusedError and FileNotFoundError as `open_private`."""
    fd = open_private(path)
    try:
        chunks: list[bytes] = []
        size = 0
        while size <= limit and (chunk := os.read(fd, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
