"""The same health check HAProxy runs, from the supervisor: GET the health path, expect 200."""

from __future__ import annotations

import http.client

from rightsizer.fleet.ports import LOOPBACK


def probe(port: int, path: str = "/healthz", timeout: float = 0.5, host: str = LOOPBACK) -> bool:
    """True when `GET path` on host:port answers 200 within `timeout` seconds."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
