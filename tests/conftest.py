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

MARIADB_SERVER = os.environ.get("RIGHTSIZER_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")


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
    """An engine on the MariaDB server itself (no database), or skip when it is not running."""
    engine = sa.create_engine(MARIADB_SERVER + "/", pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"MariaDB not reachable at {MARIADB_SERVER}: {exc.orig}")
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
