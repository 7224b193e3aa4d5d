"""The seed's load: a user opens the upload page, then uploads a file, then waits 1-5 s.

A plain locustfile: `locust -f rightsizer/scenarios/uploader.py --host http://127.0.0.1:8080`
runs it as is, and so does `rightsizer run` (the default scenario).

    GET  /index.php                   must answer 200
    POST /index.php?action=save       multipart field `file`; must answer 302 or 303 to /index.php

Request names are the URLs, as Locust gives them. The POST does not follow the redirect
(`allow_redirects=False`): its response time is the save alone, and the page the browser would
load next is already measured by the GET. Any other answer to the POST is a failure, so a
success counts exactly one stored upload (what `rightsizer verify` checks).

RIGHTSIZER_UPLOAD_KB sets the file size in KiB (default 100, the seed's file).
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

UPLOAD_KB_VARIABLE = "RIGHTSIZER_UPLOAD_KB"
DEFAULT_UPLOAD_KB = 100.0
REDIRECT_CODES = (302, 303)


def upload_bytes() -> int:
    """The upload size from RIGHTSIZER_UPLOAD_KB; a bad value stops the run with a clear message."""
    raw = os.environ.get(UPLOAD_KB_VARIABLE, "").strip()
    if not raw:
        return int(DEFAULT_UPLOAD_KB * 1024)
    try:
        kib = float(raw)
    except ValueError:
        raise SystemExit(f"{UPLOAD_KB_VARIABLE}: expected a number of KiB, got {raw!r}") from None
    if not 0 < kib <= 1024 * 1024:
        raise SystemExit(f"{UPLOAD_KB_VARIABLE}: must be above 0 and at most 1048576, got {raw}")
    return max(1, int(kib * 1024))


def multipart_body(content: bytes, filename: str) -> tuple[bytes, str]:
    """A multipart/form-data body with one `file` field, and its Content-Type header."""
    boundary = "rightsizer-" + uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + content + tail, f"multipart/form-data; boundary={boundary}"


class UploaderUser(FastHttpUser):
    """One person using the uploader: look at the page, upload a file, think for 1-5 s."""

    wait_time = between(1, 5)

    def on_start(self) -> None:
        # One body per user, built once: the generator's CPU goes into requests, not into bytes.
        content = os.urandom(upload_bytes())
        self.upload_body, self.upload_type = multipart_body(content, "upload.bin")

    @task
    def view_then_upload(self) -> None:
        self.client.get("/index.php")
        with self.client.post(
            "/index.php?action=save",
            data=self.upload_body,  # type: ignore[arg-type]  # bytes go out as they are
            headers={"Content-Type": self.upload_type},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            error = getattr(response, "error", None)
            location = urlsplit((response.headers or {}).get("Location") or "").path
            if response.status_code == 0 and error is not None:
                response.failure(error)
            elif response.status_code not in REDIRECT_CODES:
                response.failure(f"expected a 302/303 redirect, got {response.status_code}")
            elif not location.endswith("/index.php"):
                response.failure(f"redirect to {location!r}, expected /index.php")
            else:
                response.success()
