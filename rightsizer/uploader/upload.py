"""Receiving an upload: multipart bytes streamed straight into a temp file of the data directory.

No spooling, no second copy: python-multipart's streaming parser hands each slice of the `file`
part to `os.write` and to SHA-256 as it arrives. Limits hold before memory or disk fill up: a
declared Content-Length over the limit is refused before the body is read, and a chunked body is
cut off as soon as it passes the limit. Any refusal is an `UploadRejected` with the status and
the visitor's message; the temp file is gone by then.

Writes happen on the event loop: a 64 KiB write to the page cache costs microseconds, less than
handing it to a thread would.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import AsyncIterator, Mapping
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
class ReceivedFile:
    """A complete upload in its temp file, not yet renamed into place."""

    temp_path: str
    original_name: str
    content_type: str
    size: int
    sha256: str


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
        except BadName as exc:
            raise UploadRejected(400, f"Upload refused: {exc}.") from None
        self.content_type = clean_content_type(self._headers.get(b"content-type"))
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
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.temp_path is not None:
            Path(self.temp_path).unlink(missing_ok=True)

    def finish(self) -> ReceivedFile:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if not self.ended:
            raise UploadRejected(400, "The multipart upload is broken or incomplete.")
        if self.temp_path is None:
            raise UploadRejected(400, 'No file was sent (the form needs a field named "file").')
        if self.size == 0:
            raise UploadRejected(400, "The file is empty; choose a file with content.")
        return ReceivedFile(
            self.temp_path, self.name, self.content_type, self.size, self.hasher.hexdigest()
        )


async def receive_file(
    content_type: str | None,
    chunks: AsyncIterator[bytes],
    datadir: DataDir,
    max_file_bytes: int,
) -> ReceivedFile:
    """Stream the body into a temp file; UploadRejected (temp file removed) when it is refused."""
    boundary = boundary_of(content_type)
    sink = _FileSink(datadir, max_file_bytes)
    limit = body_limit(max_file_bytes)
    received = 0
    try:
        parser = MultipartParser(boundary, sink.callbacks())
        async for chunk in chunks:
            received += len(chunk)
            if received > limit:
                raise too_large(max_file_bytes)
            parser.write(chunk)
        return sink.finish()
    except FormParserError:
        sink.discard()
        raise UploadRejected(400, "The multipart upload is broken or incomplete.") from None
    except BaseException:
        sink.discard()
        raise
