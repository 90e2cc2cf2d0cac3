"""The one SQLAlchemy metadata of Mutualise, and the column types that keep money exact.

Design: every model of every package derives from :class:`Base`. Money is stored losslessly on
both databases: ``NUMERIC(14, 2)`` on PostgreSQL and integer cents on SQLite (whose NUMERIC goes
through float). Timestamps are timezone-aware UTC on both.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, MetaData, Numeric, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ScaledDecimal(TypeDecorator[Decimal]):
    """A Decimal with a fixed number of places, exact on SQLite and PostgreSQL.

    Values with more places than declared are refused rather than silently rounded: rounding
    belongs to the domain, at a named place.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, places: int = 2, precision: int = 14) -> None:
        super().__init__()
        self.places = places
        self.precision = precision
        self._quantum = Decimal(1).scaleb(-places)

    def __repr__(self) -> str:
        return f"ScaledDecimal(places={self.places}, precision={self.precision})"

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.places, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("floats are not stored as money: pass a Decimal")
        value = Decimal(value)
        exact = value.quantize(self._quantum)
        if exact != value:
            raise ValueError(f"{value} has more than {self.places} decimal places")
        if dialect.name == "sqlite":
            return int(exact.scaleb(self.places))
        return exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.places).quantize(self._quantum)
        return Decimal(value).quantize(self._quantum)


def Money() -> ScaledDecimal:
    """Euros and cents."""
    return ScaledDecimal(2, 14)


def Quantity() -> ScaledDecimal:
    """Work-unit quantities and weights, headcounts (three places)."""
    return ScaledDecimal(3, 14)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite forgets the zone)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: use utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {Decimal: Money(), datetime: UTCDateTime()}

    #: Models with ``__audited__ = True`` have every insert, update and delete written to the
    #: audit log automatically (see accounting.audit).
    __audited__ = False


def transaction_lock(session: Any, name: str, *, shared: bool = False) -> None:
    """Hold the lock called ``name`` until the session's transaction ends (PostgreSQL advisory
    lock; SQLite allows one writer at a time and needs none).

    For what no row can be locked for: "the chain of seals", "which periods are closed", "an
    import of work entries is running". ``shared`` holders exclude only the exclusive ones.
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    conn.execute(text(f"SELECT {function}(:key)"), {"key": key})


CounterT = TypeVar("CounterT", bound=Base)


def lock_counter_row(session: Session, model: type[CounterT], **key: Any) -> CounterT:
    """The counter row of ``model`` at ``key`` (its unique columns), created with
    ``last_number`` 0 if missing, locked until the transaction ends.

    Gapless numbering (invoices, journal entries) takes the next number from such a row: the
    insert that does nothing on conflict lets two first writers of a year meet on the same row,
    and ``SELECT … FOR UPDATE`` makes the second wait for the first to commit (PostgreSQL;
    SQLite has one writer at a time). ``populate_existing`` reads the number the first one left,
    not a stale copy from the session.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**key, last_number=0)
    session.execute(statement.on_conflict_do_nothing(index_elements=list(key)))
    return session.scalars(
        select(model)
        .filter_by(**key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
