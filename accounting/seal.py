"""Inalterability: issued invoices, credit notes, posted journal entries and closed periods
sealed in a hash chain.

Design. Each sealing act (an invoice issued, a credit note issued, a journal entry posted, a
period closed or reopened) appends one :class:`Seal`: the record's content as canonical JSON
(its row, and the rows of its children, e.g. invoice lines, in key order), ``content_hash`` =
SHA-256 of that JSON, and ``hash`` = SHA-256 over the position, the previous link's hash, the
record's identity, the time and ``content_hash``. Changing any sealed row, or any link, or
removing a link, breaks every hash from that point on. An import's many records may share
one link instead (:mod:`accounting.seal_batch`: the link's content lists each record's id with
its content hash; verify checks them one by one).

:func:`verify_chain` recomputes the chain, then compares every sealed record's current content
(read with plain SQL, so a change made behind the application's back is seen) with its last
link, and looks for records that should be sealed and are not (an invoice inserted with SQL).
It reports every problem in chain order; the first one names the first record altered.

Someone who can rewrite the whole table of seals can rebuild a consistent chain. The anchor
answers that: a file outside the database where ``seq hash time`` of the head is appended
after each commit that sealed something (the app layer does it, :func:`append_anchor`) and
after each clean ``mutualise verify``; :func:`verify_chain` given that file checks that every
anchored link is still in the chain with the same hash. The head hash written down elsewhere
(the minutes of the board that approves the accounts) is a second, slower anchor.

Which tables are sealed, what their children are and which columns may legitimately change
after sealing (payment status) is declared in :data:`SEALABLE`; the use cases call
:func:`seal_record` inside their own transaction (flushes, never commits).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DDL,
    ColumnElement,
    Connection,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    cast,
    event,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from accounting.audit import jsonable
from accounting.bulk_rows import insert_rows
from accounting.db import Base, transaction_lock, utcnow
from accounting.seal_anchor import Anchor, append_anchor, read_anchor  # noqa: F401 - named here too
from accounting.seal_batch import batch_sealed_ids, seal_batches  # noqa: F401 - named here too

GENESIS = "0" * 64


class SealError(RuntimeError):
    """Sealing impossible (French message)."""


class Seal(Base):
    """One link of the chain. Rows are only ever inserted."""

    __tablename__ = "seals"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Position in the chain: 1, 2, 3... without gaps.
    seq: Mapped[int] = mapped_column(unique=True)
    #: The sealed table (``invoices``, ``credit_notes``, ``periods``) and the row's key.
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str] = mapped_column(String(50))
    #: The act: issue, close, reopen...
    action: Mapped[str] = mapped_column(String(30))
    #: A human label of the record when it was sealed (invoice number, period code).
    label: Mapped[str] = mapped_column(String(100), default="")
    sealed_at: Mapped[datetime]
    #: The canonical JSON that was sealed (kept so that verify can say what changed).
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_seals_object", "object_type", "object_id"),
        UniqueConstraint("prev_hash", name="uq_seals_prev_hash"),
    )


#: The chain is append-only in the database too: UPDATE and DELETE on ``seals`` are refused by
#: triggers (PostgreSQL and SQLite), so a plain SQL edit fails; only someone who can drop the
#: triggers (the database owner) can rewrite it, which the anchor file shows (``app/anchor.py``).
#: Kept identical to migration 0008.
SEAL_TRIGGERS = {
    "postgresql": [
        "CREATE OR REPLACE FUNCTION seals_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% of a seal refused: the chain is append-only', TG_OP "
        "USING ERRCODE = 'integrity_constraint_violation'; END $$",
        "DROP TRIGGER IF EXISTS trg_seals_append_only ON seals",
        "CREATE TRIGGER trg_seals_append_only BEFORE UPDATE OR DELETE ON seals "
        "FOR EACH ROW EXECUTE FUNCTION seals_append_only()",
    ],
    "sqlite": [
        f"CREATE TRIGGER IF NOT EXISTS trg_seals_no_{verb.lower()} BEFORE {verb} ON seals "
        f"BEGIN SELECT RAISE(ABORT, '{verb} of a seal refused: the chain is append-only'); END"
        for verb in ("UPDATE", "DELETE")
    ],
}
#: The statements that remove them (tests that play the attacker who owns the database).
DROP_SEAL_TRIGGERS = {
    "postgresql": ["DROP TRIGGER IF EXISTS trg_seals_append_only ON seals"],
    "sqlite": [f"DROP TRIGGER IF EXISTS trg_seals_no_{verb}" for verb in ("update", "delete")],
}


def _install_seal_triggers(target: Any, connection: Any, **kw: Any) -> None:
    for statement in SEAL_TRIGGERS.get(connection.dialect.name, []):
        connection.execute(DDL(statement.replace("%", "%%")))


event.listen(Seal.__table__, "after_create", _install_seal_triggers)


@dataclass(frozen=True)
class Sealable:
    """How to read a sealed record of ``table`` back with plain SQL."""

    table: str
    #: Child tables whose rows are part of the record: (table, column holding the parent id).
    children: tuple[tuple[str, str], ...] = ()
    #: Columns that legitimately change after sealing (payment follow-up), left out.
    mutable: frozenset[str] = frozenset()
    #: Columns added after records were sealed: left out of the content while NULL, so the
    #: records sealed before the column existed still verify.
    late: frozenset[str] = frozenset()
    #: A where-clause over the table selecting rows that must carry a seal.
    must_be_sealed: Callable[[Table], ColumnElement[bool]] | None = None
    #: Builds the label shown in reports from the row.
    label: Callable[[dict[str, Any]], str] = field(default=lambda row: f"#{row.get('id')}")


#: Sealed tables, by name; each area registers its own with :func:`register_sealable`
#: (periods in accounting.periods, invoices and credit notes in accounting.invoicing.models).
SEALABLE: dict[str, Sealable] = {}


def register_sealable(spec: Sealable) -> Sealable:
    """Declare a sealed table (at import of the module that defines it)."""
    SEALABLE[spec.table] = spec
    return spec


# ---------------------------------------------------------------- canonical content


def canonical(value: Any) -> str:
    """The one JSON form that is hashed: sorted keys, no spaces, exact decimals as strings.

    The encoder converts what :func:`jsonable` converts (Decimal, date, enum) as it meets it,
    so the usual record is not copied first (same text: sealing 100 000 entries spent a third
    of its time copying); anything else (a key that is not a string) takes the copy."""
    try:
        return _CANONICAL.encode(value)
    except TypeError:
        return json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)  # fmt: skip


def _encode(value: Any) -> Any:
    converted = jsonable(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return converted


#: The encoder of :func:`canonical`, made once (``json.dumps`` with options makes one a call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              default=_encode)  # fmt: skip


def sha256(text_value: str) -> str:
    return hashlib.sha256(text_value.encode("utf-8")).hexdigest()


def _table(name: str) -> Table:
    table = Base.metadata.tables.get(name)
    if table is None:
        raise SealError(f"table {name} inconnue : rien à sceller")
    return table


def _row_dict(
    table: Table, row: Any, exclude: frozenset[str], late: frozenset[str] = frozenset()
) -> dict[str, Any]:
    return {
        c.name: row._mapping[c] for c in table.columns
        if c.name not in exclude and not (c.name in late and row._mapping[c] is None)
    }


def read_content(conn: Connection, object_type: str, object_id: Any) -> dict[str, Any] | None:
    """The sealed content of a record as it is in the database now (None: the row is gone)."""
    return read_contents(conn, object_type, [object_id]).get(str(object_id))


#: Ids per ``IN (...)`` list (well under SQLite's bound-parameter limit).
_CHUNK = 500


def read_contents(
    conn: Connection, object_type: str, object_ids: Iterable[Any]
) -> dict[str, dict[str, Any]]:
    """:func:`read_content` of many records of one table, keyed by ``str(id)`` (missing rows
    are absent): one query per table and chunk of ids, so sealing 1 000 invoices does not
    cost 2 000 queries."""
    spec = SEALABLE[object_type]
    table = _table(spec.table)
    pk = next(iter(table.primary_key.columns))
    ids = list(dict.fromkeys(_typed_id(pk, object_id) for object_id in object_ids))
    contents: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for row in conn.execute(select(table).where(pk.in_(chunk))):
            key = str(row._mapping[pk])
            contents[key] = {"row": _row_dict(table, row, spec.mutable, spec.late)}
            for child_name, _ in spec.children:
                contents[key][child_name] = []
        for child_name, parent_column in spec.children:
            child = _table(child_name)
            order = list(child.primary_key.columns)
            rows = conn.execute(
                select(child).where(child.c[parent_column].in_(chunk)).order_by(*order)
            )
            for r in rows:
                parent = contents.get(str(r._mapping[child.c[parent_column]]))
                if parent is not None:
                    parent[child_name].append(_row_dict(child, r, spec.mutable))
    return contents


def _typed_id(pk: Any, object_id: Any) -> Any:
    try:
        python_type = pk.type.python_type
    except NotImplementedError:
        return object_id
    return python_type(object_id)


def link_hash(
    seq: int, prev_hash: str, object_type: str, object_id: str, action: str,
    sealed_at: datetime, content_hash: str,
) -> str:
    """The hash of one link: everything that identifies it, chained to the previous link."""
    return sha256(
        "|".join(
            [
                str(seq), prev_hash, object_type, object_id, action,
                jsonable(sealed_at), content_hash,
            ]
        )
    )


# ---------------------------------------------------------------- sealing


#: ``session.info`` key set when a transaction appended links (the app anchors the head at
#: commit: app/anchor.py).
SEALED_IN_TRANSACTION = "mutualise:sealed"


def lock_chain(session: Session) -> None:
    """Serialise appends: two links must never claim the same position (released at commit
    or rollback; the unique ``seq`` and ``prev_hash`` are the last guard).

    Posting takes it before a journal's number series, so every act takes the chain, then a
    series: never the other order, which could deadlock against an issue."""
    transaction_lock(session, "mutualise:seals")


def seal_record(session: Session, object_type: str, object_id: Any, action: str) -> Seal:
    """Append the current state of a record to the chain (flushes, never commits).

    Call it in the same transaction as the act (issue, close, reopen), after the act's changes
    are flushed: a rollback removes the link with them.
    """
    return seal_records(session, object_type, [object_id], action)[0]


def seal_records(
    session: Session, object_type: str, object_ids: Iterable[Any], action: str
) -> list[Seal]:
    """:func:`seal_record` for several records of one act (an issue of many invoices): one
    lock, one read of the chain's head, one insert per slice. Returns the link when there is
    one record; the links of many are not read back (an empty list)."""
    if object_type not in SEALABLE:
        raise SealError(f"« {object_type} » n'est pas un enregistrement scellé")
    session.flush()
    object_ids = list(object_ids)
    conn = session.connection()
    if len(object_ids) == 1:
        content = read_contents(conn, object_type, object_ids).get(str(object_ids[0]))
        if content is None:
            raise SealError(f"{object_type} {object_ids[0]} introuvable : impossible de le sceller")
        head = _head(session)
        link = _links(object_type, [(object_ids[0], content)], action, head)[0]
        single = [Seal(**link)]
        session.add_all(single)
        session.flush()
        return single
    # By slices: an import seals 100 000 entries; their contents are read, hashed and written
    # a slice at a time, so they never all sit in memory.
    head = _head(session)
    for start in range(0, len(object_ids), _SEAL_SLICE):
        chunk = object_ids[start : start + _SEAL_SLICE]
        contents = read_contents(conn, object_type, chunk)
        missing = next((i for i in chunk if str(i) not in contents), None)
        if missing is not None:
            raise SealError(f"{object_type} {missing} introuvable : impossible de le sceller")
        head = _write_links(session, object_type,
                            [(i, contents[str(i)]) for i in chunk], action, head)  # fmt: skip
    return []


def seal_contents(
    session: Session, object_type: str, items: Sequence[tuple[Any, dict[str, Any]]], action: str
) -> None:
    """Append links for records whose content the caller built from the values it has just
    inserted (``(id, content)``, content as :func:`read_contents` would read it back: what
    is hashed must be what is stored, or :func:`verify_chain` reports it altered).

    Why: an import of 100 000 entries read them all back to seal them. Flushes, never
    commits; the chain is locked as by :func:`seal_records`."""
    if object_type not in SEALABLE:
        raise SealError(f"« {object_type} » n'est pas un enregistrement scellé")
    session.flush()
    head = _head(session)
    for start in range(0, len(items), _SEAL_SLICE):
        head = _write_links(session, object_type, items[start : start + _SEAL_SLICE], action,
                            head)  # fmt: skip


def _head(session: Session) -> tuple[int, str]:
    """Lock the chain, mark the transaction as sealing, and read its head (seq, hash)."""
    lock_chain(session)
    session.info[SEALED_IN_TRANSACTION] = True
    return chain_head(session)


def _links(
    object_type: str, items: Sequence[tuple[Any, dict[str, Any]]], action: str,
    head: tuple[int, str],
) -> list[dict[str, Any]]:  # fmt: skip
    """The links of ``items`` after ``head``, in order (one time for the batch)."""
    seq, prev = head
    label_of = SEALABLE[object_type].label
    sealed_at = utcnow()
    stamp = jsonable(sealed_at)  # what link_hash writes of the time, once for the batch
    links: list[dict[str, Any]] = []
    for object_id, content in items:
        seq += 1
        body = canonical(content)
        content_hash = sha256(body)
        object_key = str(object_id)
        before = prev
        # link_hash, inlined (100 000 links): the same text hashed.
        prev = sha256("|".join((str(seq), before, object_type, object_key, action, stamp,
                                content_hash)))  # fmt: skip
        links.append({
            "seq": seq, "object_type": object_type, "object_id": object_key,
            "action": action, "label": label_of(content["row"])[:100],
            "sealed_at": sealed_at, "content": body, "content_hash": content_hash,
            "prev_hash": before, "hash": prev,
        })  # fmt: skip
    return links


def _write_links(
    session: Session, object_type: str, items: Sequence[tuple[Any, dict[str, Any]]],
    action: str, head: tuple[int, str],
) -> tuple[int, str]:  # fmt: skip
    """Insert the links of ``items`` (one ``executemany``: not read back); the new head."""
    links = _links(object_type, items, action, head)
    if not links:
        return head
    insert_rows(session, Seal.__table__, _LINK_COLUMNS,
                [tuple(link[name] for name in _LINK_COLUMNS) for link in links])  # fmt: skip
    return links[-1]["seq"], links[-1]["hash"]


#: The columns of a link as :func:`_links` makes them.
_LINK_COLUMNS = ("seq", "object_type", "object_id", "action", "label", "sealed_at", "content",
                 "content_hash", "prev_hash", "hash")  # fmt: skip


#: Records sealed per slice (read, hashed, inserted together).
_SEAL_SLICE = 5000


def chain_length(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Seal)) or 0


def chain_head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the last link; (0, GENESIS) for an empty chain."""
    row = session.execute(select(Seal.seq, Seal.hash).order_by(Seal.seq.desc()).limit(1)).first()
    return (0, GENESIS) if row is None else (row[0], row[1])


# ---------------------------------------------------------------- backfill


def seal_backfill(session: Session, object_type: str, action: str = "backfill") -> int:
    """Seal the records of ``object_type`` that must be sealed and have no seal, *older than
    the first one sealed* (by key): those written before sealing of that table existed.

    Why the cut-off: a record younger than the first sealed one, yet unsealed, was written
    behind the application's back; sealing it would hide that, so it stays reported by
    :func:`verify_chain`. With no record of the table sealed yet, all of them are sealed.
    Returns how many were sealed (flushes, never commits)."""
    spec = SEALABLE.get(object_type)
    if spec is None or spec.must_be_sealed is None:
        raise SealError(f"« {object_type} » n'est pas un enregistrement scellé")
    table = _table(spec.table)
    pk = next(iter(table.primary_key.columns))
    sealed = select(Seal.object_id).where(Seal.object_type == object_type)
    first_sealed = session.scalar(
        select(func.min(cast(Seal.object_id, Integer))).where(Seal.object_type == object_type)
    )
    in_batches = batch_sealed_ids(session, object_type)  # sealed by batch links
    if in_batches:
        first_batched = min(int(oid) for oid in in_batches)
        first_sealed = first_batched if first_sealed is None else min(first_sealed, first_batched)
    query = select(pk).where(spec.must_be_sealed(table), cast(pk, String).not_in(sealed))
    if first_sealed is not None:
        query = query.where(pk < first_sealed)
    ids = [i for i in session.scalars(query.order_by(pk)) if str(i) not in in_batches]
    for start in range(0, len(ids), 1000):
        seal_records(session, object_type, ids[start : start + 1000], action)
    return len(ids)


# Verification lives in seal_verify (it reads what this module writes); named here too.
from accounting.seal_verify import Problem, Report, verify_chain  # noqa: E402, F401
