"""The cross-site guard's rules, request by request (no server)."""

from __future__ import annotations

import pytest

from rightsizer.web.guard import (
    OTHER_SITE,
    WRONG_HOST,
    HostRule,
    changes_state,
    cross_site_refusal,
    host_name,
)

LOCAL = HostRule.bound_to("127.0.0.1", login=False)
HOST = "127.0.0.1:8089"


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("127.0.0.1:8089", "127.0.0.1"),
        ("LocalHost", "localhost"),
        ("[::1]:8089", "::1"),
        ("[::1]", "::1"),
        ("evil.example:80", "evil.example"),
        ("::1", None),
        ("[::1", None),
        ("[::1]x", None),
        ("localhost:", None),
        ("localhost:80x", None),
        ("", None),
    ],
)
def test_host_names(host: str, name: str | None) -> None:
    assert host_name(host) == name


def test_a_loopback_bind_accepts_the_loopback_names_on_any_port() -> None:
    for host in ("127.0.0.1:8089", "localhost:9000", "[::1]:8089", "localhost"):
        assert LOCAL.allows(host), host
    for host in ("evil.example:8089", "127.0.0.1.nip.io:8089", "127.0.0.2:8089", "[::1"):
        assert not LOCAL.allows(host), host


def test_a_named_bind_adds_its_own_name() -> None:
    rule = HostRule.bound_to("[::1]", login=False)
    assert rule.allows("[::1]:8089") and rule.allows("127.0.0.1:8089")
    lan = HostRule.bound_to("192.0.2.7", login=True)
    assert lan.allows("192.0.2.7:8089") and not lan.allows("ops.example:8089")


def test_every_interface_accepts_any_name_only_behind_a_login() -> None:
    for wildcard in ("0.0.0.0", "::", "[::]"):
        assert HostRule.bound_to(wildcard, login=True).allows("ops.example:8089")
        assert not HostRule.bound_to(wildcard, login=False).allows("ops.example:8089")


def test_what_changes_state() -> None:
    assert changes_state("POST", "/anything") and changes_state("DELETE", "/")
    for path in ("/swarm", "/stop", "/stats/reset", "/user", "/stop/"):
        assert changes_state("GET", path), path  # older Locust versions: GET /stop
    assert not changes_state("GET", "/stats/requests") and not changes_state("HEAD", "/")


@pytest.mark.parametrize(
    ("method", "path", "headers", "refusal"),
    [
        ("POST", "/swarm", {}, None),  # a script: no browser made it
        ("POST", "/swarm", {"Sec-Fetch-Site": "same-origin", "Origin": f"http://{HOST}"}, None),
        ("POST", "/swarm", {"Origin": f"https://{HOST}"}, None),  # behind a TLS proxy
        ("POST", "/swarm", {"Sec-Fetch-Site": "cross-site"}, OTHER_SITE),
        ("POST", "/swarm", {"Sec-Fetch-Site": "same-site"}, OTHER_SITE),
        ("POST", "/swarm", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},
         OTHER_SITE),
        ("GET", "/stop", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},
         OTHER_SITE),
        ("PUT", "/stop", {"Origin": "http://evil.example"}, OTHER_SITE),
        ("POST", "/stop", {"Origin": "http://localhost:3000"}, OTHER_SITE),
        ("POST", "/stop", {"Origin": "null"}, OTHER_SITE),
        ("POST", "/stop", {"Origin": "http://[::1"}, OTHER_SITE),
        ("GET", "/stats/requests", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"},
         OTHER_SITE),
        ("GET", "/stats/requests", {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors"},
         OTHER_SITE),
        ("GET", "/", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, None),
        ("GET", "/stats/requests", {"Origin": "http://evil.example"}, None),  # unreadable: no CORS
        ("GET", "/", {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"}, None),
    ],
)  # fmt: skip
def test_requests(method: str, path: str, headers: dict[str, str], refusal: str | None) -> None:
    assert cross_site_refusal(method, path, HOST, headers, LOCAL) == refusal


def test_the_host_comes_first() -> None:
    own = {"Sec-Fetch-Site": "same-origin", "Origin": "http://evil.example:8089"}
    assert cross_site_refusal("POST", "/swarm", "evil.example:8089", own, LOCAL) == WRONG_HOST
    assert cross_site_refusal("GET", "/", "evil.example:8089", {}, LOCAL) == WRONG_HOST
