"""Receiving an upload: multipart bytes streamed straight into a temp file of the data directory.

No spooling, no second copy: python-multipart's streaming parser hands each slice of the `file`
part to `os.write` and to SHA-256 as it arrives. Limits hold before memory or disk fill up: a
declared Content-Length over the limit is refused before the body is read, and a chunked body is
cut off as soon as it passes the limit. A body with more parts than the form sends is cut off at
the first part too many. A body that stops arriving (`BodyTimeouts`: no byte for `idle_s`, or
slower on the whole than the size limit allows) is answered 408. Any refusal is an
`UploadRejected` with the status and the visitor's message; the temp file is gone by then.

Writes happen on the event loop: a 64 KiB write to the page cache costs microseconds, less than
handing it to a thread would.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser

from rightsizer.uploader.filenames import BadName, check_client_name, clean_content_type
from rightsizer.uploader.files import DataDir

FIELD = b"file"
# Room for the multipart framing and small extra fields on top of the file itself.
FRAMING_ALLOWANCE = 64 * 1024
# The form (pages.py) sends one part, `file`; three more leave room for what other clients add
# (a submit button's name, PHP's MAX_FILE_SIZE). Parts beyond that are parsed for nothing.
MAX_PARTS = 4
# No byte of the body for this long: the client is gone or stalling on purpose. Longer than any
# pause of a working client on a slow link (TCP retransmits back off to a few seconds).
BODY_IDLE_S = 30.0
# The whole body may take GRACE + limit / MIN_RATE: 60 s plus 32 KiB/s (256 kbit/s, slower than
# any link one uploads from) for the largest body allowed; about 6 minutes for 10 MiB.
BODY_GRACE_S = 60.0
BODY_MIN_RATE = 32 * 1024
_PARAM = re.compile(rb';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_ESCAPED = re.compile(rb"\\(.)")


class UploadRejected(Exception):
    """The upload is refused: `status` and a message for the visitor; `close` ends keep-alive."""

    def __init__(self, status: int, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close


@dataclass(frozen=True)
class BodyTimeouts:
    """How long a body may take: `idle_s` between bytes, `total_s` in all (None: from the limit)."""

    idle_s: float = BODY_IDLE_S
    total_s: float | None = None

    def total_for(self, max_file_bytes: int) -> float:
        if self.total_s is not None:
            return self.total_s
        return BODY_GRACE_S + body_limit(max_file_bytes) / BODY_MIN_RATE


@dataclass(frozen=True)
class ReceivedFile:
    """A complete upload in its temp file, not yet renamed into place.

    `lock_fd` holds the file's flock (files.py): close it once the row is committed or the file
    removed, not before.
    """

    temp_path: str
    lock_fd: int
    original_name: str
    content_type: str
    size: int
    sha256: str

    def release(self) -> None:
        """Close the file's descriptor, and so its lock."""
        os.close(self.lock_fd)


def body_limit(max_file_bytes: int) -> int:
    return max_file_bytes + FRAMING_ALLOWANCE


def too_large(max_file_bytes: int) -> UploadRejected:
    mib = max_file_bytes / (1024 * 1024)
    return UploadRejected(413, f"The file is larger than the limit of {mib:g} MiB.", close=True)


def check_declared_length(headers: Mapping[str, str], max_file_bytes: int) -> None:
    """Refuse from the headers alone when the declared body cannot fit the limit."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > body_limit(max_file_bytes):
        raise too_large(max_file_bytes)


def header_params(value: bytes) -> dict[bytes, bytes]:
    """`a; b="x\\"y"; c=z` -> {b"b": b'x"y', b"c": b"z"} (keys lower-cased, quotes undone)."""
    params: dict[bytes, bytes] = {}
    for key, found in _PARAM.findall(value):
        raw = found.strip()
        if len(raw) >= 2 and raw[:1] == b'"' and raw[-1:] == b'"':
            raw = _ESCAPED.sub(rb"\1", raw[1:-1])
        params.setdefault(key.lower(), raw)
    return params


def boundary_of(content_type: str | None) -> bytes:
    """The multipart boundary, or 415/400 when the body is not multipart/form-data."""
    value = (content_type or "").encode("latin-1", "replace")
    if value.split(b";", 1)[0].strip().lower() != b"multipart/form-data":
        raise UploadRejected(415, "Send the file as multipart/form-data (a form upload).")
    boundary = header_params(value).get(b"boundary", b"")
    if not 1 <= len(boundary) <= 70:
        raise UploadRejected(400, "The multipart upload has no valid boundary.")
    return boundary


class _FileSink:
    """Parser callbacks: keeps the first `file` part, writing and hashing it as it comes."""

    def __init__(self, datadir: DataDir, max_bytes: int) -> None:
        self._datadir = datadir
        self._max_bytes = max_bytes
        self._headers: dict[bytes, bytes] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._writing = False
        self.fd: int | None = None
        self.temp_path: str | None = None
        self.hasher = hashlib.sha256()
        self.size = 0
        self.name = ""
        self.content_type = ""
        self.taken = False
        self.ended = False
        self.parts = 0

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise UploadRejected(
                400, f"The upload has more than {MAX_PARTS} parts; send the file alone.", close=True
            )
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._field).strip().lower()] = bytes(self._value).strip()
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        params = header_params(b";" + self._headers.get(b"content-disposition", b""))
        if self.taken or params.get(b"name") != FIELD or b"filename" not in params:
            return
        try:
            self.name = check_client_name(params[b"filename"])
            self.content_type = clean_content_type(self._headers.get(b"content-type"))
        except BadName as exc:
            raise UploadRejected(400, f"Upload refused: {exc}.") from None
        self.temp_path, self.fd = self._datadir.open_temp()
        self.taken = self._writing = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._writing or self.fd is None:
            return
        chunk = memoryview(data)[start:end]
        self.size += len(chunk)
        if self.size > self._max_bytes:
            raise too_large(self._max_bytes)
        self.hasher.update(chunk)
        while chunk:
            chunk = chunk[os.write(self.fd, chunk) :]

    def _part_end(self) -> None:
        self._writing = False

    def _end(self) -> None:
        self.ended = True

    def discard(self) -> None:
        """Remove the temp file, then close it (the lock is held until it is gone)."""
        if self.temp_path is not None:
            Path(self.temp_path).unlink(missing_ok=True)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def finish(self) -> ReceivedFile:
        """The complete file, its fd still open (the lock); UploadRejected when there is none."""
        if not self.ended:
            raise UploadRejected(400, "The multipart upload is broken or incomplete.")
        if self.temp_path is None or self.fd is None:
            raise UploadRejected(400, 'No file was sent (the form needs a field named "file").')
        if self.size == 0:
            raise UploadRejected(400, "The file is empty; choose a file with content.")
        return ReceivedFile(
            self.temp_path,
            self.fd,
            self.name,
            self.content_type,
            self.size,
            self.hasher.hexdigest(),
        )


def too_slow() -> UploadRejected:
    return UploadRejected(
        408, "The upload stopped arriving or came too slowly; please try again.", close=True
    )


async def receive_file(
    content_type: str | None,
    chunks: AsyncIterable[bytes],
    datadir: DataDir,
    max_file_bytes: int,
    timeouts: BodyTimeouts | None = None,
) -> ReceivedFile:
    """Stream the body into a temp file; UploadRejected (temp file removed) when it is refused.

    The returned file's fd is open; the caller calls `release()` when done with it.
    """
    boundary = boundary_of(content_type)
    timeouts = timeouts or BodyTimeouts()
    sink = _FileSink(datadir, max_file_bytes)
    limit = body_limit(max_file_bytes)
    received = 0
    watchdog = _Watchdog(timeouts, timeouts.total_for(max_file_bytes))
    try:
        parser = MultipartParser(boundary, sink.callbacks())
        async for chunk in chunks:
            watchdog.progressed()
            received += len(chunk)
            if received > limit:
                raise too_large(max_file_bytes)
            parser.write(chunk)
        return sink.finish()
    except asyncio.CancelledError:
        sink.discard()
        if watchdog.fired():
            raise too_slow() from None
        raise
    except FormParserError:
        sink.discard()
        raise UploadRejected(400, "The multipart upload is broken or incomplete.") from None
    except BaseException:
        sink.discard()
        raise
    finally:
        watchdog.close()


class _Watchdog:
    """Cancels the receiving task when the body stalls: one timer per body, re-armed lazily.

    Cheaper than a timeout around every chunk (measured ~15 us each): a chunk only notes the
    time. The timer fires while the task waits for a chunk, since that is the only `await` of
    `receive_file`, and the watchdog is closed before `receive_file` returns.
    """

    def __init__(self, timeouts: BodyTimeouts, total_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._idle_s = timeouts.idle_s
        self._last = self._loop.time()
        self._deadline = self._last + total_s
        self._fired = False
        self._handle = self._loop.call_at(self._due(), self._check)

    def progressed(self) -> None:
        self._last = self._loop.time()

    def fired(self) -> bool:
        """True when the watchdog cancelled the task (and takes that cancellation back)."""
        if self._fired and self._task is not None:
            self._task.uncancel()
        return self._fired

    def close(self) -> None:
        self._handle.cancel()

    def _due(self) -> float:
        return min(self._deadline, self._last + self._idle_s)

    def _check(self) -> None:
        due = self._due()
        if self._loop.time() < due:
            self._handle = self._loop.call_at(due, self._check)
        elif self._task is not None:
            self._fired = True
            self._task.cancel()
