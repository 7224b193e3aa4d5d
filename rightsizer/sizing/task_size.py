"""A task size (vCPU, MiB), the `--sizes` list, and Fargate's valid CPU/memory pairs.

Fargate takes only some pairs (AWS, "Amazon ECS task definition invalid CPU or memory errors"
and the TaskDefinition `memory` field, read 2026-12): 0.25 vCPU with 512, 1024 or 2048 MiB;
0.5 vCPU with 1-4 GiB and 1 vCPU with 2-8 GiB, both in 1 GiB steps; 2 vCPU with 4-16 GiB and
4 vCPU with 8-30 GiB in 1 GiB steps; 8 vCPU with 16-60 GiB in 4 GiB steps; 16 vCPU with
32-120 GiB in 8 GiB steps. Kubernetes takes any pair (`Platform.KUBERNETES` lifts the check).

    sizes = parse_sizes("0.25/512,0.5/1024,1/2048", Platform.FARGATE)
    fargate_memory_choices(0.5)       # (1024, 2048, 3072, 4096)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from rightsizer.errors import ConfigError

GIB = 1024


class Platform(Enum):
    """Where the size is deployed: FARGATE checks the pair; KUBERNETES takes any."""

    FARGATE = "fargate"
    KUBERNETES = "kubernetes"


def _range(low_gib: int, high_gib: int, step_gib: int) -> tuple[int, ...]:
    return tuple(range(low_gib * GIB, high_gib * GIB + 1, step_gib * GIB))


# vCPU -> the memory (MiB) Fargate accepts with it.
FARGATE_PAIRS: Mapping[float, tuple[int, ...]] = {
    0.25: (512, 1024, 2048),
    0.5: _range(1, 4, 1),
    1.0: _range(2, 8, 1),
    2.0: _range(4, 16, 1),
    4.0: _range(8, 30, 1),
    8.0: _range(16, 60, 4),
    16.0: _range(32, 120, 8),
}


@dataclass(frozen=True, order=True)
class TaskSize:
    """A task's caps: `cpu` in vCPU, `memory_mb` in MiB. Written `0.25/512`."""

    cpu: float
    memory_mb: int

    def __str__(self) -> str:
        return f"{self.cpu:g}/{self.memory_mb}"

    @property
    def cpu_units(self) -> int:
        """ECS's CPU units (1024 a vCPU), as a task definition's `cpu` takes them."""
        return round(self.cpu * 1024)

    @property
    def memory_gb(self) -> float:
        """Memory in GB as AWS bills it (1 GB = 1024 MiB)."""
        return self.memory_mb / GIB

    def to_json(self) -> dict[str, Any]:
        return {"cpu": self.cpu, "memory_mb": self.memory_mb}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> TaskSize:
        return cls(float(raw["cpu"]), int(raw["memory_mb"]))


def _gib(mib: int) -> str:
    return f"{mib // GIB}" if mib % GIB == 0 else f"{mib / GIB:g}"


def _memory_list(choices: tuple[int, ...]) -> str:
    """`512, 1024 or 2048`, or a range `1024-4096 in steps of 1024` for long lists."""
    if len(choices) <= 3:
        return ", ".join(str(c) for c in choices[:-1]) + f" or {choices[-1]}"
    step = choices[1] - choices[0]
    return f"{choices[0]}-{choices[-1]} in steps of {step} ({_gib(step)} GiB)"


def fargate_memory_choices(cpu: float) -> tuple[int, ...]:
    """The memory values (MiB) Fargate accepts with `cpu`; () when `cpu` is not Fargate's."""
    return FARGATE_PAIRS.get(float(cpu), ())


def check_size(size: TaskSize, platform: Platform, key: str = "--sizes") -> TaskSize:
    """`size` when `platform` can run it; ConfigError naming the valid values otherwise."""
    if size.cpu <= 0 or size.memory_mb <= 0:
        raise ConfigError(key, f"{size}: give a positive vCPU and MiB, e.g. 0.25/512")
    if platform is Platform.KUBERNETES:
        return size
    choices = fargate_memory_choices(size.cpu)
    if not choices:
        cpus = ", ".join(f"{c:g}" for c in FARGATE_PAIRS)
        raise ConfigError(
            key,
            f"{size}: Fargate has no {size.cpu:g} vCPU task; give one of {cpus} vCPU "
            "(or --platform kubernetes)",
        )
    if size.memory_mb not in choices:
        raise ConfigError(
            key,
            f"{size}: Fargate's {size.cpu:g} vCPU task takes {_memory_list(choices)} MiB "
            "(or --platform kubernetes)",
        )
    return size


def parse_size(text: str, platform: Platform, key: str = "--sizes") -> TaskSize:
    """`0.25/512` -> TaskSize(0.25, 512), checked for `platform`."""
    cpu_text, slash, memory_text = text.strip().partition("/")
    if not slash:
        raise ConfigError(key, f"{text.strip()!r}: write each size as vCPU/MiB, e.g. 0.25/512")
    try:
        cpu = float(cpu_text)
        memory = int(memory_text)
    except ValueError:
        raise ConfigError(
            key, f"{text.strip()!r}: write each size as vCPU/MiB with numbers, e.g. 0.5/1024"
        ) from None
    if not math.isfinite(cpu):
        raise ConfigError(key, f"{text.strip()!r}: give a finite vCPU, e.g. 0.25/512")
    return check_size(TaskSize(cpu, memory), platform, key)


def parse_sizes(text: str, platform: Platform, key: str = "--sizes") -> tuple[TaskSize, ...]:
    """Comma-separated sizes, each checked; smallest first, no repeats."""
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise ConfigError(key, "give at least one size, e.g. 0.25/512,0.5/1024")
    sizes = [parse_size(part, platform, key) for part in parts]
    repeated = sorted({str(s) for s in sizes if sizes.count(s) > 1})
    if repeated:
        raise ConfigError(key, f"{repeated[0]} is given twice; give each size once")
    return tuple(sorted(sizes))
