from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rightsizer.fleet.haproxy import HAPROXY
from rightsizer.fleet.haproxy_config import LbConfig, render


def _config(tmp_path: Path, **fields: object) -> LbConfig:
    base: dict[str, object] = {
        "port": 18080,
        "servers": (("t1", 18081), ("t2", 18082)),
        "socket": tmp_path / "s.sock",
    }
    base.update(fields)
    return LbConfig(**base)  # type: ignore[arg-type]


def test_checks_retries_and_keepalive_are_as_the_fleet_needs(tmp_path: Path) -> None:
    text = render(_config(tmp_path, algorithm="leastconn", keepalive=2.0))
    assert "    balance leastconn" in text
    assert "    option httpchk GET /healthz" in text
    assert "inter 1000ms fall 3 rise 1" in text  # a dead task is out within ~3 s
    assert "    timeout check 10000ms" in text  # a merely busy task stays in rotation
    assert "    option redispatch" in text and "    retries 3" in text
    # Keep-alive longer than Locust's 5 s waits even when configured shorter.
    assert "    timeout http-keep-alive 6000ms" in text
    assert f"stats socket {tmp_path / 's.sock'} mode 600 level admin" in text
    assert "    server t2 127.0.0.1:18082 check" in text
    assert "bind 127.0.0.1:18080" in text


@pytest.mark.haproxy
def test_haproxy_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    path = tmp_path / "haproxy.cfg"
    path.write_text(render(_config(tmp_path, keepalive=75.0)))
    result = subprocess.run(
        [str(HAPROXY), "-c", "-f", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "timeout http-keep-alive 75000ms" in path.read_text()
