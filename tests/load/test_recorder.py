"""The recorder's worker and master sides, joined by a stand-in for Locust's message channel.

Locust cannot be imported in the test process (it monkey-patches on import), so its events and
runner are replaced at that seam by the few calls the recorder uses; the records, the rows and
the collector are the real ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rightsizer.load.recorder import (
    DRAINED_MESSAGE,
    REPORT_KEY,
    MasterCollector,
    ship_from_worker,
)
from rightsizer.load.records import RecordLog


class Hook:
    def __init__(self) -> None:
        self.listeners: list[Callable[..., None]] = []

    def add_listener(self, listener: Callable[..., None]) -> None:
        self.listeners.append(listener)

    def fire(self, **kwargs: Any) -> None:
        for listener in self.listeners:
            listener(**kwargs)


class Events:
    def __init__(self) -> None:
        self.request, self.report_to_master, self.test_stop = Hook(), Hook(), Hook()
        self.worker_report = Hook()


@dataclass
class Message:
    type: str
    data: Any
    node_id: str


@dataclass
class Channel:
    """Messages from workers to the master, in the order they were sent."""

    sent: list[Message] = field(default_factory=list)


class WorkerRunner:
    def __init__(self, client_id: str, channel: Channel) -> None:
        self.client_id, self.channel = client_id, channel

    def send_message(self, msg_type: str, data: Any = None) -> None:
        self.channel.sent.append(Message(msg_type, data, self.client_id))


class MasterRunner:
    def __init__(self) -> None:
        self.handlers: dict[str, Callable[..., None]] = {}

    def register_message(self, msg_type: str, handler: Callable[..., None]) -> None:
        self.handlers[msg_type] = handler


@dataclass
class Env:
    events: Events
    runner: Any


def worker(channel: Channel, client_id: str) -> Env:
    env = Env(Events(), WorkerRunner(client_id, channel))
    # Locust's own statistics ride on the same report: a stand-in that counts requests.
    counted = {"requests": 0}

    def count(**_: Any) -> None:
        counted["requests"] += 1

    def report(client_id: str, data: dict[str, Any]) -> None:
        data["locust_requests"], counted["requests"] = counted["requests"], 0

    env.events.request.add_listener(count)
    env.events.report_to_master.add_listener(report)
    ship_from_worker(env)
    return env


def request(env: Env, start: float) -> None:
    env.events.request.fire(
        request_type="GET", name="/", response_time=12.5, response_length=100,
        exception=None, start_time=start,
    )  # fmt: skip


def deliver(channel: Channel, master: Env) -> None:
    for message in channel.sent:
        if message.type == "stats":
            master.events.worker_report.fire(client_id=message.node_id, data=message.data)
        else:
            master.runner.handlers[message.type](environment=master, msg=message)
    channel.sent.clear()


def test_a_stopping_worker_sends_its_last_report_before_it_says_drained() -> None:
    channel = Channel()
    env = worker(channel, "w1")
    for second in range(3):
        request(env, 1000.0 + second)
    env.events.test_stop.fire(environment=env)
    kinds = [message.type for message in channel.sent]
    assert kinds == ["stats", DRAINED_MESSAGE]
    stats, drained = channel.sent
    assert stats.data["locust_requests"] == 3 == len(stats.data[REPORT_KEY])
    assert drained.data[REPORT_KEY] == []  # nothing left once the last report went


def test_the_master_has_every_record_and_locusts_count_when_each_worker_drained() -> None:
    channel = Channel()
    workers = [worker(channel, "w1"), worker(channel, "w2")]
    master = Env(Events(), MasterRunner())
    log = RecordLog()
    collector = MasterCollector(master, log)
    locust_total = 0

    def locust_count(client_id: str, data: dict[str, Any]) -> None:
        nonlocal locust_total
        locust_total += data.get("locust_requests", 0)

    master.events.worker_report.add_listener(locust_count)
    for index, env in enumerate(workers):
        for n in range(index + 2):
            request(env, 1000.0 + n)
    # A periodic report from the first worker, then more requests, then both stop.
    report: dict[str, Any] = {}
    workers[0].events.report_to_master.fire(client_id="w1", data=report)
    workers[0].runner.send_message("stats", report)
    request(workers[0], 1010.0)
    deliver(channel, master)
    assert collector.drained == set()
    for env in workers:
        env.events.test_stop.fire(environment=env)
    deliver(channel, master)
    assert collector.drained == {"w1", "w2"}
    assert len(log) == locust_total == 6
    assert collector.foreign == set() and collector.rejected == 0
