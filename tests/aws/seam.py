"""An HTTP proxy in front of the emulator, at the protocol seam: it forwards every AWS call,
counts them by operation, and answers chosen calls itself (throttling, or a recorded AWS
response for an operation the emulator does not implement).

    with AwsProxy(moto_url) as proxy:
        proxy.throttle("GetMetricData", times=1)
        ... AwsConnection.build(REGION, proxy.url) ...
        assert proxy.calls["GetMetricData"] == 2
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

# Hop-by-hop headers a proxy must not forward.
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def cbor_text(text: str) -> bytes:
    """A CBOR text string (major type 3), for short strings."""
    data = text.encode()
    assert len(data) < 256
    return (bytes([0x60 + len(data)]) if len(data) < 24 else bytes([0x78, len(data)])) + data


def cbor_error(code: str, message: str) -> bytes:
    """The body of an rpc-v2-cbor error answer: {"__type": code, "message": message}."""
    return (
        b"\xa2" + cbor_text("__type") + cbor_text(code) + cbor_text("message") + cbor_text(message)
    )


def protocol_of(path: str, headers: Any) -> str:
    """Which of AWS's protocols a request speaks: "cbor", "json" or "query" (form + XML)."""
    if "/operation/" in path:
        return "cbor"
    return "json" if headers.get("X-Amz-Target") else "query"


def aws_error(protocol: str, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """An AWS error answer (status 400) in `protocol`."""
    if protocol == "cbor":
        cbor = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
        return 400, cbor, cbor_error(code, message)
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        return 400, {"Content-Type": "application/x-amz-json-1.0"}, body
    xml = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    )
    return 400, {"Content-Type": "text/xml"}, xml.encode()


def query_xml(operation: str, result: dict[str, Any]) -> bytes:
    """A query-protocol (XML) answer of `operation` holding `result`: lists as <member>s,
    numbers under a "Timestamp(s)" key as ISO 8601 UTC."""

    def add(parent: ElementTree.Element, key: str, value: Any, stamp: bool = False) -> None:
        node = ElementTree.SubElement(parent, key)
        stamp = stamp or key in ("Timestamp", "Timestamps")
        if isinstance(value, dict):
            for k, v in value.items():
                add(node, k, v)
        elif isinstance(value, list):
            for item in value:
                add(node, "member", item, stamp)
        elif stamp and isinstance(value, int | float):
            node.text = datetime.fromtimestamp(value, UTC).isoformat(timespec="milliseconds")
        else:
            node.text = str(value)

    root = ElementTree.Element(
        f"{operation}Response", xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"
    )
    add(root, f"{operation}Result", result)
    return ElementTree.tostring(root)


def operation_of(path: str, headers: Any, body: bytes) -> str:
    """The AWS operation a request calls, whichever protocol the client chose."""
    if "/operation/" in path:  # smithy-rpc-v2-cbor: /service/NAME/operation/OP
        return path.rsplit("/", 1)[-1]
    target = headers.get("X-Amz-Target")
    if target:  # JSON protocol: Prefix.Operation
        return str(target).rsplit(".", 1)[-1]
    action = parse_qs(body.decode(errors="replace")).get("Action")
    return action[0] if action else "?"


class AwsProxy:
    """A loopback proxy to `upstream`; `url` is where clients point their endpoint."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.calls: Counter[str] = Counter()
        self._throttles: Counter[str] = Counter()
        self._canned: dict[str, list[dict[str, Any]]] = {}
        self.bodies: dict[str, list[bytes]] = {}
        self._errors: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, headers, answer = proxy._answer(self.command, self.path, self.headers, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def throttle(self, operation: str, times: int = 1) -> None:
        """Answer the next `times` calls of `operation` with a Throttling error."""
        self._throttles[operation] += times

    def answer(self, operation: str, result: dict[str, Any]) -> None:
        """Answer every call of `operation` with `result` (its output, as the API reference
        documents it), written in the protocol the client speaks (JSON or query XML)."""
        self._canned[operation] = [result]

    def pages(self, operation: str, results: list[dict[str, Any]]) -> None:
        """Answer the next calls of `operation` with `results` in turn (the last one again
        after), as a paginated API does."""
        self._canned[operation] = list(results)

    def fail(self, operation: str, code: str, message: str) -> None:
        """Answer every call of `operation` with AWS error `code` (e.g. AccessDenied)."""
        self._errors[operation] = (code, message)

    def _answer(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        operation = operation_of(path, headers, body)
        with self._lock:
            self.calls[operation] += 1
            self.bodies.setdefault(operation, []).append(body)
            throttled = self._throttles[operation] > 0
            if throttled:
                self._throttles[operation] -= 1
        protocol = protocol_of(path, headers)
        if throttled:
            return aws_error(protocol, "Throttling", "Rate exceeded")
        if operation in self._errors:
            return aws_error(protocol, *self._errors[operation])
        if operation in self._canned:
            with self._lock:
                queue = self._canned[operation]
                result = queue.pop(0) if len(queue) > 1 else queue[0]
            if protocol == "json":
                body = json.dumps(result).encode()
                return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
            assert protocol == "query", f"no canned {protocol} answers"
            return 200, {"Content-Type": "text/xml"}, query_xml(operation, result)
        connection = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30
        )
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in _HOP}
            connection.request(method, path, body=body, headers=forwarded)
            reply = connection.getresponse()
            data = reply.read()
            kept = {k: v for k, v in reply.getheaders() if k.lower() not in _HOP}
            return reply.status, kept, data
        finally:
            connection.close()

    def __enter__(self) -> AwsProxy:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
