"""`rightsizer worker`: its arguments, and the handshake that refuses a worker whose versions or
locustfile differ from the master's (real Locust master and workers on this machine)."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from rightsizer.errors import UsageError
from rightsizer.load.handshake import Identity
from rightsizer.load.worker_pool import MasterAddress
from rightsizer.scenarios import UPLOADER
from tests.load import conftest as load
from tests.load.conftest import Target, clean_env, rightsizer_command
from tests.waiting import poll_until

target = load.target  # the fixture: a real HTTP target in a thread

HERE = Path(__file__).resolve().parent
OTHER_LOCUSTFILE = HERE / "demand_locustfile.py"
SAVE = "/index.php?action=save"


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("10.0.0.5", "10.0.0.5", 5557),
        ("10.0.0.5:6000", "10.0.0.5", 6000),
        ("master.example", "master.example", 5557),
        ("[fd00::1]:6000", "fd00::1", 6000),
        ("fd00::1", "fd00::1", 5557),
    ],
)
def test_the_master_address(text: str, host: str, port: int) -> None:
    assert MasterAddress.parse(text) == MasterAddress(host, port)


@pytest.mark.parametrize("text", ["", ":5557", "host:0", "host:70000", "host:x", "[::1]x"])
def test_a_bad_master_address_is_one_line(text: str) -> None:
    with pytest.raises(UsageError, match=r"^--master: ") as raised:
        MasterAddress.parse(text)
    assert "\n" not in str(raised.value)


def test_identities_differ_in_what_matters_and_say_it_in_one_line(tmp_path: Path) -> None:
    mine = Identity.of(UPLOADER)
    assert mine.locustfile_sha256 == hashlib.sha256(UPLOADER.read_bytes()).hexdigest()
    assert mine.mismatch(Identity.from_json(mine.to_json())) is None
    minor = ".".join(mine.locust.split(".")[:2])
    patch = Identity(mine.rightsizer, f"{minor}.99", mine.locustfile_sha256)
    assert mine.mismatch(patch) is None  # another patch release of Locust speaks the same
    cases = {
        "rightsizer 0.0.1 on the worker": Identity("0.0.1", mine.locust, mine.locustfile_sha256),
        "Locust 1.0.0 on the worker": Identity(mine.rightsizer, "1.0.0", mine.locustfile_sha256),
        "the locustfile differs": Identity.of(OTHER_LOCUSTFILE),
    }
    for start, other in cases.items():
        reason = mine.mismatch(other)
        assert reason is not None and reason.startswith(start) and "\n" not in reason
    with pytest.raises(ValueError, match="a hello without"):
        Identity.from_json({"rightsizer": "0.1.0"})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_bad_arguments_exit_2_in_one_line(tmp_path: Path) -> None:
    for args, start in [
        (["--master", "host:x"], "error: --master: port 'x' is not a port"),
        (["--master", "host", "--processes", "0"], "error: --processes: 0; give 1 to"),
        (["--master", "host", "-f", str(tmp_path / "none.py")], "error: -f: no such file"),
    ]:
        done = subprocess.run(
            rightsizer_command("worker", *args),
            env=clean_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.splitlines()
        assert line.startswith(start), line


@pytest.mark.slow
@pytest.mark.locust
def test_a_worker_with_another_locustfile_or_without_hello_is_left_out_and_all_is_counted(
    tmp_path: Path, target: Target
) -> None:
    port = _free_port()
    env = clean_env(tmp_path)
    master_at = f"127.0.0.1:{port}"
    logs = {name: tmp_path / f"{name}.log" for name in ("good", "other", "plain", "master")}
    started: list[subprocess.Popen[bytes]] = []

    def spawn(name: str, *args: str, command: list[str] | None = None) -> subprocess.Popen[bytes]:
        with logs[name].open("wb") as log:
            process = subprocess.Popen(
                command or rightsizer_command(*args), stdout=log, stderr=subprocess.STDOUT,
                env=env, cwd=tmp_path,
            )  # fmt: skip
        started.append(process)
        return process

    try:
        good = spawn("good", "worker", "--master", master_at, "-f", str(UPLOADER))
        other = spawn("other", "worker", "--master", master_at, "-f", str(OTHER_LOCUSTFILE))
        # Plain Locust: no recorder, no hello; its requests would go uncounted.
        plain = spawn("plain", command=[
            str(Path(sys.executable).with_name("locust")), "--worker", "--master-host",
            "127.0.0.1", "--master-port", str(port), "-f", str(UPLOADER),
        ])  # fmt: skip
        # Up before the master, so that it connects with the others when the master listens.
        poll_until(lambda: "Starting Locust" in logs["plain"].read_text(), 60, "plain Locust up")
        master = spawn(
            "master", "run", "--host", target.url, "--users", "2", "--step-time", "2",
            "--cooldown", "0", "--drain-timeout", "1", "--no-report", "--expect-workers", "1",
            "--master-bind-port", str(port), "--out", str(tmp_path / "runs"),
        )  # fmt: skip
        assert other.wait(120) == 2
        (refusal,) = [line for line in logs["other"].read_text().splitlines() if "refus" in line]
        assert refusal.startswith("error: the master refused this worker: the locustfile differs")
        assert "refused: the locustfile differs" in logs["master"].read_text()
        assert master.wait(120) == 0, logs["master"].read_text()
        assert good.wait(60) == 0 and plain.wait(60) == 0
        poll_until(lambda: "ended with code 0" in logs["good"].read_text(), 10, "the pool's end")
        (run,) = (tmp_path / "runs").iterdir()
        report = json.loads((run / "manifest.json").read_text())["worker_report"]
        assert len(report["accepted"]) == 1 and len(report["refused"]) == 1
        assert "the locustfile differs" in next(iter(report["refused"].values()))
        (left_out,) = report["left_out"]
        assert f"worker {left_out} left out: it sent no hello" in logs["master"].read_text()
        steps = json.loads((run / "steps.json").read_text())["steps"]
        recorded = sum(
            s["requests"][SAVE]["count"] - s["requests"][SAVE]["failures"] for s in steps
        )
        assert recorded == target.counts.saves > 0  # every save the target stored is counted
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait()
