"""The uploader's HTML: the index page and the error page. Every client string is escaped.

Plain string building: the index page is rendered on every request of the load test, and a
template engine would cost more CPU than the page is worth.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from html import escape

from rightsizer.uploader.records import Listing

_HEAD = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
    "<title>{title}</title></head><body>\n"
)
_FORM = (
    '<form action="/index.php?action=save" method="post" enctype="multipart/form-data">\n'
    '<input type="file" name="file"> <button type="submit">Upload</button>\n</form>\n'
)


def index_page(message: str | None, newest: Sequence[Listing]) -> str:
    """The form, the session's last message, and the newest uploads with download links."""
    parts = [_HEAD.format(title="Uploader"), "<h1>Uploader</h1>\n"]
    if message:
        parts.append(f'<p class="message">{escape(message)}</p>\n')
    parts.append(_FORM)
    parts.append(f"<h2>Newest uploads ({len(newest)})</h2>\n<ul>\n")
    parts.extend(_item(item.id, item.original_name) for item in newest)
    parts.append("</ul>\n</body></html>\n")
    return "".join(parts)


@functools.lru_cache(maxsize=256)
def _item(file_id: int, name: str) -> str:
    # Most of the 20 newest rows are the same from one page view to the next.
    return f'<li><a href="/files/{file_id}">{escape(name)}</a></li>\n'


def error_page(status: int, message: str) -> str:
    """A short page saying what went wrong and how to go back; never a traceback."""
    return (
        _HEAD.format(title=f"Error {status}")
        + f'<h1>Error {status}</h1>\n<p class="error">{escape(message)}</p>\n'
        + '<p><a href="/index.php">Back to the uploader</a></p>\n</body></html>\n'
    )
