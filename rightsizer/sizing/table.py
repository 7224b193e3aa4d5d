"""The sizes document as a Rich table for the terminal: one row per size, the chosen one marked.

console.print(sizes_table(document))
"""

from __future__ import annotations

from rich.table import Table

from rightsizer.sizing.sizes_document import SizeRow, SizesDocument

COLUMNS = (
    "size (vCPU/MiB)", "users/task", "knee", "CPU at limit", "memory at limit", "peak memory",
    "tasks", "$/hour", "$/month", "$/1k users/h", "limited by",
)  # fmt: skip


def _num(value: float | None, fmt: str, unit: str = "") -> str:
    return "-" if value is None else f"{value:{fmt}}{unit}"


def size_cells(row: SizeRow, chosen: bool) -> tuple[str, ...]:
    """One row's cells, as the table prints them."""
    m, cost = row.measured, row.cost
    users = (
        "-" if m.users_per_task is None else f"{m.users_per_task}{'' if m.limit_reached else '+'}"
    )
    return (
        f"{'* ' if chosen else ''}{m.size}",
        users,
        _num(m.knee_users, "d"),
        _num(m.cpu_at_limit, ".0f", "%"),
        _num(m.memory_at_limit_mb, ".0f", " MiB"),
        _num(m.peak_memory_mb, ".0f", " MiB") + ("" if row.memory_ok else " (!)"),
        "-" if cost is None else str(cost.tasks),
        "-" if cost is None else f"{cost.hour:,.2f}",
        "-" if cost is None else f"{cost.month:,.0f}",
        "-" if cost is None else f"{cost.per_1000_users_hour:.4f}",
        row.limiter.value,
    )


def sizes_table(document: SizesDocument) -> Table:
    """Every size with its figures and costs for the document's target."""
    table = Table(
        title=f"{document.target_users:,} users, {document.headroom:.0%} headroom",
        caption=f"prices: ${document.prices.vcpu_hour:g} per vCPU-hour, "
        f"${document.prices.gb_hour:g} per GB-hour ({document.prices.source}); "
        "* recommended; + lower bound; (!) peak memory over "
        f"{1 - document.memory_headroom:.0%} of the limit",
    )
    for header in COLUMNS:
        table.add_column(header, justify="left" if header in (COLUMNS[0], COLUMNS[-1]) else "right")
    for row in document.rows:
        table.add_row(*size_cells(row, row.size == document.recommended))
    return table
