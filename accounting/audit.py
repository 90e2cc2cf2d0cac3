"""The audit log: who changed what, when, with the values before and after.

Design: models that set ``__audited__ = True`` are audited automatically by a session hook
(:func:`install_audit`), so no code path can forget it: every insert, update and delete flushed
through the ORM writes one :class:`AuditEvent` in the same transaction (a rollback removes both).
The actor is read from ``session.info["actor_id"]`` / ``session.info["actor_label"]``, set by the
web layer per request and by the CLI. Business acts that are not a row change (approve a run,
issue an invoice, log in) call :func:`record_audit` explicitly. Bulk inserts through Core (demo
generator, imports) bypass the hook and record one summary event instead.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, Optional

from sqlalchemy import JSON, ForeignKey, Index, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import NO_VALUE

from accounting.bulk_rows import insert_rows
from accounting.db import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The actor as shown to people: an email, or "cli", or "système".
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    #: create, update, delete, or a business verb (approve, issue, close, login, import...).
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[Optional[str]] = mapped_column(String(50))
    before: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    after: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_at", "at"),
    )


_PLAIN = frozenset({str, int, bool, type(None)})


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of a column value (Decimals as exact strings)."""
    if type(value) in _PLAIN:  # most values: first and cheap (sealing 1 000 invoices calls
        return value  # this 160 000 times); the exact type, so str enums still go below
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    """The current column values of a mapped object."""
    exclude = getattr(obj, "__audit_exclude__", frozenset())
    mapper = inspect(obj).mapper
    return {
        attr.key: jsonable(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in exclude
    }


def snapshot_values(model: type[Any], row: dict[str, Any]) -> dict[str, Any]:
    """What :func:`snapshot` gives for an object of ``model`` holding ``row`` (a complete row
    inserted through Core), so that a bulk insert audits exactly what the hook would."""
    plain = _PLAIN  # most values: kept as they are, without a call (an import snapshots
    return {  # 100 000 rows of twenty columns)
        key: value if type(value := row[key]) in plain else jsonable(value)
        for key in _snapshot_keys(model)
    }


@cache
def _snapshot_keys(model: type[Any]) -> tuple[str, ...]:
    """The attributes :func:`snapshot` keeps for ``model``, in its order (asked of the mapper
    once, not once per row)."""
    exclude = getattr(model, "__audit_exclude__", frozenset())
    return tuple(attr.key for attr in inspect(model).column_attrs if attr.key not in exclude)


def _actor(session: Session) -> tuple[int | None, str]:
    """The acting user: ``session.info["actor"]`` is a callable (read at flush time, so a web
    session created before login still names the right user) or ``actor_id``/``actor_label``."""
    actor = session.info.get("actor")
    if callable(actor):
        return actor()
    return session.info.get("actor_id"), session.info.get("actor_label", "système")


def actor_label(session: Session) -> str:
    """Who is acting on ``session``, as shown to people (an e-mail, « cli », « système »)."""
    return _actor(session)[1] or "système"


def record_audit(
    session: Session,
    action: str,
    object_type: str,
    object_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write a business event (not a row change) to the audit log, in the current transaction."""
    actor_id, actor_label = _actor(session)
    session.add(
        AuditEvent(
            actor_id=actor_id,
            actor_label=actor_label,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            before=jsonable(before),
            after=jsonable(after),
        )
    )


def record_audits(
    session: Session, action: str, object_type: str, events: Iterable[tuple[Any, dict[str, Any]]],
    *, plain: bool = False,
) -> None:  # fmt: skip
    """:func:`record_audit` of many ``(object_id, after)`` events of one act, in one
    ``executemany`` of the driver (why: ORM objects are inserted one row at a time on SQLite,
    and an act on 1 000 documents writes 1 000 events; :mod:`accounting.bulk_rows`).
    ``plain``: the ``after`` documents hold only JSON values already (not copied again)."""
    actor_id, actor_label = _actor(session)
    now = utcnow()
    rows = [
        (now, actor_id, actor_label, action, object_type, None if oid is None else str(oid),
         None, after if plain else jsonable(after))
        for oid, after in events
    ]  # fmt: skip
    insert_rows(session, AuditEvent.__table__, _AUDIT_COLUMNS, rows)


#: The columns :func:`record_audits` writes, in the order of its rows.
_AUDIT_COLUMNS = ("at", "actor_id", "actor_label", "action", "object_type", "object_id",
                  "before", "after")  # fmt: skip


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    exclude = getattr(obj, "__audit_exclude__", frozenset())
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in exclude:
            continue
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old is NO_VALUE:
                old = None
            if jsonable(old) != jsonable(new):
                before[attr.key] = jsonable(old)
                after[attr.key] = jsonable(new)
    return before, after


def _collect(session: Session, flush_context: Any) -> None:
    rows: list[dict[str, Any]] = []
    actor_id, actor_label = _actor(session)
    now = utcnow()

    def row(action: str, obj: Any, before: Any, after: Any) -> dict[str, Any]:
        # New objects get their identity key only after the flush: read the primary key.
        state = inspect(obj)
        ident = state.identity or state.mapper.primary_key_from_instance(obj)
        if ident is not None and all(part is None for part in ident):
            ident = None
        return {
            "at": now,
            "actor_id": actor_id,
            "actor_label": actor_label,
            "action": action,
            "object_type": obj.__tablename__,
            "object_id": None if ident is None else "-".join(str(i) for i in ident),
            "before": before,
            "after": after,
        }

    for obj in session.info.pop("_audit_new", []):
        rows.append(row("create", obj, None, snapshot(obj)))
    for obj, before in session.info.pop("_audit_deleted", []):
        rows.append(row("delete", obj, before, None))
    for obj, (before, after) in session.info.pop("_audit_dirty", []):
        rows.append(row("update", obj, before, after))
    if rows:
        session.connection().execute(insert(AuditEvent.__table__), rows)


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    new = [o for o in session.new if getattr(o, "__audited__", False)]
    deleted = [(o, snapshot(o)) for o in session.deleted if getattr(o, "__audited__", False)]
    dirty = []
    for obj in session.dirty:
        audited = getattr(obj, "__audited__", False)
        if audited and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                dirty.append((obj, (before, after)))
    session.info.setdefault("_audit_new", []).extend(new)
    session.info.setdefault("_audit_deleted", []).extend(deleted)
    session.info.setdefault("_audit_dirty", []).extend(dirty)


def _discard_pending(session: Session, *args: Any) -> None:
    for key in ("_audit_new", "_audit_deleted", "_audit_dirty"):
        session.info.pop(key, None)


# Registered on the Session class: every session of the process is audited, so no code path
# (web, CLI, tests) can forget to.
event.listen(Session, "before_flush", _before_flush)
event.listen(Session, "after_flush", _collect)
event.listen(Session, "after_soft_rollback", _discard_pending)
