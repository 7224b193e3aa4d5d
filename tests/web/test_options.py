"""The web UI's flags: credentials, loopback-only by default, a port that is free."""

from __future__ import annotations

import socket

import pytest

from rightsizer.errors import RefusedError, UsageError
from rightsizer.fleet.ports import LOOPBACK
from rightsizer.web.options import Credentials, WebOptions, is_loopback, redact


def test_credentials_split_at_the_first_colon_and_hide_the_password() -> None:
    credentials = Credentials.parse("ops:pa:ss word")
    assert (credentials.user, credentials.password) == ("ops", "pa:ss word")
    assert "pa:ss" not in repr(credentials)
    assert credentials.matches("ops", "pa:ss word")
    assert not credentials.matches("ops", "pa:ss")
    assert not credentials.matches("Ops", "pa:ss word")


@pytest.mark.parametrize("text", ["nocolon", ":secret", "user:", " :secret", "", ":"])
def test_malformed_credentials_are_usage_errors_that_do_not_echo_them(text: str) -> None:
    with pytest.raises(UsageError, match="--web-auth: give USER:PASSWORD") as caught:
        Credentials.parse(text)
    assert caught.value.exit_code == 2
    assert "secret" not in str(caught.value)


def test_a_user_name_with_spaces_is_refused() -> None:
    with pytest.raises(UsageError, match="user name"):
        Credentials.parse("a b:secret")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_default_binds_loopback_without_a_login() -> None:
    web = WebOptions.build()
    assert (web.host, web.port, web.credentials) == ("127.0.0.1", 8089, None)
    assert web.url == "http://127.0.0.1:8089"
    assert web.as_dict() == {"host": "127.0.0.1", "port": 8089, "login": None}


@pytest.mark.parametrize("host", ["0.0.0.0", "*", "10.1.2.3", "my-host.example"])
def test_beyond_loopback_without_credentials_is_refused(host: str) -> None:
    with pytest.raises(RefusedError, match="--web-auth USER:PASS") as caught:
        WebOptions.build(host=host)
    assert caught.value.exit_code == 2
    assert "\n" not in str(caught.value)


def test_beyond_loopback_with_credentials_is_allowed_and_the_manifest_has_no_password() -> None:
    web = WebOptions.build(host="*", port=9000, auth="ops:secret")
    assert web.host == "0.0.0.0"
    assert web.url == "http://127.0.0.1:9000"
    assert web.as_dict() == {"host": "0.0.0.0", "port": 9000, "login": "ops"}
    assert "secret" not in repr(web)


@pytest.mark.parametrize("port", [0, -1, 65536])
def test_ports_out_of_range(port: int) -> None:
    with pytest.raises(UsageError, match="--web-port"):
        WebOptions.build(port=port)


def test_an_empty_host_is_refused() -> None:
    with pytest.raises(UsageError, match="--web-host"):
        WebOptions.build(host="  ")


def test_a_port_someone_listens_on_is_a_usage_error() -> None:
    with socket.socket() as busy:
        busy.bind((LOOPBACK, 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageError, match=f"--web-port: cannot listen on 127.0.0.1:{port}"):
            WebOptions.build(port=port).check_bindable()
    WebOptions.build(port=port).check_bindable()  # free again


def test_an_unknown_host_name_is_a_usage_error() -> None:
    web = WebOptions.build(host="no-such-host.invalid", auth="a:b")
    with pytest.raises(UsageError, match="--web-host: cannot resolve"):
        web.check_bindable()


def test_redact_hides_the_password_in_both_spellings() -> None:
    argv = ["rightsizer", "run", "--web-auth", "ops:secret", "--web-auth=me:pw", "--web"]
    assert redact(argv) == (
        "rightsizer", "run", "--web-auth", "ops:***", "--web-auth=me:***", "--web",
    )  # fmt: skip
    assert redact(["run", "--web-auth", "nocolon"]) == ("run", "--web-auth", "***")
