"""Fast bulk inserts for generated data (the large benchmark dataset: 1 000 000 work entries).

Design: rows go to the driver directly — ``executemany`` on SQLite, ``COPY`` on PostgreSQL —
after each value is converted once by its column type's own bind processor (money as integer
cents on SQLite, dates as ISO text...), so the stored values are exactly what the ORM would
store. Columns the caller leaves out get their Python-side default (computed once for the
whole batch: ``created_at`` is the same instant for every generated row) or are left to the
database. These inserts bypass the audit hook on purpose: the caller records one summary event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import Any

from sqlalchemy import Connection, Table

CHUNK = 20_000
#: SQLite page cache during a bulk insert, in KiB.
CACHE_KIB = 512 * 1024


def _default_value(column: Any) -> tuple[bool, Any]:
    """(True, value) when the column has a Python-side default we can compute once."""
    default = column.default
    if default is None:
        return False, None
    if default.is_scalar:
        return True, default.arg
    if default.is_callable:
        try:
            return True, default.arg(None)
        except TypeError:
            return True, default.arg()
    return False, None


class Preparer:
    """Converts Python values to what the driver stores, per column, with a small cache for
    columns whose values repeat (days, member ids...)."""

    def __init__(self, connection: Connection, table: Table) -> None:
        self.dialect = connection.dialect
        self.table = table
        self._processors: dict[str, Callable[[Any], Any] | None] = {}

    def processor(self, name: str) -> Callable[[Any], Any] | None:
        if name not in self._processors:
            column = self.table.c[name]
            self._processors[name] = column.type.dialect_impl(self.dialect).bind_processor(
                self.dialect
            )
        return self._processors[name]

    def __call__(self, name: str, value: Any) -> Any:
        process = self.processor(name)
        return value if process is None or value is None else process(value)


def bulk_insert(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    prepared: Iterable[str] = (),
    large: bool = False,
) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``) and return how many were written.

    Values of the columns named in ``prepared`` are already in driver form (see
    :class:`Preparer`); the others are converted here. ``large`` (hundreds of thousands of
    rows): on SQLite the table's plain indexes are dropped and rebuilt after the insert, in the
    same transaction (a sorted build is faster than growing them row by row).
    """
    prepare = Preparer(connection, table)
    prepared = set(prepared)
    extra_names: list[str] = []
    extra_values: list[Any] = []
    for column in table.columns:
        if column.name in columns or column.primary_key:
            continue
        known, value = _default_value(column)
        if known:
            extra_names.append(column.name)
            extra_values.append(prepare(column.name, value))
    names = [*columns, *extra_names]
    processors = [None if name in prepared else prepare.processor(name) for name in columns]
    needs_processing = any(p is not None for p in processors)
    extra = tuple(extra_values)

    def convert(row: Sequence[Any]) -> tuple[Any, ...]:
        if not needs_processing:
            return (*row, *extra)
        return (
            *(
                value if process is None or value is None else process(value)
                for process, value in zip(processors, row, strict=True)
            ),
            *extra,
        )

    iterator = iter(rows)
    written = 0
    if connection.dialect.name == "postgresql":
        # The first row is made before COPY starts: a generator that queries the database when
        # it starts (the demo's reference lookups) would otherwise wait forever on a connection
        # busy with the COPY.
        first = next(iterator, None)
        if first is None:
            return 0
        iterator = chain([first], iterator)
        raw = connection.connection.driver_connection
        column_list = ", ".join(f'"{name}"' for name in names)
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy,
        ):
            for row in iterator:
                copy.write_row(convert(row))
                written += 1
        return written
    # A large page cache keeps the table's indexes in memory while they grow (SQLite's default
    # of 2 MB makes every insert into a random place of an index a read from disk).
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{CACHE_KIB}")
    rebuilt = [index for index in table.indexes if not index.unique] if large else []
    try:
        for index in rebuilt:
            index.drop(connection, checkfirst=True)
        written = _sqlite_insert(connection, table.name, names, iterator, convert)
        for index in rebuilt:
            index.create(connection)
        return written
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


def _sqlite_insert(
    connection: Connection,
    table_name: str,
    names: Sequence[str],
    iterator: Iterator[Sequence[Any]],
    convert: Callable[[Sequence[Any]], tuple[Any, ...]],
) -> int:
    written = 0
    placeholders = ", ".join("?" for _ in names)
    column_list = ", ".join(f'"{name}"' for name in names)
    statement = f'INSERT INTO "{table_name}" ({column_list}) VALUES ({placeholders})'
    while True:
        chunk = [convert(row) for row in islice(iterator, CHUNK)]
        if not chunk:
            return written
        connection.exec_driver_sql(statement, chunk)
        written += len(chunk)
