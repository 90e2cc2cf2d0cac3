"""Batch links: one link of the chain seals many records of one table (a FEC import's
100 000 journal entries) by listing each record's id with the hash of its content.

Why: a link per record cost an import of 100 000 costs 100 000 rows of ``seals`` — each with
its content as JSON (≈ 70 MB), its link hash and four index entries, two of them on random
hashes —, about a third of the import's writing time (issue 15). A batch link keeps what the
chain promises: every record's content is hashed when it is posted (the same canonical JSON
:func:`accounting.seal.read_contents` reads back), the batch's content (the ``[id, hash]``
list) is hashed into the link, the link into the chain; :func:`accounting.seal_verify.verify_chain`
compares each record as it is now with its hash and names the record altered, deleted, or
missing its seal. What it cannot say for a record sealed in a batch is *which column*
changed: the record's sealed JSON is not kept (only its hash).

A batch link's ``object_type`` is ``batch:<table>``, its ``object_id`` ``<first id>-<last
id>``; its content ``{"records": [[id, content_hash], ...], "table": <table>}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Table, Text, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from accounting.audit import jsonable
from accounting.bulk_rows import as_stored, insert_rows
from accounting.db import ScaledDecimal, utcnow

#: ``object_type`` of a batch link: this prefix and the sealed table.
BATCH_PREFIX = "batch:"

#: Records per batch link (the ``[id, hash]`` list of a link stays under 400 KB).
BATCH_SIZE = 5000


def is_batch(object_type: str) -> bool:
    return object_type.startswith(BATCH_PREFIX)


def batch_records(content: str) -> tuple[str, list[tuple[str, str]]]:
    """(table, [(record id, content hash), ...]) of a batch link's content; ``ValueError``
    when the content is not one (a link altered: its own hash check names it already)."""
    try:
        document = json.loads(content)
        records = [(str(oid), str(digest)) for oid, digest in document["records"]]
        return str(document["table"]), records
    except (TypeError, KeyError, ValueError) as error:
        raise ValueError("contenu de lot illisible") from error


def seal_batches(
    session: Session, object_type: str, items: Sequence[tuple[Any, str]], action: str,
    label: Callable[[int], str],
) -> None:  # fmt: skip
    """Seal ``items`` (``(id, canonical content)``: the text :func:`accounting.seal.canonical`
    makes of the content :func:`accounting.seal.read_contents` reads back, e.g. by
    :class:`RowText`) in batch links of :data:`BATCH_SIZE` records, appended to the chain
    (locked as every sealing act locks it); a link's label names its first and last record
    (``label(index)``: the record's reference, e.g. an entry's number). Flushes, never
    commits."""
    from accounting.seal import (  # the chain's writer; it imports this module's readers
        _LINK_COLUMNS,
        SEALABLE,
        Seal,
        SealError,
        _head,
        sha256,
    )

    if object_type not in SEALABLE:
        raise SealError(f"« {object_type} » n'est pas un enregistrement scellé")
    if not items:
        return
    session.flush()
    seq, prev = _head(session)
    sealed_at = utcnow()
    stamp = jsonable(sealed_at)
    kind = BATCH_PREFIX + object_type
    links: list[tuple[Any, ...]] = []
    for start in range(0, len(items), BATCH_SIZE):
        chunk = items[start : start + BATCH_SIZE]
        records = [[str(oid), sha256(text)] for oid, text in chunk]
        body = json.dumps({"records": records, "table": object_type}, separators=(",", ":"))
        content_hash = sha256(body)
        object_id = f"{records[0][0]}-{records[-1][0]}"
        named = f"{label(start)} … {label(start + len(chunk) - 1)} ({len(records)})"
        seq += 1
        before = prev
        # accounting.seal.link_hash, the same text hashed.
        prev = sha256("|".join((str(seq), before, kind, object_id, action, stamp, content_hash)))
        links.append((seq, kind, object_id, action, named[:100], sealed_at, body, content_hash,
                      before, prev))  # fmt: skip
    insert_rows(session, Seal.__table__, _LINK_COLUMNS, links)


def batch_sealed_ids(session: Session, object_type: str) -> set[str]:
    """The ids of the records of ``object_type`` that a batch link seals."""
    from accounting.seal import Seal

    found: set[str] = set()
    kind = BATCH_PREFIX + object_type
    for content in session.scalars(select(Seal.content).where(Seal.object_type == kind)):
        try:
            found.update(oid for oid, _ in batch_records(content)[1])
        except ValueError:
            continue
    return found


class RowText:
    """The canonical JSON text (:func:`accounting.seal.canonical`: sorted keys, no spaces,
    values as :func:`accounting.audit.jsonable` makes them) of a row of ``table`` given as a
    tuple of the values inserted in the order of ``names``, each value as the database gives
    it back (:func:`accounting.bulk_rows.as_stored`): the text verify hashes when it reads the
    row. ``names`` must be every column that is sealed (none mutable or late).

    Why: building a dict per row and line, then encoding it, was most of the cost of sealing
    an import's 100 000 entries; here a row is one ``%`` of a template (keys in order)."""

    def __init__(self, table: Table, names: Sequence[str], dialect: Dialect) -> None:
        stored = dict(as_stored(table, names, dialect, jsonable))
        order = sorted(range(len(names)), key=lambda i: names[i])
        self.template = "{" + ",".join(f"{json.dumps(names[i])}:%s" for i in order) + "}"
        self.columns = [
            (i, _plain_text(table.c[names[i]]) if names[i] not in stored
             else _money_text(stored[names[i]])
             if isinstance(table.c[names[i]].type, ScaledDecimal)
             else _stored_text(stored[names[i]]))
            for i in order
        ]  # fmt: skip

    def __call__(self, row: Sequence[Any]) -> str:
        return self.template % tuple([text(row[i]) for i, text in self.columns])

    def many(self, rows: Sequence[Sequence[Any]]) -> list[str]:
        """The text of each row: column by column (``map``), then one ``%`` per row."""
        if not rows:
            return []
        columns = list(zip(*rows, strict=True))
        texts = [list(map(text, columns[i])) for i, text in self.columns]
        template = self.template
        return [template % values for values in zip(*texts, strict=True)]


def _plain_text(column: Any) -> Callable[[Any], str]:
    """The text of a column whose values come back as written: ``str`` for a NOT NULL
    integer, the JSON string encoder for a NOT NULL text, else :func:`_text`."""
    kind = type(column.type)
    if not column.nullable and kind in (Integer, BigInteger):
        return str
    if not column.nullable and kind in (String, Text):
        return encode_basestring
    return _text


def _text(value: Any) -> str:
    """The JSON text of one value as :func:`accounting.seal.canonical` writes it."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is int:
        return str(value)
    from accounting.seal import canonical

    return canonical(value)


def _money_text(stored: Callable[[Any], Any]) -> Callable[[Any], str]:
    """The text of an amount: a ``Decimal`` with two places (what the books hold) comes back
    from the database as it was written (stored as its cents, read back with two places), so
    its JSON text is its own, quoted; any other value (another exponent, -0.00, an int) goes
    the general way. Why: 200 000 amounts of an import's lines, most of them distinct, each
    through the round trip's conversions were a third of the seals' time (issue 15)."""
    general = _stored_text(stored)

    def text(value: Any) -> str:
        if type(value) is Decimal:
            plain = str(value)
            if plain[-3:-2] == "." and "E" not in plain and plain != "-0.00":
                return f'"{plain}"'
        return general(value)

    return text


def _stored_text(stored: Callable[[Any], Any]) -> Callable[[Any], str]:
    memo: dict[Any, str] = {}

    def text(value: Any) -> str:
        found = memo.get(value)
        if found is None:
            found = memo[value] = _text(stored(value))
        return found

    return text
