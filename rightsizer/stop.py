"""How a run ended: one `Stop`, with its exit code, its report wording and its manifest text.

    stop = Stop(StopReason.ALARM, alarms=("cpu-high",))
    stop.text          # "alarm cpu-high"  (manifest.json's "stop_reason")
    stop.exit_code     # 0: the run did what it was told, an alarm's stop-run included
    Stop.parse("interrupted").exit_code  # 130, as for any Ctrl-C (errors.EXIT_INTERRUPTED)

The manifest keeps a string, so older run directories read the same: `parse` takes any text
this or an earlier version wrote ("completed", "interrupted", "stopped in the web UI",
"alarm NAME[, NAME...]", "alarm stop-run action").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from rightsizer.errors import EXIT_INTERRUPTED

_ALARM_PREFIX = "alarm "
_NO_ALARM_NAME = "stop-run action"  # a stop-run whose alarm was no longer in ALARM when read
_FIGURES = "the figures cover what it measured"


class StopReason(Enum):
    """Why the load ended; the value is the manifest's text (an alarm's adds its names)."""

    COMPLETED = "completed"  # every step ran, or the search decided
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM
    WEB_UI = "stopped in the web UI"  # Stop (or a run time) in Locust's web UI
    ALARM = "alarm"  # an alarm's stop-run action


@dataclass(frozen=True)
class Stop:
    """How one run ended; `alarms` names the alarms in ALARM when a stop-run ended it."""

    reason: StopReason
    alarms: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Stop:
        """The `Stop` that `text` (a manifest's "stop_reason") names; unknown text is kept as
        an early end by nobody we know of: a Ctrl-C, the one reason nothing can rule out."""
        if text.startswith(_ALARM_PREFIX):
            names = text.removeprefix(_ALARM_PREFIX)
            alarms = () if names == _NO_ALARM_NAME else tuple(names.split(", "))
            return cls(StopReason.ALARM, alarms)
        try:
            return cls(StopReason(text))
        except ValueError:
            return cls(StopReason.INTERRUPTED)

    @classmethod
    def from_manifest(cls, stop_reason: object, interrupted: object) -> Stop | None:
        """From a manifest's "stop_reason" and "interrupted", as any version wrote them; None
        when it names no end (the run is still going, or stopped without a word)."""
        if isinstance(stop_reason, str):
            return cls.parse(stop_reason)
        return INTERRUPTED if interrupted is True else None

    @property
    def text(self) -> str:
        """The manifest's "stop_reason" and the CLI's "the run ended early: ..." text."""
        if self.reason is StopReason.ALARM:
            return _ALARM_PREFIX + (", ".join(self.alarms) or _NO_ALARM_NAME)
        return str(self.reason.value)

    @property
    def completed(self) -> bool:
        return self.reason is StopReason.COMPLETED

    @property
    def interrupted(self) -> bool:
        """A signal ended it (the manifest's "interrupted"); an alarm or the web UI did not."""
        return self.reason is StopReason.INTERRUPTED

    @property
    def exit_code(self) -> int:
        """`rightsizer run`'s exit code: 130 for a signal, 0 otherwise (an alarm's stop-run and
        the web UI's Stop are ends the user asked for)."""
        return EXIT_INTERRUPTED if self.interrupted else 0

    @property
    def note(self) -> str | None:
        """The report's line about an early end; None when the run completed."""
        if self.reason is StopReason.COMPLETED:
            return None
        if self.reason is StopReason.INTERRUPTED:
            return f"the run was interrupted (Ctrl-C): {_FIGURES}"
        if self.reason is StopReason.WEB_UI:
            return f"the run was stopped in the web UI: {_FIGURES}"
        who = ", ".join(self.alarms) or "an alarm"
        return f"{who} stopped the run (its stop-run action): {_FIGURES}"


COMPLETED = Stop(StopReason.COMPLETED)
INTERRUPTED = Stop(StopReason.INTERRUPTED)
STOPPED_IN_UI = Stop(StopReason.WEB_UI)
