"""Task sizes and Fargate's valid pairs (the table in AWS's "invalid CPU or memory" page)."""

from __future__ import annotations

import re

import pytest

from rightsizer.errors import ConfigError, UsageError
from rightsizer.sizing.task_size import (
    Platform,
    TaskSize,
    check_size,
    fargate_memory_choices,
    parse_sizes,
)

# AWS's table, written out by hand: vCPU -> (lowest MiB, highest MiB, step MiB, count).
AWS_TABLE = {
    0.25: [512, 1024, 2048],
    0.5: [1024, 2048, 3072, 4096],
    1: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
    2: list(range(4096, 16384 + 1, 1024)),
    4: list(range(8192, 30720 + 1, 1024)),
    8: list(range(16384, 61440 + 1, 4096)),
    16: list(range(32768, 122880 + 1, 8192)),
}


@pytest.mark.parametrize("cpu", list(AWS_TABLE))
def test_every_valid_pair_matches_aws_table(cpu: float) -> None:
    assert list(fargate_memory_choices(cpu)) == AWS_TABLE[cpu]
    for memory in AWS_TABLE[cpu]:
        assert check_size(TaskSize(cpu, memory), Platform.FARGATE) == TaskSize(cpu, memory)


def test_known_counts_and_ends() -> None:
    assert len(fargate_memory_choices(2)) == 13
    assert len(fargate_memory_choices(8)) == 12  # 16, 20, ..., 60 GiB
    assert fargate_memory_choices(16)[-1] == 120 * 1024
    assert fargate_memory_choices(3) == ()


def test_parse_sizes_sorted_and_checked() -> None:
    sizes = parse_sizes("1/2048, 0.25/512,0.5/1024", Platform.FARGATE)
    assert sizes == (TaskSize(0.25, 512), TaskSize(0.5, 1024), TaskSize(1.0, 2048))
    assert [str(s) for s in sizes] == ["0.25/512", "0.5/1024", "1/2048"]
    assert sizes[0].cpu_units == 256
    assert sizes[2].memory_gb == 2.0


def test_invalid_memory_names_the_valid_values_in_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_sizes("0.25/768", Platform.FARGATE)
    message = str(caught.value)
    assert message.startswith("--sizes: 0.25/768")
    assert "512, 1024 or 2048" in message
    assert "\n" not in message
    assert isinstance(caught.value, UsageError)  # exit code 2


def test_invalid_memory_of_a_range_names_its_bounds_and_step() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_sizes("0.5/512", Platform.FARGATE)
    assert "1024-4096 in steps of 1024" in str(caught.value)
    with pytest.raises(ConfigError, match="16384-61440 in steps of 4096"):
        parse_sizes("8/17408", Platform.FARGATE)


def test_a_cpu_fargate_does_not_offer_is_refused() -> None:
    refused = re.escape("no 0.75 vCPU task; give one of 0.25, 0.5, 1,")
    with pytest.raises(ConfigError, match=refused):
        parse_sizes("0.75/1024", Platform.FARGATE)


def test_kubernetes_lifts_the_check() -> None:
    assert parse_sizes("0.75/768", Platform.KUBERNETES) == (TaskSize(0.75, 768),)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "at least one size"),
        ("0.25", "vCPU/MiB"),
        ("a/512", "with numbers"),
        ("0.25/512.5", "with numbers"),
        ("nan/512", "finite"),
        ("0/512", "positive"),
        ("0.25/512,0.25/512", "given twice"),
    ],
)
def test_bad_sizes_are_one_line_errors(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_sizes(text, Platform.KUBERNETES if text == "0/512" else Platform.FARGATE)


def test_json_round_trip() -> None:
    size = TaskSize(0.5, 2048)
    assert TaskSize.from_json(size.to_json()) == size
