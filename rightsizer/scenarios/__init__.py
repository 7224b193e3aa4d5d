"""Locustfiles that ship with rightsizer; each is a plain locustfile that `locust -f` runs as is.

uploader.py   the seed's flow: GET /index.php, then POST a file to /index.php?action=save
"""

from __future__ import annotations

from pathlib import Path

SCENARIO_DIR = Path(__file__).resolve().parent
UPLOADER = SCENARIO_DIR / "uploader.py"


def is_bundled(locustfile: Path) -> bool:
    """True when `locustfile` is one of the scenarios in this package."""
    try:
        return locustfile.resolve().parent == SCENARIO_DIR and locustfile.name != "__init__.py"
    except OSError:
        return False
