"""Load a user's locustfile as Locust itself does, unchanged; errors name the file (exit 2).

`check_path` is plain; `load` imports Locust (and so patches the process): call it only in the
process that runs the load.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rightsizer.errors import UsageError


@dataclass(frozen=True)
class Locustfile:
    """The User classes of one locustfile, and the names of shapes in it (rightsizer's steps
    replace them)."""

    path: Path
    user_classes: tuple[Any, ...]
    ignored_shapes: tuple[str, ...]


def check_path(path: Path) -> Path:
    """The file's absolute path; UsageError when it is not a readable .py file."""
    if not path.is_file():
        raise UsageError(f"-f: no such file: {path}; give the path of a locustfile (.py)")
    if path.suffix != ".py":
        raise UsageError(f"-f: {path} is not a .py file; give the path of a locustfile")
    return path.resolve()


def load(path: Path) -> Locustfile:
    """Import the locustfile; UsageError when it fails or defines no User class."""
    from locust.util.load_locustfile import load_locustfile  # noqa: PLC0415  # patches

    path = check_path(path)
    try:
        users, shapes = load_locustfile(str(path))
    except SystemExit as exc:
        raise UsageError(f"-f {path}: the locustfile exited while loading ({exc})") from None
    except Exception as exc:  # noqa: BLE001  # any error in user code is the user's to fix
        where = traceback.extract_tb(exc.__traceback__)[-1]
        raise UsageError(
            f"-f {path}: cannot load it: {type(exc).__name__}: {exc} "
            f"(line {where.lineno} of {Path(where.filename).name})"
        ) from None
    if not users:
        raise UsageError(f"-f {path}: no User class in it; a locustfile defines at least one")
    names = tuple(type(shape).__name__ for shape in shapes)
    return Locustfile(path, tuple(users.values()), names)
