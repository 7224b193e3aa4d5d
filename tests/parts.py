"""The parts outside Python that tests need, and one rule for a missing one: the test fails.

A test that needs a part carries its marker (`@pytest.mark.haproxy`, `chromium`, `mariadb`,
`cgroups`, `locust`, `netns`, `prometheus`); `tests/conftest.py` checks the part before the
test runs. A missing part fails the test with one line naming the part and the make target
that installs it, so `make test` on a machine without it can never pass by skipping. To leave
parts out on purpose, deselect them: `pytest -m "not chromium and not mariadb"`.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from rightsizer.cgroup.driver import open_driver, parent_name
from rightsizer.fleet.haproxy import HAPROXY
from tests.load.netns import can_create

MARIADB_SERVER = os.environ.get("RIGHTSIZER_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROMETHEUS = Path(shutil.which("prometheus") or "/usr/bin/prometheus")
INSTALL = "`make test` installs it (scripts/setup-system test)"


@dataclass(frozen=True)
class Part:
    """A marker's part: `missing()` says why it cannot be used, or None when it can."""

    marker: str
    missing: Callable[[], str | None]
    fix: str


def _haproxy() -> str | None:
    return None if HAPROXY.exists() else f"haproxy: not installed at {HAPROXY}"


def _chromium() -> str | None:
    return None if CHROMIUM else "chromium: not installed (no `chromium` on PATH)"


def _prometheus() -> str | None:
    return None if PROMETHEUS.is_file() else f"prometheus: not installed at {PROMETHEUS}"


def _locust() -> str | None:
    # found, not imported: Locust patches the standard library on import (tests/load/conftest)
    return None if importlib.util.find_spec("locust") else "locust: not installed in this venv"


def _netns() -> str | None:

    return can_create()


def _mariadb() -> str | None:
    engine = sa.create_engine(MARIADB_SERVER + "/", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        return f"MariaDB: not reachable at {MARIADB_SERVER} ({exc.orig})"
    finally:
        engine.dispose()
    return None


def _cgroups() -> str | None:
    choice = open_driver(Path("/sys/fs/cgroup"), parent_name())
    choice.driver.close()
    return None if choice.capped else f"cgroups: no permission here ({choice.warning})"


PARTS = {
    part.marker: part
    for part in (
        Part("haproxy", _haproxy, INSTALL),
        Part("chromium", _chromium, INSTALL),
        Part("mariadb", _mariadb, "`make test` installs and starts it (scripts/setup-system test)"),
        Part("cgroups", _cgroups, "run the tests as root, or in a delegated cgroup v2 subtree"),
        Part("locust", _locust, "`.venv/bin/pip install -e '.[dev]'` installs it"),
        Part("prometheus", _prometheus, INSTALL),
        Part("netns", _netns, "run the tests as root on Linux with iproute2 (`ip netns`)"),
    )
}


@functools.cache
def missing(marker: str) -> str | None:
    """Why the part behind `marker` cannot be used (checked once a session), or None."""
    return PARTS[marker].missing()


def failure(marker: str) -> str | None:
    """The one-line failure for a test marked `marker`, or None when its part is there."""
    reason = missing(marker)
    return None if reason is None else f"{reason}; {PARTS[marker].fix}"


def fail_without(marker: str, detail: object) -> None:
    """Fail the running test because its part is missing (found out while it ran)."""
    import pytest

    pytest.fail(f"{marker}: {detail}; {PARTS[marker].fix}", pytrace=False)
