"""The deployed alarm's own record: DescribeAlarmHistory, DescribeAlarms polled during a run,
and the comparison with rightsizer's evaluation of the same datapoints."""

from __future__ import annotations

import calendar
import json

from rightsizer.alarms.agreement import compare
from rightsizer.alarms.definition import AlarmDefinition
from rightsizer.alarms.history import HistoryItem
from rightsizer.alarms.state import AlarmState
from rightsizer.alarms.timeline import Transition
from rightsizer.aws.alarm_history import StatePoller, alarm_history, transitions_from_polls
from rightsizer.aws.connection import AwsConnection
from rightsizer.metrics.store import Datapoint
from tests.aws.conftest import REGION, Aws
from tests.aws.seam import AwsProxy
from tests.waiting import poll_until

T0 = float(calendar.timegm((2026, 11, 27, 14, 0, 0)))
ALARM = AlarmDefinition.from_json(
    {
        "AlarmName": "cpu-high",
        "Namespace": "AWS/ECS",
        "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": "ServiceName", "Value": "uploader"}],
        "Statistic": "Average",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 20,
        "ComparisonOperator": "GreaterThanThreshold",
    }
)


def history_data(old: str, new: str, evaluated: list[tuple[str, float]]) -> str:
    """HistoryData as CloudWatch writes it for a StateUpdate: JSON text."""
    return json.dumps(
        {
            "version": "1.0",
            "oldState": {"stateValue": old, "stateReason": "earlier"},
            "newState": {
                "stateValue": new,
                "stateReason": f"Threshold Crossed: to {new}",
                "stateReasonData": {
                    "version": "1.0",
                    "statistic": "Average",
                    "period": 60,
                    "threshold": 20.0,
                    "evaluatedDatapoints": [{"timestamp": t, "value": v} for t, v in evaluated],
                },
            },
        }
    )


def test_describe_alarm_history_against_a_response_in_aws_shape(aws: Aws) -> None:
    """moto's server does not implement DescribeAlarmHistory (it answers 500,
    NotImplementedError), so this one call is answered at the HTTP seam with a response
    written in the shape AWS's API reference documents for it (HistoryData is JSON text), in
    the protocol the client speaks; it was not captured from a real account. Every other call
    in these tests goes to the emulator."""
    answer = {
        "AlarmHistoryItems": [
            {
                "AlarmName": "cpu-high",
                "AlarmType": "MetricAlarm",
                "Timestamp": T0 + 124.5,
                "HistoryItemType": "StateUpdate",
                "HistorySummary": "Alarm updated from OK to ALARM",
                "HistoryData": history_data(
                    "OK", "ALARM", [("2026-11-27T14:01:00.000+0000", 31.5)]
                ),
            },
            {
                "AlarmName": "cpu-high",
                "AlarmType": "MetricAlarm",
                "Timestamp": T0 + 63.2,
                "HistoryItemType": "StateUpdate",
                "HistorySummary": "Alarm updated from INSUFFICIENT_DATA to OK",
                "HistoryData": history_data("INSUFFICIENT_DATA", "OK", []),
            },
        ]
    }
    with AwsProxy(aws.url) as proxy:
        proxy.answer("DescribeAlarmHistory", answer)
        items = alarm_history(AwsConnection.build(REGION, proxy.url), "cpu-high", T0, T0 + 300)
    assert proxy.calls["DescribeAlarmHistory"] == 1
    assert [(i.timestamp, i.old_state, i.new_state) for i in items] == [
        (T0 + 63.2, "INSUFFICIENT_DATA", "OK"),  # oldest first
        (T0 + 124.5, "OK", "ALARM"),
    ]
    assert items[1].reason == "Threshold Crossed: to ALARM"
    assert items[1].reason_data["evaluatedDatapoints"][0]["value"] == 31.5


def test_polls_see_each_state_change(aws: Aws) -> None:
    cloudwatch = aws.client("cloudwatch")
    name = aws.name("cpu-high")
    cloudwatch.put_metric_alarm(**(ALARM.to_json() | {"AlarmName": name}))
    initial = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]
    assert initial != "ALARM"
    with StatePoller(aws.connection, name, every=0.05) as poller:
        poll_until(lambda: poller.states, 10, "the first poll")
        # moto does not evaluate alarms; SetAlarmState plays CloudWatch's evaluator.
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="hot")
        poll_until(lambda: any(s.state == "ALARM" for s in poller.states), 10, "ALARM polled")
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="cool")
        poll_until(lambda: poller.states[-1].state == "OK", 10, "OK polled")
    items = transitions_from_polls(name, poller.states)
    assert [(i.old_state, i.new_state, i.reason) for i in items] == [
        (initial, "ALARM", "hot"),
        ("ALARM", "OK", "cool"),
    ]
    assert not poller.failures


def ours(time: float, old: AlarmState, new: AlarmState) -> Transition:
    return Transition("cpu-high", time, old, new, "", {})


def cloudwatch_item(
    time: float, old: str, new: str, evaluated: list[tuple[str, float]]
) -> HistoryItem:
    data = json.loads(history_data(old, new, evaluated))["newState"]["stateReasonData"]
    return HistoryItem("cpu-high", time, old, new, "", data)


def test_agreeing_and_differing_transitions_are_explained() -> None:
    ok, alarm = AlarmState.OK, AlarmState.ALARM
    points = {  # rightsizer's datapoints by period index: 14:00 and 14:02, not 14:01
        int(T0 // 60): Datapoint(T0, 10.0, 3),
        int(T0 // 60) + 2: Datapoint(T0 + 120, 12.0, 3),
    }
    rows = compare(
        [
            cloudwatch_item(
                T0 + 64, "INSUFFICIENT_DATA", "OK", [("2026-11-27T14:00:00.000+0000", 10.0)]
            ),
            cloudwatch_item(T0 + 125, "OK", "ALARM", [("2026-11-27T14:01:00.000+0000", 31.5)]),
            cloudwatch_item(T0 + 185, "ALARM", "OK", [("2026-11-27T14:02:00.000+0000", 25.0)]),
        ],
        [ours(T0 + 60, AlarmState.INSUFFICIENT_DATA, ok), ours(T0 + 420, ok, alarm)],
        ALARM,
        points,
    )
    assert [(r.new_state, r.agree) for r in rows] == [
        ("OK", True),
        ("ALARM", False),
        ("OK", False),
        ("ALARM", False),
    ]
    assert "+4 s" in rows[0].note
    assert "no datapoint for 14:01:00" in rows[1].note  # late or never published
    assert "CloudWatch 25, rightsizer 12" in rows[2].note  # the value differs
    assert rows[3].cloudwatch_time is None and rows[3].rightsizer_time == T0 + 420
