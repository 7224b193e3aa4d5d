"""The uploader's routes against a real server, on SQLite and on MariaDB."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from rightsizer.errors import RefusedError, UnavailableError
from rightsizer.uploader.app import create_app
from rightsizer.uploader.sessions import COOKIE
from rightsizer.uploader.verify import verify
from tests.uploader.helpers import Live, file_body, post_raw, stored_files, temp_files


def upload(client: httpx.Client, content: bytes, name: str = "test.jpg") -> httpx.Response:
    files = {"file": (name, content, "image/jpeg")}
    return client.post("/index.php?action=save", files=files, follow_redirects=False)


def test_index_has_the_form_and_sets_a_session_cookie(live: Live) -> None:
    with httpx.Client(base_url=live.url) as client:
        first = client.get("/index.php")
        again = client.get("/")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/html")
    assert '<input type="file" name="file">' in first.text
    assert 'action="/index.php?action=save"' in first.text
    assert len(first.cookies[COOKIE]) == 32
    # The browser sends the cookie back, so the second page keeps the session (no new cookie).
    assert again.status_code == 200
    assert "set-cookie" not in again.headers


def test_upload_redirects_stores_the_file_and_shows_the_message_once(live: Live) -> None:
    content = os.urandom(5000)
    with httpx.Client(base_url=live.url) as client:
        client.get("/index.php")
        saved = upload(client, content, "holiday.jpg")
        shown = client.get("/index.php")
        later = client.get("/index.php")
    assert saved.status_code == 303
    assert saved.headers["location"] == "/index.php"
    assert "Uploaded holiday.jpg (5000 bytes)." in shown.text
    assert "Uploaded holiday.jpg" not in later.text  # a flash message, like PHP's
    assert 'href="/files/1">holiday.jpg</a>' in later.text or "holiday.jpg</a>" in later.text
    [name] = stored_files(live.settings.data_dir)
    assert (live.settings.data_dir / name).read_bytes() == content
    assert temp_files(live.settings.data_dir) == []


def test_message_belongs_to_the_session_that_uploaded(live: Live) -> None:
    with httpx.Client(base_url=live.url) as alice, httpx.Client(base_url=live.url) as bob:
        alice.get("/index.php")
        bob.get("/index.php")
        upload(alice, b"alice's bytes", "alice.txt")
        bob_page = bob.get("/index.php")
        alice_page = alice.get("/index.php")
    assert "Uploaded alice.txt" in alice_page.text
    assert "Uploaded alice.txt" not in bob_page.text
    assert "alice.txt</a>" in bob_page.text  # the list is everyone's


def test_unknown_or_forged_session_ids_get_a_fresh_session(live: Live) -> None:
    for forged in ("0" * 32, "../../etc/passwd", "x" * 500):
        with httpx.Client(base_url=live.url, cookies={COOKIE: forged}) as client:
            page = client.get("/index.php")
        assert page.status_code == 200
        assert page.cookies[COOKIE] != forged


def test_the_index_lists_the_twenty_newest(live: Live) -> None:
    with httpx.Client(base_url=live.url) as client:
        for i in range(23):
            assert upload(client, b"x" * (i + 1), f"n{i:02d}.txt").status_code == 303
        page = client.get("/index.php").text
    assert "n22.txt" in page and "n03.txt" in page
    assert "n02.txt" not in page and "n00.txt" not in page
    assert page.index("n22.txt") < page.index("n03.txt")


def test_download_returns_the_bytes_with_a_safe_content_disposition(live: Live) -> None:
    content = b"<script>alert(1)</script>"
    with httpx.Client(base_url=live.url) as client:
        upload(client, content, "résumé.pdf")
        # Quotes, semicolons and a fake parameter: legal in a name, hostile in a header.
        hostile = file_body(content, rb"x\"; filename=evil.exe; a=\".txt")
        assert post_raw(live, hostile).status == 303
        first, second = client.get("/files/1"), client.get("/files/2")
        missing = client.get("/files/999")
        huge = client.get(f"/files/{2**70}")
    assert first.status_code == 200
    assert first.content == content
    disposition = first.headers["content-disposition"]
    assert disposition == (
        "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
    )
    assert first.headers["x-content-type-options"] == "nosniff"
    tricky = second.headers["content-disposition"]
    assert tricky.count('"') == 2  # the quoted fallback cannot be closed early
    assert 'filename="x__ filename=evil.exe_ a=_.txt"' in tricky
    assert "filename*=UTF-8''x%22%3B%20filename%3Devil.exe%3B%20a%3D%22.txt" in tricky
    assert missing.status_code == 404 and "no such file" in missing.text
    assert huge.status_code == 404


def test_download_never_serves_a_type_that_could_run(live: Live) -> None:
    with httpx.Client(base_url=live.url) as client:
        files = {"file": ("page.html", b"<h1>hi</h1>", "text/html")}
        client.post("/index.php?action=save", files=files)
        got = client.get("/files/1")
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-security-policy"] == "sandbox"


def test_unknown_routes_and_methods_get_html_4xx(live: Live) -> None:
    with httpx.Client(base_url=live.url) as client:
        unknown = client.get("/admin.php")
        wrong_method = client.delete("/index.php")
        bad_action = client.post("/index.php?action=drop", content=b"")
        not_an_id = client.get("/files/abc")
    for response in (unknown, wrong_method, bad_action, not_an_id):
        assert 400 <= response.status_code < 500
        assert response.headers["content-type"].startswith("text/html")
        assert "Traceback" not in response.text
    assert unknown.status_code == 404
    assert wrong_method.status_code == 405


def test_healthz_is_200_when_db_and_data_dir_are_fine(live: Live) -> None:
    response = httpx.get(live.url + "/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"


def test_healthz_is_503_when_the_data_dir_loses_its_marker(live: Live) -> None:
    marker = live.settings.data_dir / ".rightsizer-data"
    marker.rename(marker.with_name("moved-away"))
    try:
        assert httpx.get(live.url + "/healthz").status_code == 503
    finally:
        marker.with_name("moved-away").rename(marker)
    assert httpx.get(live.url + "/healthz").status_code == 200


async def _upload_many(url: str, count: int) -> list[int]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def one(i: int) -> int:
            files = {"file": (f"f{i}.bin", os.urandom(2000 + i), "application/octet-stream")}
            response = await client.post("/index.php?action=save", files=files)
            return response.status_code

        return await asyncio.gather(*(one(i) for i in range(count)))


@pytest.mark.slow
def test_200_concurrent_uploads_end_with_rows_equal_files_equal_successes(live: Live) -> None:
    statuses = asyncio.run(_upload_many(live.url, 200))
    successes = statuses.count(303)
    report = verify(live.settings)
    assert successes == 200, statuses
    assert report.rows == report.files == successes
    assert report.consistent
    assert temp_files(live.settings.data_dir) == []


def test_the_stored_sha256_is_the_content_hash(live: Live) -> None:
    content = os.urandom(70_000)
    with httpx.Client(base_url=live.url) as client:
        upload(client, content)
    report = verify(live.settings)
    assert report.consistent and report.rows == 1
    [name] = stored_files(live.settings.data_dir)
    assert hashlib.sha256((live.settings.data_dir / name).read_bytes()).hexdigest() == (
        hashlib.sha256(content).hexdigest()
    )


def test_create_app_refuses_a_foreign_data_dir(make_settings: Any, sqlite_url: str) -> None:
    settings = make_settings(sqlite_url)
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "someone-elses.txt").write_text("keep me")
    with pytest.raises(RefusedError, match=r"no \.rightsizer-data marker"):
        create_app(settings)
    assert (settings.data_dir / "someone-elses.txt").read_text() == "keep me"


def test_create_app_names_an_unreachable_database(make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings("mysql+pymysql://root@127.0.0.1:1/nowhere")
    with pytest.raises(UnavailableError, match="does not answer"):
        create_app(settings)
