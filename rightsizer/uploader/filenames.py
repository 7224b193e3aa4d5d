"""Names that clients send: checked on the way in, made harmless on the way out.

The client's name is only ever data (a column, a download name); files are stored under names
the server makes. Still, a name that carries a path, a control character or an invisible
direction override is a sign of an attack or a broken client, so it is refused with a message
instead of being silently rewritten.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_BYTES = 255
# The longest `type/subtype` kept, and the width of its column (schema.py): the longest
# registered media types are under 100 characters; RFC 6838 lets each half reach 127.
MAX_CONTENT_TYPE_CHARS = 127
_DRIVE = re.compile(r"[A-Za-z]:")
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
_FALLBACK_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\%;]')
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# Types a browser may show inline without running anything; everything else is served opaque.
INLINE_SAFE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "text/plain"})


class BadName(ValueError):
    """The client's file name or type is unacceptable; the message says why, for the visitor."""


def check_client_name(raw: bytes) -> str:
    """The name as text, or BadName when it is empty, too long, a path or has control chars."""
    if not raw:
        raise BadName("no file was chosen (the file name is empty)")
    if len(raw) > MAX_NAME_BYTES:
        raise BadName(f"the file name is longer than {MAX_NAME_BYTES} bytes; rename the file")
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadName("the file name is not valid UTF-8") from None
    if _has_invisible(name):
        raise BadName("the file name contains control or invisible formatting characters")
    if "/" in name or "\\" in name or _DRIVE.match(name) or name.strip() in ("", ".", ".."):
        raise BadName("the file name must be a plain name, not a path")
    return name


def _has_invisible(name: str) -> bool:
    """Control (Cc) or formatting (Cf: direction overrides, zero-width) characters."""
    if name.isascii():  # the common case; no Cf character is ASCII
        return _ASCII_CONTROL.search(name) is not None
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name)


def clean_content_type(raw: bytes | None) -> str:
    """The part's media type when it is a plain `type/subtype`, else application/octet-stream.

    BadName when the media type is longer than MAX_CONTENT_TYPE_CHARS: no column could hold it.
    """
    if not raw:
        return DEFAULT_CONTENT_TYPE
    value = raw.split(b";", 1)[0].strip().decode("latin-1").lower()
    if len(value) > MAX_CONTENT_TYPE_CHARS:
        raise BadName(
            f"the file's Content-Type is longer than {MAX_CONTENT_TYPE_CHARS} characters; "
            "send a registered media type or none"
        )
    return value if _CONTENT_TYPE.fullmatch(value) else DEFAULT_CONTENT_TYPE


def served_content_type(stored: str) -> str:
    """What a download is labelled: the stored type when harmless, else octet-stream."""
    return stored if stored in INLINE_SAFE_TYPES else DEFAULT_CONTENT_TYPE


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the exact name in RFC 5987 form.

    Example: `content_disposition("résumé.pdf")` ->
    `attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`
    """
    visible = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    visible = visible.replace("/", "_").replace("\\", "_").strip() or "download"
    fallback = _FALLBACK_UNSAFE.sub("_", visible)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(visible, safe='')}"
