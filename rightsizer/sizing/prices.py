"""What a task costs: Fargate's on-demand prices per vCPU-hour and GB-hour, and overrides.

The built-in figures are AWS Fargate's on-demand prices in us-east-1 (N. Virginia), as
published on aws.amazon.com/fargate/pricing and quoted unchanged through 2026 (the ECS pricing
page's own example, read 2026-09-20: $0.000011244 per vCPU-second = $0.04048 an hour):

    Linux/x86   $0.04048 per vCPU-hour   $0.004445 per GB-hour
    Linux/ARM   $0.03238 per vCPU-hour   $0.00356  per GB-hour

They go stale; no network call is made to refresh them. `--price-vcpu-hour` and
`--price-gb-hour` override them, and so does a table in rightsizer.toml (flags win)::

    [prices]
    vcpu_hour = 0.04656    # e.g. another region
    gb_hour = 0.00511

    prices = resolve_prices(Architecture.X86, vcpu_hour=None, gb_hour=None, document=toml)
    prices.task_hour(TaskSize(0.25, 512))     # 0.0123425
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from rightsizer.errors import ConfigError
from rightsizer.sizing.task_size import TaskSize

PRICES_DATE = "2026-09"
PRICES_REGION = "us-east-1"
PRICES_TABLE = "prices"
# The largest figure taken as a price per hour: beyond it the value was surely not meant.
MAX_PRICE = 100.0


class Architecture(Enum):
    """The CPU architecture the tasks run on (Fargate prices ARM lower)."""

    X86 = "x86"
    ARM = "arm"


@dataclass(frozen=True)
class Prices:
    """Dollars per vCPU-hour and per GB-hour; `source` says where each came from."""

    vcpu_hour: float
    gb_hour: float
    source: str

    def task_hour(self, size: TaskSize) -> float:
        """Dollars an hour for one task of `size` (Fargate bills the reservation, not use)."""
        return size.cpu * self.vcpu_hour + size.memory_gb * self.gb_hour

    def to_json(self) -> dict[str, Any]:
        return {"vcpu_hour": self.vcpu_hour, "gb_hour": self.gb_hour, "source": self.source}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Prices:
        return cls(float(raw["vcpu_hour"]), float(raw["gb_hour"]), str(raw["source"]))


BUILT_IN: Mapping[Architecture, tuple[float, float]] = {
    Architecture.X86: (0.04048, 0.004445),
    Architecture.ARM: (0.03238, 0.00356),
}


def built_in_label(architecture: Architecture) -> str:
    """`Fargate on-demand, Linux/x86, us-east-1, as of 2026-09`."""
    return f"Fargate on-demand, Linux/{architecture.value}, {PRICES_REGION}, as of {PRICES_DATE}"


def check_price(value: Any, key: str) -> float:
    """A price per hour: a number above 0 and at most MAX_PRICE; ConfigError naming `key`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, f"expected dollars per hour as a number, got {value!r}")
    price = float(value)
    if not 0 < price <= MAX_PRICE:
        raise ConfigError(key, f"expected dollars per hour above 0, e.g. 0.04048, got {price:g}")
    return price


def price_table(document: Mapping[str, Any], label: str) -> dict[str, float]:
    """The `[prices]` table of a rightsizer.toml document (`vcpu_hour`, `gb_hour`), checked."""
    table = document.get(PRICES_TABLE)
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise ConfigError(f"{label}: {PRICES_TABLE}", "expected a table: [prices]")
    unknown = sorted(set(table) - {"vcpu_hour", "gb_hour"})
    if unknown:
        raise ConfigError(
            f"{label}: {PRICES_TABLE}.{unknown[0]}", "unknown key; known: vcpu_hour, gb_hour"
        )
    return {
        key: check_price(value, f"{label}: {PRICES_TABLE}.{key}") for key, value in table.items()
    }


def resolve_prices(
    architecture: Architecture,
    *,
    vcpu_hour: float | None,
    gb_hour: float | None,
    document: Mapping[str, Any] | None = None,
    label: str = "rightsizer.toml",
) -> Prices:
    """Each price from the flag, else the `[prices]` table, else the built-in figure."""
    table = price_table(document or {}, label)
    builtin_vcpu, builtin_gb = BUILT_IN[architecture]
    chosen: list[tuple[float, str]] = []
    for flag, key, builtin in (
        (vcpu_hour, "vcpu_hour", builtin_vcpu),
        (gb_hour, "gb_hour", builtin_gb),
    ):
        name = "--price-" + key.replace("_", "-")
        if flag is not None:
            chosen.append((check_price(flag, name), name))
        elif key in table:
            chosen.append((table[key], f"{label} [{PRICES_TABLE}]"))
        else:
            chosen.append((builtin, built_in_label(architecture)))
    (vcpu, vcpu_from), (gb, gb_from) = chosen
    source = (
        vcpu_from if vcpu_from == gb_from else f"vCPU-hour from {vcpu_from}; GB-hour from {gb_from}"
    )
    return Prices(vcpu, gb, source)
