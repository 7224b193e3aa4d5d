"""What the processes a fleet starts (tasks, HAProxy) see of rightsizer's environment.

They get the supervisor's environment minus rightsizer's own secrets: a task runs any command
(`--task-cmd`), and has no business knowing the web UI's password.

    env = child_environment(os.environ, {"RIGHTSIZER_DB": url})   # secrets removed, extra added
"""

from __future__ import annotations

from collections.abc import Mapping

# Every variable that holds a secret of rightsizer's own: the one list to extend.
SECRET_VARIABLES = frozenset({"RIGHTSIZER_WEB_AUTH"})


def child_environment(
    base: Mapping[str, str], extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`base` without `SECRET_VARIABLES`, then `extra` (which a fleet spec sets on purpose)."""
    env = {name: value for name, value in base.items() if name not in SECRET_VARIABLES}
    env.update(extra or {})
    return env
