"""Password guessing against `--web-auth` on Locust's real web UI: each failure locks the
guessing client out for longer, and a locked-out client gets 429 without its guess being
checked, however many it sends at once. (The lockout's lengths, the login form and other
clients are covered on a test clock in tests/web/test_auth.py.)"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.web import conftest as web
from tests.web.conftest import WebRun, poll_until

pytestmark = [pytest.mark.slow]
start_run, target = web.start_run, web.target  # the fixtures
RIGHT, WRONG = ("ops", "s3cret-pw"), ("ops", "guess")
MOST_TRIES = 12  # lockouts double from 1 s: a 429 comes long before, however slow the machine


def test_guessing_is_locked_out_and_the_operator_gets_back_in(
    start_run: Callable[..., WebRun], target: str
) -> None:
    run = start_run("--host", target, "--cooldown", "0", "--web-auth", ":".join(RIGHT))
    base = run.serving().base + "/rightsizer/stats"

    statuses: list[int] = []
    while 429 not in statuses and len(statuses) < MOST_TRIES:
        statuses.append(httpx.get(base, auth=WRONG).status_code)
    assert statuses[0] == 401 and statuses[-1] == 429, statuses
    assert set(statuses) == {401, 429}

    with ThreadPoolExecutor(8) as pool:  # parallel guesses: one checked at most, not eight
        burst = list(pool.map(lambda _: httpx.get(base, auth=WRONG), range(8)))
    assert sum(reply.status_code == 401 for reply in burst) <= 1
    locked = next(reply for reply in burst if reply.status_code == 429)
    assert int(locked.headers["Retry-After"]) >= 1

    poll_until(  # the lockout ends; the right password gets in, and resets the count
        lambda: httpx.get(base, auth=RIGHT).status_code,
        lambda status: status == 200,
        150,
        "the right password accepted after the lockout",
    )
    assert httpx.get(base, auth=WRONG).status_code == 401
