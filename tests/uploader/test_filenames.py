"""Client names: refused when they carry paths or invisible characters; harmless in headers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rightsizer.uploader.filenames import (
    BadName,
    check_client_name,
    clean_content_type,
    content_disposition,
    served_content_type,
)


@pytest.mark.parametrize("name", ["test.jpg", "résumé 2024.pdf", "a;b=c.txt", "日本語.png", ".x"])
def test_plain_names_pass_unchanged(name: str) -> None:
    assert check_client_name(name.encode()) == name


@pytest.mark.parametrize(
    "raw",
    [b"", b"../a", b"a/b", b"a\\b", b"/abs", b"C:x", b"..", b".", b"   ", b"a\x00b", b"a\nb",
     b"\x1b[31m", "\u200bzero".encode(), b"x" * 256, b"\xc3"],
)  # fmt: skip
def test_unacceptable_names_are_refused(raw: bytes) -> None:
    with pytest.raises(BadName):
        check_client_name(raw)


def test_content_disposition_example() -> None:
    assert content_disposition("résumé.pdf") == (
        "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
    )


@given(st.text(min_size=0, max_size=300))
def test_content_disposition_can_never_break_the_header(name: str) -> None:
    header = content_disposition(name)
    assert header.isascii()
    assert not any(ch in header for ch in "\r\n\x00")
    assert header.startswith('attachment; filename="')
    fallback = header[len('attachment; filename="') :].split('"', 1)[0]
    assert header.count('"') == 2, "the quoted fallback must hold no quote of its own"
    assert ";" not in fallback and "\\" not in fallback and "/" not in fallback


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"image/jpeg", "image/jpeg"),
        (b"IMAGE/PNG; charset=x", "image/png"),
        (b"text/html\r\nX-Injected: 1", "application/octet-stream"),
        (b"nonsense", "application/octet-stream"),
        (None, "application/octet-stream"),
    ],
)
def test_content_types_are_cleaned(raw: bytes | None, expected: str) -> None:
    assert clean_content_type(raw) == expected


def test_only_harmless_types_are_served_as_themselves() -> None:
    assert served_content_type("image/png") == "image/png"
    assert served_content_type("text/html") == "application/octet-stream"
    assert served_content_type("image/svg+xml") == "application/octet-stream"


def test_content_type_length_has_one_limit() -> None:
    longest = "a" * 63 + "/" + "b" * 63
    assert clean_content_type(longest.encode()) == longest
    lopsided = "a/" + "b" * 125  # one half longer than the other: the total is what counts
    assert clean_content_type(lopsided.encode()) == lopsided
    with pytest.raises(BadName, match="longer than 127 characters"):
        clean_content_type(b"a" * 64 + b"/" + b"b" * 63)
    assert clean_content_type(longest.encode() + b"; charset=" + b"x" * 200) == longest
