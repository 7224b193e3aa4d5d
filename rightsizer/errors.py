"""Every error rightsizer raises on purpose, and the exit code each one maps to.

    RightsizerError                 exit 1: something failed while doing the work
     ├── UsageError                 exit 2: the user asked for something that cannot be done
     │    ├── ConfigError           a configuration key has a bad value (names the key)
     │    ├── AlarmDefinitionError  an alarm definition has a bad field (names the field)
     │    └── RefusedError          a safety rule forbids it (reset outside its own root, ...)
     ├── UnavailableError           a peer (database, target host, HAProxy) does not answer
     └── CgroupError                the cgroup tree cannot be read or written

Messages are one line and say what to do, because the CLI prints them as they are.
"""

from __future__ import annotations

# What a command stopped by Ctrl-C exits with, as shells report it (128 + SIGINT).
EXIT_INTERRUPTED = 130


class RightsizerError(Exception):
    """Base class; `exit_code` is what the command line exits with."""

    exit_code: int = 1


class UsageError(RightsizerError):
    """The request cannot be carried out as given; fix the arguments and try again."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration value is wrong; `key` names it as the user wrote it, `message` says
    what is wrong with it (the error reads "key: message")."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


class AlarmDefinitionError(UsageError):
    """An alarm definition is invalid; `field` names the PutMetricAlarm field, `message` says
    what is wrong with it (the error reads "field: message")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class RefusedError(UsageError):
    """A safety rule forbids the operation (nothing was changed)."""


class UnavailableError(RightsizerError):
    """A peer the operation needs does not answer."""


class CgroupError(RightsizerError):
    """The cgroup tree cannot be read or written as needed."""
