"""Locust's log during a run: into `locust.log` in the run directory, errors counted.

Locust logs through the standard `logging` module; without this, its warnings would land on the
terminal between the live progress lines.
"""

from __future__ import annotations

import logging
from pathlib import Path


class ErrorCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def logging_to(path: Path) -> tuple[ErrorCount, list[logging.Handler]]:
    """Locust's log goes to a file in the run directory; errors are counted for the summary."""
    root = logging.getLogger()
    errors = ErrorCount()
    handlers: list[logging.Handler] = [logging.FileHandler(path), errors]
    handlers[0].setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s/%(name)s: %(message)s"))
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    return errors, handlers
