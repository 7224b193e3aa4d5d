"""Hostile and broken uploads: each gets a 4xx HTML page, never a 500, and leaves nothing behind.

The live server's limit is 0.25 MiB (262144 bytes) for these tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rightsizer.uploader import records
from rightsizer.uploader.database import Database
from rightsizer.uploader.filenames import MAX_CONTENT_TYPE_CHARS
from rightsizer.uploader.upload import UploadRejected, boundary_of, header_params
from rightsizer.uploader.verify import verify
from tests.uploader.helpers import (
    BOUNDARY,
    Live,
    RawResponse,
    exchange,
    file_body,
    multipart,
    post_chunked,
    post_raw,
    stored_files,
    temp_files,
)

LIMIT = 262144


def assert_refused(live: Live, response: RawResponse, status: int, words: str) -> None:
    assert response.status == status, response
    assert response.headers["content-type"].startswith("text/html")
    text = response.body.decode()
    assert words in text
    assert "Traceback" not in text
    # Nothing stored, nothing half-written, no row.
    assert stored_files(live.settings.data_dir) == []
    assert temp_files(live.settings.data_dir) == []
    assert verify(live.settings).rows == 0


def test_no_file_field(live: Live) -> None:
    body = multipart((b"comment", None, b"hello", None))
    assert_refused(live, post_raw(live, body), 400, "No file was sent")


def test_a_text_field_named_file_is_not_a_file(live: Live) -> None:
    body = multipart((b"file", None, b"just text", None))
    assert_refused(live, post_raw(live, body), 400, "No file was sent")


def test_empty_file(live: Live) -> None:
    assert_refused(live, post_raw(live, file_body(b"")), 400, "The file is empty")


def test_no_file_chosen(live: Live) -> None:
    # What a browser sends when the form is submitted without choosing a file.
    body = multipart((b"file", b"", b"", b"application/octet-stream"))
    assert_refused(live, post_raw(live, body), 400, "no file was chosen")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(file_body(b"abc")[:-30], id="truncated"),
        pytest.param(b"this is not multipart at all", id="garbage"),
        pytest.param(b"", id="empty-body"),
        pytest.param(b"--" + BOUNDARY.encode() + b"\r\nno headers end", id="unterminated-headers"),
        pytest.param(
            b"--" + BOUNDARY.encode() + b"\r\n" + b"X-Long: " + b"a" * 9000 + b"\r\n\r\nx",
            id="huge-part-header",
        ),
    ],
)
def test_broken_multipart(live: Live, body: bytes) -> None:
    assert_refused(live, post_raw(live, body), 400, "broken or incomplete")


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 415),
        ("text/plain", 415),
        ("multipart/form-data", 400),  # no boundary
        ("multipart/form-data; boundary=" + "b" * 71, 400),
    ],
)
def test_not_a_form_upload(live: Live, content_type: str, status: int) -> None:
    response = post_raw(live, file_body(b"abc"), content_type=content_type)
    assert_refused(live, response, status, "")


def test_declared_length_over_the_limit_is_refused_before_the_body(live: Live) -> None:
    # Only the headers are sent: the answer must come without the server waiting for 11 GB.
    head = (
        "POST /index.php?action=save HTTP/1.1\r\nHost: test\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        "Content-Length: 11000000000\r\nExpect: 100-continue\r\n\r\n"
    )
    response = exchange(live, head.encode(), timeout=5)
    assert_refused(live, response, 413, "larger than the limit of 0.25 MiB")
    assert response.headers["connection"] == "close"


def test_file_over_the_limit_inside_an_honest_length(live: Live) -> None:
    # Within the framing allowance, so it is only caught while streaming the file part.
    body = file_body(b"x" * (LIMIT + 1000))
    assert_refused(live, post_raw(live, body), 413, "larger than the limit")


def test_file_exactly_at_the_limit_is_accepted(live: Live) -> None:
    assert post_raw(live, file_body(b"x" * LIMIT)).status == 303
    assert len(stored_files(live.settings.data_dir)) == 1


def test_chunked_body_is_cut_off_once_past_the_limit(live: Live) -> None:
    sent: list[int] = []

    def endless() -> Iterator[bytes]:
        yield (b"--" + BOUNDARY.encode() + b"\r\n")
        yield b'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
        for _ in range(2000):  # 128 MB if the server kept reading
            sent.append(1)
            yield b"y" * 65536

    response = post_chunked(live, endless())
    assert_refused(live, response, 413, "larger than the limit")
    assert len(sent) < 200  # it stopped reading long before the end


def test_chunked_upload_within_the_limit_works(live: Live) -> None:
    body = file_body(b"z" * 100_000)
    response = post_chunked(live, iter([body[i : i + 7000] for i in range(0, len(body), 7000)]))
    assert response.status == 303
    assert verify(live.settings).rows == 1


@pytest.mark.parametrize(
    ("filename", "words"),
    [
        pytest.param(b"../../etc/passwd", "not a path", id="dotdot"),
        pytest.param(b"..", "not a path", id="dotdot-alone"),
        pytest.param(b"/etc/passwd", "not a path", id="absolute"),
        pytest.param(b"C:\\\\Windows\\\\win.ini", "not a path", id="windows-absolute"),
        pytest.param(b"c:evil.txt", "not a path", id="drive-relative"),
        pytest.param(b"sub/dir.jpg", "not a path", id="slash"),
        pytest.param(b"evil\x00.jpg", "control", id="nul"),
        pytest.param(b"bell\x07.jpg", "control", id="control"),
        pytest.param(b"del\x7f.jpg", "control", id="del"),
        pytest.param("gpj.\u202eexe".encode(), "control", id="rtl-override"),
        pytest.param(b"a" * 256, "longer than 255 bytes", id="too-long"),
        pytest.param(b"\xff\xfe.jpg", "not valid UTF-8", id="not-utf8"),
    ],
)
def test_hostile_file_names(live: Live, filename: bytes, words: str) -> None:
    assert_refused(live, post_raw(live, file_body(b"payload", filename)), 400, words)


def test_a_long_but_legal_name_is_kept_exactly(live: Live) -> None:
    accepted = "é" * 125 + ".jpg"  # 254 bytes of UTF-8
    too_long = "é" * 126 + ".jpg"  # 256 bytes
    assert post_raw(live, file_body(b"ok", accepted.encode())).status == 303
    assert post_raw(live, file_body(b"ok", too_long.encode())).status == 400
    page = exchange(live, b"GET /index.php HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert accepted in page.body.decode()


def test_refused_connections_are_closed_not_drained(live: Live) -> None:
    response = post_raw(live, file_body(b"x", b"../x"))
    assert response.status == 400
    assert response.headers["connection"] == "close"


def test_the_service_still_works_after_hostile_input(live: Live) -> None:
    post_raw(live, b"garbage")
    post_raw(live, file_body(b"", b""))
    assert post_raw(live, file_body(b"fine")).status == 303
    assert verify(live.settings).consistent


def test_header_params_undo_quoting() -> None:
    value = b'form-data; name="file"; filename="a\\"b;c.jpg"; x=plain'
    assert header_params(b";" + value) == {
        b"name": b"file",
        b"filename": b'a"b;c.jpg',
        b"x": b"plain",
    }


def test_boundary_of_refuses_non_multipart() -> None:
    assert boundary_of('multipart/form-data; boundary="q b"') == b"q b"
    with pytest.raises(UploadRejected) as refused:
        boundary_of(None)
    assert refused.value.status == 415


def test_content_type_up_to_the_column_width_is_stored_and_longer_is_refused(live: Live) -> None:
    # 127 fits the column (MAX_CONTENT_TYPE_CHARS); on MariaDB, 101..127 used to be a DataError
    # and a 500 (the column was VARCHAR(100)); 128 is refused with a message, before any write.
    longest = b"a" * 63 + b"/" + b"b" * 63
    assert len(longest) == MAX_CONTENT_TYPE_CHARS == 127
    stored = post_raw(live, multipart((b"file", b"long.bin", b"data", longest)))
    assert stored.status == 303, stored
    [row] = every_row(live)
    assert row.content_type == longest.decode()
    too_long = b"a" + longest
    refused = post_raw(live, multipart((b"file", b"longer.bin", b"data", too_long)))
    assert refused.status == 400, refused
    assert "longer than 127 characters" in refused.body.decode()
    assert len(every_row(live)) == 1
    assert temp_files(live.settings.data_dir) == []
    assert len(stored_files(live.settings.data_dir)) == 1


def every_row(live: Live) -> list[records.StoredFile]:
    db = Database(live.settings.db)
    try:
        return db.run(records.every)
    finally:
        db.dispose()
