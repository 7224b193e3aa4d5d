"""Hostile upload bodies: ones that stall, trickle, or carry thousands of parts.

Each must be answered with a 4xx, promptly, and leave no temp file behind. The server's body
timeouts are injected small through `create_app(body_timeouts=...)`, so nothing here waits
long; every wait is on a condition (an answer, a file appearing or going), never a fixed sleep.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rightsizer.uploader.upload import MAX_PARTS, BodyTimeouts
from rightsizer.uploader.verify import verify
from tests.uploader.helpers import (
    BOUNDARY,
    Live,
    RawResponse,
    eventually,
    multipart,
    post_raw,
    read_response,
    serve_in_thread,
    stored_files,
    temp_files,
)

ANSWER_WITHIN_S = 30  # a safety net for a broken server, far above the injected timeouts
FILE_PART_HEAD = (
    b"--" + BOUNDARY.encode() + b"\r\n"
    b'Content-Disposition: form-data; name="file"; filename="slow.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
)


@pytest.fixture
def make_live(settings_factory: Any, tmp_path: Path) -> Iterator[Any]:
    """Start the uploader (SQLite) with the given body timeouts; stopped after the test."""
    stack: list[Any] = []

    def start(timeouts: BodyTimeouts) -> Live:
        settings = settings_factory(
            db=f"sqlite:///{tmp_path / 'db' / 'u.db'}", data_dir=str(tmp_path / "data")
        )
        running = serve_in_thread(settings, body_timeouts=timeouts)
        stack.append(running)
        return running.__enter__()

    yield start
    for running in reversed(stack):
        running.__exit__(None, None, None)


def head(length: int) -> bytes:
    return (
        "POST /index.php?action=save HTTP/1.1\r\nHost: test\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def assert_timed_out(live: Live, response: RawResponse) -> None:
    assert response.status == 408, response
    assert "stopped arriving" in response.body.decode()
    assert response.headers["connection"] == "close"
    assert temp_files(live.settings.data_dir) == []
    assert stored_files(live.settings.data_dir) == []
    assert verify(live.settings).rows == 0


def test_a_body_that_stops_arriving_gets_408_and_its_temp_file_goes(make_live: Any) -> None:
    live = make_live(BodyTimeouts(idle_s=0.5))
    with socket.create_connection((live.host, live.port), timeout=ANSWER_WITHIN_S) as sock:
        # Headers, the file part's head and some of its bytes; then nothing, socket kept open.
        sock.sendall(head(1_000_000) + FILE_PART_HEAD + b"x" * 1000)
        assert eventually(lambda: temp_files(live.settings.data_dir) != [])
        response = read_response(sock)
        assert sock.recv(1) == b""  # and the connection is closed
    assert_timed_out(live, response)


def test_a_body_that_trickles_is_cut_off_by_the_total_deadline(make_live: Any) -> None:
    # Each byte comes well within the idle timeout; the whole takes longer than allowed.
    live = make_live(BodyTimeouts(idle_s=60, total_s=1.0))
    answered = threading.Event()
    with socket.create_connection((live.host, live.port), timeout=ANSWER_WITHIN_S) as sock:
        sock.sendall(head(1_000_000) + FILE_PART_HEAD)

        def trickle() -> None:
            while not answered.wait(0.05):
                try:
                    sock.sendall(b"y")
                except OSError:
                    return

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        try:
            response = read_response(sock)
        finally:
            answered.set()
            sender.join(ANSWER_WITHIN_S)
    assert_timed_out(live, response)


def test_a_slow_but_honest_upload_within_the_timeouts_works(make_live: Any) -> None:
    live = make_live(BodyTimeouts(idle_s=30, total_s=60))
    body = multipart((b"file", b"ok.bin", b"z" * 5000, None))
    with socket.create_connection((live.host, live.port), timeout=ANSWER_WITHIN_S) as sock:
        sock.sendall(head(len(body)))
        for start in range(0, len(body), 1000):
            sock.sendall(body[start : start + 1000])
        response = read_response(sock)
    assert response.status == 303
    assert verify(live.settings).consistent


def test_ten_thousand_parts_are_refused(make_live: Any) -> None:
    live = make_live(BodyTimeouts())
    parts = [(b"file", b"f%d.txt" % i, b"x", b"text/plain") for i in range(10_000)]
    response = post_raw(live, multipart(*parts))
    assert response.status == 400, response
    assert f"more than {MAX_PARTS} parts" in response.body.decode()
    assert stored_files(live.settings.data_dir) == []
    assert temp_files(live.settings.data_dir) == []


def test_parsing_stops_at_the_first_part_too_many(make_live: Any) -> None:
    # A body that declares 10 MB but sends only its first parts: the answer must come without
    # the rest, so the server cannot have gone on parsing (or waiting for) it.
    live = make_live(BodyTimeouts())
    one = multipart((b"note", None, b"x", None))[: -len(BOUNDARY) - 6]  # a part, no final --
    with socket.create_connection((live.host, live.port), timeout=ANSWER_WITHIN_S) as sock:
        sock.sendall(head(10_000_000) + one * (MAX_PARTS + 1) + b"--" + BOUNDARY.encode())
        response = read_response(sock)
    assert response.status == 400, response
    assert response.headers["connection"] == "close"


def test_the_form_own_fields_fit(make_live: Any) -> None:
    live = make_live(BodyTimeouts())
    extra = [(b"MAX_FILE_SIZE", None, b"1000000", None), (b"submit", None, b"Upload", None)]
    body = multipart((b"file", b"a.txt", b"content", b"text/plain"), *extra)
    assert post_raw(live, body).status == 303
