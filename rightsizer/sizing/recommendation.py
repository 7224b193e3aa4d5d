"""Which size to deploy, and what limits each: the cheapest size that meets the SLO with
memory headroom, by dollars per 1,000 users per hour.

What limits a size, in order:
1. memory: its peak memory reached MEMORY_FULL_SHARE of the limit;
2. CPU: its CPU at the limit reached CPU_BUSY_PCT of the reservation;
3. this machine or the load generator, when the run's bottleneck rule says so: then its users
   per task is a floor, and neither it nor a size compared with it says anything about scaling;
4. a part that does not scale with the task (the database, say): users per task grew less than
   half as much as the vCPU did from the next smaller size measured, whose limit was reached
   (doubling the CPU bought less than 1.5 x the users), or the run's bottleneck was a shared
   part;
5. otherwise what the run's own bottleneck rule named (CPU or memory from its figures at the
   first bad step).

A size qualifies when it carried users within the SLO and its peak memory stayed within
(1 - memory headroom) of its limit; the cheapest per 1,000 users wins (ties: the smaller).

    limits = limiters(measurements)            # [(Limiter.CPU, "CPU 88% of 0.25 vCPU ..."), ...]
    qualifies(measurements[0], memory_headroom=0.3)
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from rightsizer.analysis.bottleneck import CPU_BUSY_PCT, Part
from rightsizer.sizing.measurement import SizeMeasurement

MEMORY_FULL_SHARE = 0.9
# Users per task must grow by at least this share of the vCPU's growth to count as scaling.
SCALING_SHARE = 0.5


class Limiter(Enum):
    """What stops a size from carrying more users; the value reads as a noun phrase."""

    MEMORY = "memory"
    CPU = "CPU"
    SHARED = "a part that does not scale with the task"
    RIG = "this machine or the load generator"
    NOT_REACHED = "nothing reached yet"
    UNKNOWN = "unknown"


_SHARED_PARTS = {Part.DATABASE.value, Part.LOAD_BALANCER.value}
_RIG_PARTS = {Part.GENERATOR.value, Part.MACHINE.value}


def limiter(measured: SizeMeasurement, smaller: SizeMeasurement | None) -> tuple[Limiter, str]:
    """What limits `measured`, and the figures that say so; `smaller` is the next smaller
    measured size (by vCPU) or None."""
    size = measured.size
    peak = measured.peak_memory_mb
    if peak is not None and peak >= MEMORY_FULL_SHARE * size.memory_mb:
        return Limiter.MEMORY, f"peak memory {peak:.0f} of {size.memory_mb} MiB"
    if measured.users_per_task is None:
        return Limiter.UNKNOWN, "no users per task measured"
    cpu = measured.cpu_at_limit
    if cpu is not None and cpu >= CPU_BUSY_PCT:
        return Limiter.CPU, f"CPU {cpu:.0f}% of {size.cpu:g} vCPU at the limit"
    if measured.bottleneck in _RIG_PARTS:  # its users are a floor; compare nothing with them
        return Limiter.RIG, _said(measured) + "; its users per task is only a floor"
    return _not_scaling(measured, smaller) or _named(measured)


def _said(measured: SizeMeasurement) -> str:
    return f"{measured.bottleneck}: " + "; ".join(measured.bottleneck_evidence)


def _not_scaling(
    measured: SizeMeasurement, smaller: SizeMeasurement | None
) -> tuple[Limiter, str] | None:
    """SHARED when users per task grew less than SCALING_SHARE of the vCPU's growth."""
    users = measured.users_per_task
    if smaller is None or not smaller.users_per_task or users is None:
        return None
    if not smaller.limit_reached or smaller.bottleneck in _RIG_PARTS:
        return None  # a floor below says nothing about growth
    cpu_ratio = measured.size.cpu / smaller.size.cpu
    users_ratio = users / smaller.users_per_task
    if cpu_ratio <= 1 or users_ratio - 1 >= SCALING_SHARE * (cpu_ratio - 1):
        return None
    cpu = measured.cpu_at_limit
    at_limit = f"; CPU {cpu:.0f}% at the limit" if cpu is not None else ""
    return Limiter.SHARED, (
        f"{cpu_ratio:g} x the vCPU of {smaller.size} gave {users_ratio:.2f} x the users per "
        f"task ({smaller.users_per_task} -> {users}){at_limit}: something shared (e.g. the "
        "database) sets it"
    )


def _named(measured: SizeMeasurement) -> tuple[Limiter, str]:
    """What the run's own bottleneck rule named."""
    said = _said(measured)
    if measured.bottleneck == Part.TASK_CPU.value:
        return Limiter.CPU, said
    if measured.bottleneck == Part.TASK_MEMORY.value:
        return Limiter.MEMORY, said
    if measured.bottleneck in _SHARED_PARTS:
        return Limiter.SHARED, said
    if not measured.limit_reached or measured.bottleneck == Part.NOTHING_YET.value:
        return Limiter.NOT_REACHED, "the SLO held at every step: users per task is a lower bound"
    return Limiter.UNKNOWN, said


def limiters(measurements: Sequence[SizeMeasurement]) -> list[tuple[Limiter, str]]:
    """`limiter` of each measurement (in the given order), each against the next smaller
    size by vCPU that measured users per task."""
    found = []
    for measured in measurements:
        below = [
            m for m in measurements
            if m.size.cpu < measured.size.cpu and m.users_per_task
        ]  # fmt: skip
        smaller = max(below, key=lambda m: (m.size.cpu, m.size.memory_mb), default=None)
        found.append(limiter(measured, smaller))
    return found


def memory_fits(measured: SizeMeasurement, memory_headroom: float) -> bool:
    """The peak memory stayed within (1 - memory_headroom) of the limit (unknown: False)."""
    peak = measured.peak_memory_mb
    return peak is not None and peak <= (1 - memory_headroom) * measured.size.memory_mb


def qualifies(measured: SizeMeasurement, memory_headroom: float) -> bool:
    """Met the SLO with users (>= 1 per task) and kept its memory headroom."""
    return bool(measured.users_per_task) and memory_fits(measured, memory_headroom)
