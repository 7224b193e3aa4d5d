"""Lockouts after failed logins, per client, on a clock the test turns."""

from __future__ import annotations

from rightsizer.web.throttle import LoginThrottle, client_key, retry_header


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_failure_locks_the_client_twice_as_long_up_to_the_most() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, first_lock=1.0, max_lock=8.0)
    assert throttle.retry_after("192.0.2.7") is None
    waits = []
    for _ in range(6):
        throttle.failed("192.0.2.7")
        waits.append(throttle.retry_after("192.0.2.7"))
        clock.now += waits[-1] or 0.0
        assert throttle.retry_after("192.0.2.7") is None  # the lock is over
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_parallel_guesses_from_one_client_are_refused_others_are_not() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    throttle.failed("192.0.2.7")
    assert [throttle.retry_after("192.0.2.7") for _ in range(50)] == [1.0] * 50
    assert throttle.refused == 50
    assert throttle.retry_after("192.0.2.8") is None


def test_a_success_or_a_long_quiet_forgets_the_failures() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, forget_after=600.0)
    for _ in range(3):
        throttle.failed("192.0.2.7")
    throttle.succeeded("192.0.2.7")
    assert throttle.retry_after("192.0.2.7") is None and len(throttle) == 0
    for _ in range(3):
        throttle.failed("192.0.2.7")
    clock.now += 4.0 + 600.0
    throttle.failed("192.0.2.7")
    assert throttle.retry_after("192.0.2.7") == 1.0  # counted from one again


def test_the_table_is_bounded() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock, capacity=100)
    for n in range(1000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(throttle) == 100
    assert throttle.retry_after("10.0.3.231") is not None  # the latest are kept
    assert throttle.retry_after("10.0.0.0") is None


def test_clients_are_addresses_and_ipv6_slash_64s() -> None:
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff:2") == "2001:db8::/64"
    assert client_key("2001:db8:0:1::1") != client_key("2001:db8::1")
    assert client_key(None) == client_key("") == "?"


def test_retry_after_is_whole_seconds() -> None:
    assert [retry_header(w) for w in (0.01, 1.0, 1.2, 59.9)] == ["1", "1", "2", "60"]
