"""A deployed alarm watched through a run (`run --ecs ... --deployed-alarm NAME`): its
definition pulled before the load, its state polled each period during the run, and at the
end its history next to rightsizer's evaluation of the datapoints the run recorded.

    watch = DeployedAlarmWatch.pull(connection, "cpu-high", 60)  # UsageError if not deployed
    watch.start()                                              # polls DescribeAlarms
    agreement = watch.finish(store, start, end)                # AlarmAgreement
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rightsizer.alarms.agreement import TOLERANCE, AlarmAgreement, compare
from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.timeline import datapoints_by_period, evaluate_series
from rightsizer.aws.alarm_history import StatePoller, alarm_history, transitions_from_polls
from rightsizer.aws.connection import AwsConnection
from rightsizer.aws.deployed_alarm import pull
from rightsizer.errors import RightsizerError, UsageError
from rightsizer.metrics.store import MetricKey, MetricStore


@dataclass
class DeployedAlarmWatch:
    """One deployed alarm over one run."""

    connection: AwsConnection
    alarm: AlarmDefinition
    every: float  # seconds between polls
    poller: StatePoller = field(init=False)

    def __post_init__(self) -> None:
        self.poller = StatePoller(self.connection, self.alarm.name, every=self.every)

    @classmethod
    def pull(cls, connection: AwsConnection, name: str, period: int) -> DeployedAlarmWatch:
        """The watch of the deployed alarm `name`, polled each period (the alarm's, or the
        run's metric `period` when shorter); UsageError when there is no such alarm."""
        alarm = pull(connection, name)
        if alarm is None:
            raise UsageError(f"--deployed-alarm: no alarm {name!r} in CloudWatch; check --region")
        return cls(connection, alarm, float(min(alarm.period, period)))

    def start(self) -> None:
        self.poller.start()

    def finish(self, store: MetricStore, start: float, end: float) -> AlarmAgreement:
        """Stop polling; CloudWatch's transitions over [start, end] (history, else the polls)
        next to rightsizer's evaluation of the alarm's series in `store`."""
        polled = self.poller.stop()
        name = self.alarm.name
        error = None
        try:
            # CloudWatch stamps a transition when it evaluates, up to a period or two after the
            # datapoint that caused it: one for the run's last datapoints lands past `end`.
            items = alarm_history(self.connection, name, start, end + TOLERANCE * self.alarm.period)
            source = "DescribeAlarmHistory"
        except RightsizerError as exc:
            error, source = str(exc), "DescribeAlarms polls"
            items = transitions_from_polls(name, polled)
        a = self.alarm
        exact = MetricKey.from_parts(a.namespace, a.metric_name, a.dimension_map)
        samples = store.samples(exact.of_statistic(a.statistic.name)) or store.samples(exact)
        ours = evaluate_series(a, samples, start, end).transitions
        rows = compare(items, ours, a, datapoints_by_period(samples, a))
        return AlarmAgreement(name, source, tuple(rows), error, tuple(p.to_json() for p in polled))
