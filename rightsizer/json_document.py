"""Reading a JSON document rightsizer may not have written itself: one line, never a traceback.

`json.loads` raises RecursionError (not a ValueError) on a document nested a few thousand levels
deep, and UnicodeDecodeError on bytes that are not text; both would end a command with a
traceback. Here every way a document can be unreadable is one error naming it.

    document = loads(text)                                # json.JSONDecodeError for all of them
    document = parse_json_document(data, "fleet.json")    # UsageError (one line) for all of them
    document = read_json_document(path, "the fleet's state file")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rightsizer.errors import UsageError

MAX_DOCUMENT_BYTES = 1024 * 1024


def loads(text: str | bytes) -> Any:
    """`json.loads`, except that a document nested too deeply or bytes that are not UTF-8 raise
    `json.JSONDecodeError` like any other bad JSON (so one `except` handles them all)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", "", 0) from None
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(f"not UTF-8 text ({exc.reason})", "", 0) from None


def parse_json_document(data: str | bytes, where: str) -> Any:
    """The JSON value of `data`; UsageError naming `where` when it is not valid JSON."""
    try:
        return loads(data)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}); fix or delete it"
        ) from None


def read_json_document(path: Path, what: str, limit: int = MAX_DOCUMENT_BYTES) -> Any:
    """The JSON value in the file `path` (`what` says what it is, for errors); UsageError (one
    line) when it is missing, unreadable, larger than `limit` bytes or not valid JSON."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot read it ({exc.strerror})") from None
    if len(data) > limit:
        raise UsageError(f"{what} {path}: larger than {limit} bytes; not such a document")
    return parse_json_document(data, f"{what} {path}")
