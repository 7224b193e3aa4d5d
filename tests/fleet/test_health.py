"""The supervisor's own health check against a task that answers more than a status."""

from __future__ import annotations

import socket
import threading

from rightsizer.fleet.health import MAX_BODY, probe

BODY_BYTES = 64 * 1024 * 1024  # far more than any socket buffer holds


def test_the_probe_reads_a_bounded_part_of_a_huge_body() -> None:
    """The task sends 200 and a 64 MiB body; the probe answers from the status, and hangs up
    long before the task could write it all (the old probe read every byte)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    outcome: dict[str, object] = {}

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)  # the request
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {BODY_BYTES}\r\n\r\n".encode()
            sent = 0
            try:
                connection.sendall(head)
                block = b"x" * 65536
                while sent < BODY_BYTES:
                    sent += connection.send(block)
                outcome["finished"] = True
            except OSError:  # the probe hung up: what it should do
                outcome["finished"] = False
            outcome["sent"] = sent

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert probe(port, "/healthz", timeout=30)
        thread.join(timeout=60)
        assert outcome["finished"] is False
        assert isinstance(outcome["sent"], int) and outcome["sent"] < BODY_BYTES
    finally:
        listener.close()
    assert MAX_BODY <= 64 * 1024
