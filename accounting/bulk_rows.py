"""Writing many rows through the database driver's ``executemany``, inside the session's
transaction: the bulk writes of a FEC import (costs, journal entries and lines, audit events,
seals), as :mod:`imports.timesheets` writes its work entries.

Why not ``connection.execute(insert(table), rows)``: SQLAlchemy then handles every value of
every row on its own (parameter dictionaries compiled per row, each value through its column
type): most of the writing time of a 1 000 000-line import (issue 15). Here each column's
conversion is asked of SQLAlchemy once (``bind_processor``: the same code, so the stored
values are the same) and applied column by column, remembered per distinct value (a file has
a few hundred days, one timestamp). What is traded: no Core insert event fires for these rows
(none is listened to on these tables), and the statement is written here from the table's
columns rather than compiled by SQLAlchemy. Works on SQLite (``?``) and PostgreSQL with
psycopg (``%s``, pipelined by ``executemany``).

Ids are taken before the insert (:func:`reserve_ids`) so that what is written can be sealed
and referred to without reading the rows back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Table, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from accounting.db import ScaledDecimal

_MISSING = object()


def _converter(table: Table, name: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column's own bind conversion (None: the driver takes the value as it is),
    remembered per distinct value unless the values are JSON documents."""
    column = table.c[name]
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    if isinstance(column.type, ScaledDecimal) and dialect.name == "sqlite":
        process = _cents(column.type, process)
    if isinstance(column.type, JSON):  # documents: each its own text, but null is common
        null = process(None)
        return lambda value: null if value is None else process(value)
    memo: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        found = memo.get(value, _MISSING)
        if found is _MISSING:
            found = memo[value] = process(value)
        return found

    return convert


def _cents(money: ScaledDecimal, process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """:meth:`ScaledDecimal.process_bind_param` on SQLite for a ``Decimal`` (the usual value):
    the integer of its cents, a value with more places refused the same way; anything else
    through the type itself. Why: 500 000 amounts in an import, the quantize and compare of
    the type's general path were a second of it."""
    places = money.places

    def cents(value: Any) -> Any:
        if type(value) is Decimal and value.is_finite():
            scaled = value.scaleb(places)
            whole = int(scaled)
            if whole == scaled:
                return whole
        return process(value)  # None, another type, too many places: the type's own answer

    return cents


def insert_rows(
    session: Session, table: Table, names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples of Python values in the order of ``names``) into ``table`` in
    one ``executemany`` of the driver, in the session's transaction."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    columns: list[Any] = list(zip(*rows, strict=True))
    for index, name in enumerate(names):
        convert = _converter(table, name, dialect)
        if convert is not None:
            columns[index] = list(map(convert, columns[index]))
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join([mark] * len(names))})"
    )
    conn.exec_driver_sql(sql, list(zip(*columns, strict=True)))


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` new ids of ``table``'s integer key ``id``, for rows this transaction inserts
    with them. PostgreSQL: taken from the column's sequence (other writers keep theirs).
    SQLite: the ones after the largest (one writer at a time; a writer that slipped in would
    make the insert fail on the key, never share an id)."""
    if count <= 0:
        return []
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            (table.name, count),
        )
        return [row[0] for row in rows]
    quote = conn.dialect.identifier_preparer.quote
    last = conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {quote(table.name)}").scalar()
    return list(range(int(last or 0) + 1, int(last or 0) + 1 + count))


def as_stored(
    table: Table, names: Sequence[str], dialect: Dialect,
    then: Callable[[Any], Any] | None = None,
) -> list[tuple[str, Callable[[Any], Any]]]:  # fmt: skip
    """The columns of ``names`` whose values the database gives back changed once written
    (the column's bind conversion, then its result conversion: money quantized to its cents,
    a date or timestamp read from text, in UTC), each with that change, passed to ``then`` if
    given (its JSON form), remembered per distinct value; what a seal built from inserted
    values must hash (:func:`accounting.seal.seal_contents`). Other columns come back as
    written."""
    found: list[tuple[str, Callable[[Any], Any]]] = []
    for name in names:
        trip = _trip(table.c[name].type, dialect)
        if trip is not None:
            found.append((name, _remembered(trip if then is None else _then(trip, then))))
    return found


def _then(first: Callable[[Any], Any], second: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: second(first(value))


def _trip(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """Written then read back through ``column_type`` (None: the value comes back as is)."""
    if isinstance(column_type, TypeDecorator):  # its own conversions around its stored type
        inner = _trip(column_type.load_dialect_impl(dialect), dialect) or _same
        to_db, from_db = column_type.process_bind_param, column_type.process_result_value
        return lambda value: from_db(inner(to_db(value, dialect)), dialect)
    impl = column_type.dialect_impl(dialect)
    bind = impl.bind_processor(dialect)
    try:
        result = impl.result_processor(dialect, None)
    except (TypeError, InvalidRequestError):  # asks the column's type code: the driver's own
        result = None  # type comes back (psycopg's numeric is a Decimal)
    if bind is None and result is None:
        return None
    return lambda value: (result or _same)((bind or _same)(value))


def _remembered(trip: Callable[[Any], Any]) -> Callable[[Any], Any]:
    memo: dict[Any, Any] = {}

    def stored(value: Any) -> Any:
        found = memo.get(value, _MISSING)
        if found is _MISSING:
            found = memo[value] = None if value is None else trip(value)
        return found

    return stored


def _same(value: Any) -> Any:
    return value
