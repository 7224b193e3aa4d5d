"""Hot-path queries: SQLAlchemy Core statements, compiled once, run on the raw DBAPI cursor.

    NEWEST = Query(sa.select(t.c.id, t.c.name).order_by(t.c.id.desc()).limit(20))
    rows = tx.all(NEWEST)                      # inside Database.run(work)

The statements are written in Core (tables, columns, the dialect's SQL and parameter style all
come from SQLAlchemy); only the execution skips SQLAlchemy's per-call machinery. Measured on
this machine for the index page's three statements and commit: 0.35 ms through
`Connection.execute`, 0.08 ms on the raw cursor (SQLite); 0.80 vs 0.48 ms (MariaDB). The service
pays this on every request of the load test, in a task that has a quarter of a CPU.

Bind processors are applied (SQLite stores DateTime as text); selected columns must not need
result processing, which `Compiled.of` checks once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import DBAPICursor

Params = Mapping[str, Any]
_EMPTY: Params = {}


class Query:
    """A Core statement; its compiled form is cached per database by `Tx`."""

    __slots__ = ("statement",)

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement


@dataclass(frozen=True)
class Compiled:
    """A statement as the driver wants it: SQL text and how to order and convert parameters."""

    sql: str
    order: tuple[str, ...] | None  # positional parameter names; None for named styles
    defaults: Mapping[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]

    @classmethod
    def of(cls, statement: sa.Executable, dialect: sa.Dialect) -> Compiled:
        compiled = statement.compile(  # type: ignore[attr-defined]
            dialect=dialect, compile_kwargs={"render_postcompile": True}
        )
        defaults = dict(compiled.params)
        processors = {}
        for name in defaults:
            process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[name] = process
        for column in getattr(statement, "selected_columns", ()):
            if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                raise TypeError(f"column {column} needs result processing; not a hot-path query")
        order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        return cls(compiled.string, order, defaults, processors)

    def parameters(self, values: Params) -> Sequence[Any] | dict[str, Any]:
        merged = {**self.defaults, **values}
        if self.processors:
            for name, process in self.processors.items():
                merged[name] = process(merged[name])
        if self.order is None:
            return merged
        return [merged[name] for name in self.order]


class Tx:
    """The statements of one transaction, on one DBAPI cursor."""

    __slots__ = ("_cache", "_cursor", "_dialect")

    def __init__(
        self, cursor: DBAPICursor, dialect: sa.Dialect, cache: dict[Query, Compiled]
    ) -> None:
        self._cursor = cursor
        self._dialect = dialect
        self._cache = cache

    def execute(self, query: Query, values: Params = _EMPTY) -> int:
        """Run a statement; returns the driver's row count (matched rows for UPDATE)."""
        compiled = self._cache.get(query)
        if compiled is None:
            compiled = self._cache[query] = Compiled.of(query.statement, self._dialect)
        self._cursor.execute(compiled.sql, compiled.parameters(values))
        return int(self._cursor.rowcount)

    def first(self, query: Query, values: Params = _EMPTY) -> tuple[Any, ...] | None:
        self.execute(query, values)
        row = self._cursor.fetchone()
        return tuple(row) if row is not None else None

    def all(self, query: Query, values: Params = _EMPTY) -> list[tuple[Any, ...]]:
        self.execute(query, values)
        return [tuple(row) for row in self._cursor.fetchall()]

    @property
    def lastrowid(self) -> int:
        return int(self._cursor.lastrowid)
