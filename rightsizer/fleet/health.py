"""The same health check HAProxy runs, from the supervisor: GET the health path, expect 200.

The status decides; of the body, at most `MAX_BODY` bytes and one read are taken (so a short
body is consumed as usual): a task that streams a large, endless or dripping body must not hold
the supervisor's thread or memory.
"""

from __future__ import annotations

import http.client

from rightsizer.fleet.ports import LOOPBACK

MAX_BODY = 4096


def probe(port: int, path: str = "/healthz", timeout: float = 0.5, host: str = LOOPBACK) -> bool:
    """True when `GET path` on host:port answers 200 within `timeout` seconds."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        response.read1(MAX_BODY)  # the rest is dropped with the connection
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
