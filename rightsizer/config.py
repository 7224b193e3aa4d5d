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
# Tables of the TOML file that other modules read (alarms, `size`'s prices); the settings
# loader skips them.
TABLE_KEYS = frozenset({"alarm", "prices", "faults"})  # faults: rightsizer.fault.fault
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
    health_path: str
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


def _url_path(raw: Any) -> str:
    value = _text(raw)
    if not value.startswith("/") or not value.isascii() or not value.isprintable() or " " in value:
        raise ValueError(f"expected an ASCII path such as /healthz, got {value!r}")
    return value


@dataclass(frozen=True)
class Key:
    """One setting: how its raw value is checked, its default, and the help its flag shows.

    A default of None for `db` and `data_dir` means "under state_dir"."""

    convert: Converter
    default: Any
    help: str
    shown_default: str | None = None  # what the README and --help print, when not `default`

    @property
    def kind(self) -> type:
        """The flag's type on the command line: what the default is, else text."""
        return type(self.default) if isinstance(self.default, int | float) else str


_SPEC: dict[str, Key] = {
    "state_dir": Key(_path, ".rightsizer", "rightsizer's own state: fleet records, uploader DB"),
    "db": Key(
        _text,
        None,
        "SQLAlchemy URL of the uploader's database (mysql+pymysql://user:pw@host/db for MySQL)",
        "sqlite:///<state_dir>/uploader.db",
    ),
    "data_dir": Key(
        _path,
        None,
        "where uploaded files are stored (any mounted path, NFS included)",
        "<state_dir>/data",
    ),
    "max_upload_mb": Key(_number(float, 0.001, 4096), 10.0, "largest accepted upload, MiB"),
    "keepalive": Key(
        _number(float, 1, 3600), 75.0, "HTTP keep-alive seconds (longer than Locust's waits)"
    ),
    "tasks": Key(_number(int, 1, 64), 1, "tasks in the fleet (ECS desired count)"),
    "cpu": Key(_number(float, 0.01, 256), 0.25, "vCPU per task (hard CFS quota)"),
    "memory": Key(_number(int, 16, 1024 * 1024), 512, "MiB per task (hard memory limit)"),
    "task_cmd": Key(
        _optional_text,
        None,
        'any command serving HTTP on {port}, e.g. "python app.py {port}"',
        "the uploader",
    ),
    "port": Key(
        _number(int, 0, 65535),
        8080,
        "the port served: the fleet's load balancer, or `serve`'s uploader (0: any free one)",
    ),
    "lb": Key(
        _choice(*LB_ALGORITHMS), "roundrobin", "load balancing: roundrobin, leastconn or none"
    ),
    "health_path": Key(
        _url_path, "/healthz", "path HAProxy checks on each task; 200 means healthy"
    ),
    "sample_interval": Key(_number(float, 0.1, 60), 1.0, "seconds between samples"),
    "cgroup_root": Key(_path, "/sys/fs/cgroup", "where the cgroup tree is mounted"),
}
KEYS = tuple(_SPEC)
# The keys each kind of command reads: the uploader's own, and a fleet's (which runs uploaders).
UPLOADER_KEYS = ("state_dir", "db", "data_dir", "max_upload_mb", "keepalive")
FLEET_KEYS = (*UPLOADER_KEYS, *(k for k in KEYS if k not in UPLOADER_KEYS))


def key_help(key: str) -> str:
    """The one-line meaning of `key`, as its flag's help and the README's table give it."""
    return _SPEC[key].help


def key_kind(key: str) -> type:
    """The type of `key`'s flag (int, float or str); the value is checked here either way."""
    return _SPEC[key].kind


def key_default(key: str) -> str:
    """The default of `key` as a person reads it (`10`, `/healthz`, `<state_dir>/data`)."""
    spec = _SPEC[key]
    if spec.shown_default is not None:
        return spec.shown_default
    return f"{spec.default:g}" if isinstance(spec.default, float) else str(spec.default)


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
    convert, default = _SPEC[key].convert, _SPEC[key].default
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
