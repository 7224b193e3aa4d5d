"""db-latency and db-outage on MariaDB: the tcp proxy against the real server on 127.0.0.1:3306,
then a real `rightsizer run --db mysql... --fault ...` whose tasks reach it through the proxy."""

from __future__ import annotations

import contextlib
import signal
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import sqlalchemy as sa

from rightsizer.errors import UnavailableError
from rightsizer.fault.db_proxy import DbProxy
from tests.fault.test_run_faults import faults_of, gone
from tests.load.conftest import signalled_run
from tests.load.test_run_fleet import fleet_gone
from tests.waiting import poll_until

pytestmark = [pytest.mark.mariadb]
LATENCY = 0.3  # the test's own: what it asks the proxy to add


def round_trip(engine: sa.Engine) -> float:
    """Seconds for one `SELECT 1` on a connection already open (its connect not counted)."""
    with engine.connect() as connection:
        began = time.perf_counter()
        assert connection.execute(sa.text("SELECT 1")).scalar() == 1
        return time.perf_counter() - began


def server_sees(server: sa.Engine, database: str) -> int:
    """How many connections the MariaDB server itself has on `database`."""
    with server.connect() as connection:
        rows = connection.execute(sa.text("SHOW PROCESSLIST")).all()
    return sum(row[3] == database for row in rows)


def test_the_proxy_adds_latency_and_plays_an_outage_on_real_mariadb(
    mariadb_url: str, mariadb_server: sa.Engine
) -> None:
    proxy = DbProxy.start(mariadb_url)
    database = sa.engine.make_url(mariadb_url).database
    engine = sa.create_engine(
        proxy.url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3}
    )
    try:
        assert proxy.url != mariadb_url and proxy.url.endswith(f"/{database}")
        round_trip(engine)  # through the proxy: the server answers
        proxy.latency(LATENCY)
        assert round_trip(engine) >= LATENCY  # a sleep never ends early: a sure lower bound
        proxy.outage()
        with pytest.raises(sa.exc.OperationalError):
            round_trip(engine)
        assert round_trip(mariadb_server) >= 0  # the server itself is up: only the way is cut
        counters = proxy.normal()
        assert counters["refused"] >= 1
        with engine.connect() as held:  # forwarding again, and the server sees us
            held.execute(sa.text("SELECT 1"))
            assert server_sees(mariadb_server, database or "") == 1
    finally:
        engine.dispose()
        proxy.close()
    assert proxy.process.returncode is not None and gone(proxy.process.pid)


def test_the_proxy_is_for_mariadb_only() -> None:
    with pytest.raises(UnavailableError, match="the database is sqlite"):
        DbProxy.start("sqlite:////tmp/x.db")


@pytest.mark.slow
@pytest.mark.cgroups
@pytest.mark.haproxy
@pytest.mark.locust
def test_a_run_on_mariadb_gets_db_latency_and_db_outage_through_the_proxy(
    run_cli: Any, mariadb_url: str, tmp_path: Path
) -> None:
    finished = run_cli(
        "--users", "4,4", "--step-time", "4.5", "--port", "0", "--cooldown", "0",
        "--tasks", "2", "--fault", "db-latency@2.5s+3s", "--fault", "db-outage@6.5s+2s",
        RIGHTSIZER_DB=mariadb_url,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    latency, outage = faults_of(finished)["faults"]
    for record in (latency, outage):
        assert record["error"] is None and record["facts"]["mechanism"] == "tcp proxy"
    assert latency["facts"]["delayed_chunks"] > 0
    # db-latency: each round trip to the server waited; the uploads sent meanwhile were slow.
    assert latency["facts"]["delayed_chunks"] > 0
    assert latency["during"]["requests"] > 0
    assert latency["during"]["p95_ms"] > 2 * latency["baseline"]["p95_ms"]
    # db-outage: connections dropped or refused, uploads failed, none acknowledged and lost.
    assert outage["facts"]["dropped"] + outage["facts"]["refused"] > 0
    assert outage["during"]["failed"] > 0
    integrity = faults_of(finished)["integrity"]
    assert integrity["intact"] is True and integrity["rows"] > 0
    fleet_gone(finished)
    assert gone(latency["facts"]["proxy_pid"])  # the proxy ended with the run


def proxies_of(out: Path) -> list[int]:
    """The db proxies whose parent is the `rightsizer run` writing into `out`."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if "rightsizer.fault.db_proxy" not in " ".join(process.info["cmdline"] or []):
            continue
        with contextlib.suppress(psutil.Error):
            parent = process.parent()
            if parent is not None and str(out) in " ".join(parent.cmdline()):
                found.append(process.pid)
    return found


@pytest.mark.slow
@pytest.mark.cgroups
@pytest.mark.haproxy
@pytest.mark.locust
def test_a_run_killed_during_a_mariadb_outage_leaves_no_proxy(
    mariadb_url: str, mariadb_server: sa.Engine, tmp_path: Path
) -> None:
    (tmp_path / "rightsizer.toml").write_text(f'db = "{mariadb_url}"\n')
    seen: list[int] = []
    refused: list[bool] = []

    def in_outage(out: Path) -> bool:
        """The proxy's own port, asked as a client: it answered before, it refuses now."""
        seen[:] = seen or proxies_of(out)
        ports = [c.laddr.port for pid in seen for c in psutil.Process(pid).net_connections()
                 if c.status == psutil.CONN_LISTEN]  # fmt: skip
        if not ports or not any(out.glob("*/fleet.json")):
            return False
        url = sa.engine.make_url(mariadb_url).set(port=ports[0])
        probe = sa.create_engine(url, poolclass=sa.pool.NullPool,
                                 connect_args={"connect_timeout": 2})  # fmt: skip
        try:
            round_trip(probe)
        except sa.exc.OperationalError:
            refused.append(True)
        finally:
            probe.dispose()
        return bool(refused)

    finished = signalled_run(
        tmp_path,
        "--users", "3,3", "--step-time", "5", "--port", "0", "--cooldown", "0",
        "--fault", "db-outage@1s+8s",
        ready=in_outage, signum=signal.SIGKILL, ready_within=40,
    )  # fmt: skip
    assert finished.returncode == -signal.SIGKILL and seen and refused
    poll_until(lambda: all(gone(pid) for pid in seen), 30, "the proxy ended with the run")
    assert round_trip(mariadb_server) >= 0  # the server itself was never touched
