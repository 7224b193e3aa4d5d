"""Fixtures every test package may use: settings in a temp dir, a private MariaDB database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from rightsizer.config import Settings, load_settings
from tests.parts import MARIADB_SERVER, PARTS, failure

# `make test` sets this: there, a skipped test is a failure (every part is installed first).
NO_SKIPS = os.environ.get("RIGHTSIZER_NO_SKIPS") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under `make test`, where no test may skip: {report.longrepr}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test whose part (haproxy, chromium, mariadb, cgroups) is missing fails, in one line."""
    for marker in PARTS:
        if item.get_closest_marker(marker) is not None and (reason := failure(marker)):
            pytest.fail(reason, pytrace=False)


@pytest.fixture
def settings_factory(tmp_path: Path) -> Any:
    """Build Settings rooted in this test's temp dir; keyword arguments act as flags."""

    def make(**flags: Any) -> Settings:
        flags.setdefault("state_dir", str(tmp_path / "state"))
        return load_settings(flags, env={}, cwd=tmp_path)

    return make


@pytest.fixture
def settings(settings_factory: Any) -> Settings:
    made: Settings = settings_factory()
    return made


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[sa.Engine]:
    """An engine on the MariaDB server itself (no database); fails when it is not running."""
    if reason := failure("mariadb"):
        pytest.fail(reason, pytrace=False)
    engine = sa.create_engine(MARIADB_SERVER + "/", pool_pre_ping=True)
    yield engine
    engine.dispose()


@pytest.fixture
def mariadb_url(mariadb_server: sa.Engine) -> Iterator[str]:
    """A fresh database of this test's own on the local MariaDB; dropped afterwards."""
    name = f"rightsizer_test_{uuid.uuid4().hex[:12]}"
    with mariadb_server.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}`"))
    try:
        yield f"{MARIADB_SERVER}/{name}"
    finally:
        with mariadb_server.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
