"""Fixtures for the uploader: a database URL per backend, settings, a live server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rightsizer.config import Settings
from tests.uploader.helpers import Live, serve_in_thread

BACKENDS = ["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database of this test: a SQLite file, or a private database on the local MariaDB."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'uploader.db'}"
    url: str = request.getfixturevalue("mariadb_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'uploader.db'}"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def make_settings(settings_factory: Any, data_dir: Path) -> Any:
    """Settings with this test's data dir; keyword arguments act as flags."""

    def make(db: str, **flags: Any) -> Settings:
        made: Settings = settings_factory(db=db, data_dir=str(data_dir), **flags)
        return made

    return make


@pytest.fixture
def live(make_settings: Any, db_url: str) -> Iterator[Live]:
    """The uploader serving this test's database and data dir (0.25 MiB upload limit)."""
    with serve_in_thread(make_settings(db_url, max_upload_mb=0.25)) as running:
        yield running
