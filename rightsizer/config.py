"""Settings, layered as flags > `RIGHTSIZER_*` environment > `rightsizer.toml` > defaults.

Every key has one name used everywhere: `data_dir` is the `data_dir` key in the TOML file, the
`RIGHTSIZER_DATA_DIR` variable and the `--data-dir` flag. An error names the key the way the user
wrote it (`RIGHTSIZER_TASKS: ...`, `rightsizer.toml: tasks: ...`, `--tasks: ...`).

Example `rightsizer.toml`::

    db = "mysql+pymysql://root@127.0.0.1:3306/uploader"
    data_dir = "/mnt/efs/data"
    tasks = 4
    cpu = 0.25
    memory = 512

    [[alarm]]            # read by rightsizer.alarms, not here
    AlarmName = "cpu-high"
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from rightsizer.errors import ConfigError

CONFIG_FILE_NAME = "rightsizer.toml"
ENV_PREFIX = "RIGHTSIZER_"
# Tables of the TOML file that other modules read (alarms); the settings loader skips them.
TABLE_KEYS = frozenset({"alarm"})
LB_ALGORITHMS = ("roundrobin", "leastconn", "none")


@dataclass(frozen=True)
class Settings:
    """Everything the service, the fleet and the samplers need to know, resolved and checked."""

    state_dir: Path
    db: str
    data_dir: Path
    max_upload_mb: float
    keepalive: float
    tasks: int
    cpu: float
    memory: int
    task_cmd: str | None
    port: int
    lb: str
    sample_interval: float
    cgroup_root: Path

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view, for manifests."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Path) else value
        return out


Converter = Callable[[Any], Any]


def _number(kind: type[int] | type[float], low: float, high: float) -> Converter:
    def convert(raw: Any) -> int | float:
        if isinstance(raw, bool):
            raise ValueError(f"expected a number, got {raw!r}")
        if kind is int and isinstance(raw, float) and not raw.is_integer():
            raise ValueError(f"expected a whole number, got {raw!r}")
        try:
            value = kind(raw)
        except (TypeError, ValueError):
            noun = "a whole number" if kind is int else "a number"
            raise ValueError(f"expected {noun}, got {raw!r}") from None
        if not low <= value <= high:
            raise ValueError(f"must be between {low:g} and {high:g}, got {value:g}")
        return value

    return convert


def _text(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"expected a non-empty string, got {raw!r}")
    return raw.strip()


def _optional_text(raw: Any) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return _text(raw)


def _path(raw: Any) -> Path:
    return Path(_text(raw)).expanduser()


def _choice(*allowed: str) -> Converter:
    def convert(raw: Any) -> str:
        value = _text(raw)
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {value!r}")
        return value

    return convert


# key -> (converter, default). A default of None for `db` and `data_dir` means "under state_dir".
_SPEC: dict[str, tuple[Converter, Any]] = {
    "state_dir": (_path, ".rightsizer"),
    "db": (_text, None),
    "data_dir": (_path, None),
    "max_upload_mb": (_number(float, 0.001, 4096), 10.0),
    "keepalive": (_number(float, 1, 3600), 75.0),
    "tasks": (_number(int, 1, 64), 1),
    "cpu": (_number(float, 0.01, 256), 0.25),
    "memory": (_number(int, 16, 1024 * 1024), 512),
    "task_cmd": (_optional_text, None),
    "port": (_number(int, 0, 65535), 8080),
    "lb": (_choice(*LB_ALGORITHMS), "roundrobin"),
    "sample_interval": (_number(float, 0.1, 60), 1.0),
    "cgroup_root": (_path, "/sys/fs/cgroup"),
}
KEYS = tuple(_SPEC)


def env_name(key: str) -> str:
    return ENV_PREFIX + key.upper()


def flag_name(key: str) -> str:
    return "--" + key.replace("_", "-")


def find_config_file(
    explicit: Path | None, env: Mapping[str, str], cwd: Path
) -> tuple[Path | None, str]:
    """The TOML file to read and how it was named (for errors); None when there is none."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError("--config", f"no such file: {explicit}")
        return explicit, str(explicit)
    named = env.get(ENV_PREFIX + "CONFIG")
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigError(ENV_PREFIX + "CONFIG", f"no such file: {path}")
        return path, str(path)
    default = cwd / CONFIG_FILE_NAME
    return (default, CONFIG_FILE_NAME) if default.is_file() else (None, CONFIG_FILE_NAME)


def read_config_file(path: Path, label: str) -> dict[str, Any]:
    """The whole TOML document; a syntax error names the file and the line."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(label, f"not valid TOML ({exc}); fix the file") from None
    except OSError as exc:
        raise ConfigError(label, f"cannot read it ({exc.strerror})") from None


def load_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve every key; `flags` maps key -> value, with None meaning "flag not given"."""
    flags = flags or {}
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    unknown = set(flags) - set(_SPEC)
    if unknown:
        raise ConfigError(flag_name(sorted(unknown)[0]), "not a setting rightsizer knows")

    path, label = find_config_file(config_file, env, cwd)
    document = read_config_file(path, label) if path else {}
    _check_document(document, label)
    resolved = {key: _resolve(key, flags, env, document, label) for key in _SPEC}

    base = path.parent if path else cwd
    for key in ("state_dir", "data_dir", "cgroup_root"):
        value = resolved[key]
        if isinstance(value, Path) and not value.is_absolute():
            resolved[key] = (base / value).resolve()
    state_dir: Path = resolved["state_dir"]
    if resolved["data_dir"] is None:
        resolved["data_dir"] = state_dir / "data"
    if resolved["db"] is None:
        resolved["db"] = f"sqlite:///{state_dir / 'uploader.db'}"
    return Settings(**resolved)


def _check_document(document: Mapping[str, Any], label: str) -> None:
    for key, value in document.items():
        if key in TABLE_KEYS:
            continue
        if key not in _SPEC:
            raise ConfigError(f"{label}: {key}", f"unknown key; known keys: {', '.join(KEYS)}")
        if isinstance(value, dict | list):
            raise ConfigError(f"{label}: {key}", "expected a single value, not a table or list")


def _resolve(
    key: str,
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    document: Mapping[str, Any],
    label: str,
) -> Any:
    """The value of one key from the first source that has it, converted and checked."""
    convert, default = _SPEC[key]
    if flags.get(key) is not None:
        source, raw = flag_name(key), flags[key]
    elif env.get(env_name(key)) is not None:
        source, raw = env_name(key), env[env_name(key)]
    elif key in document:
        source, raw = f"{label}: {key}", document[key]
    else:
        source, raw = "default", default
    if raw is None:
        return None
    try:
        return convert(raw)
    except ValueError as exc:
        raise ConfigError(source, str(exc)) from None
