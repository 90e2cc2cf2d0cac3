"""Verifying the seal chain: recompute every link, compare every sealed record with the
database, and check the links an anchor file recorded outside the database.

Kept apart from :mod:`accounting.seal`, which writes the chain: reading it back is a different
job, run by ``mutualise verify`` and the backup checks, not on every write."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from accounting.db import Base
from accounting.seal import (
    GENESIS,
    SEALABLE,
    Seal,
    SealError,
    canonical,
    link_hash,
    read_contents,
    sha256,
)
from accounting.seal_anchor import read_anchor
from accounting.seal_batch import batch_records, is_batch

#: The last link of each sealed record, with the hash its content had then (a batch link
#: holds many records' hashes: accounting.seal_batch).
LastLinks = dict[tuple[str, str], tuple[Seal, str]]

# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class Problem:
    """One break of the chain or one record that differs from its seal."""

    seq: int | None
    object_type: str
    object_id: str
    label: str
    message: str

    def __str__(self) -> str:
        where = f"seal #{self.seq}" if self.seq is not None else "no seal"
        return f"{where}: {self.object_type} {self.label} (id {self.object_id}): {self.message}"


@dataclass
class Report:
    seals: int = 0
    records: int = 0
    head: str = GENESIS
    #: Position of the head (0: empty chain), and how many anchored links were checked.
    head_seq: int = 0
    anchored: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def _differences(sealed: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Where the current content differs from the sealed one, as ``table.column`` names."""
    changes = []
    for part in sorted(set(sealed) | set(current)):
        old, new = sealed.get(part), current.get(part)
        if part == "row":
            old, new = [old or {}], [new or {}]
        old, new = old or [], new or []
        if len(old) != len(new):
            changes.append(f"{part}: {len(old)} lignes scellées, {len(new)} maintenant")
            continue
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            for column in sorted(set(a) | set(b)):
                if a.get(column) != b.get(column):
                    where = part if part == "row" else f"{part}[{index + 1}]"
                    changes.append(
                        f"{where}.{column} : scellé {a.get(column)!r}, maintenant {b.get(column)!r}"
                    )
    return changes


def verify_chain(session: Session, anchor: Path | str | None = None) -> Report:
    """Recompute the chain and compare every sealed record with the database, in chain order;
    with ``anchor`` (a file written by :func:`append_anchor`), also check that every anchored
    link is still in the chain, which a chain rebuilt consistently with SQL fails."""
    report = Report()
    conn = session.connection()
    seals = session.scalars(select(Seal).order_by(Seal.seq)).all()
    last_link = _check_links(seals, report)
    report.head_seq = seals[-1].seq if seals else 0
    if anchor is not None:
        report.problems.extend(_anchor_problems(seals, Path(anchor), report))
    _check_records(conn, last_link, report)
    _check_unsealed(conn, last_link, report)
    report.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    return report


def _check_links(seals: Sequence[Seal], report: Report) -> LastLinks:
    """Each link in order: its position, its previous hash, its content's and its own hash.
    Sets the report's head; returns the last link of each sealed record with its hash."""
    prev = GENESIS
    last_link: LastLinks = {}
    for expected_seq, link in enumerate(seals, start=1):
        report.seals += 1

        def broken(message: str, link: Seal = link) -> None:
            report.problems.append(
                Problem(link.seq, link.object_type, link.object_id, link.label, message)
            )

        if link.seq != expected_seq:
            broken(f"position {link.seq} instead of {expected_seq}: a link was removed")
        if link.prev_hash != prev:
            broken("previous hash does not match: the chain was rewritten here")
        if sha256(link.content) != link.content_hash:
            broken("sealed content does not match its hash: the seal itself was altered")
        recomputed = link_hash(
            link.seq, link.prev_hash, link.object_type, link.object_id, link.action,
            link.sealed_at, link.content_hash,
        )
        if recomputed != link.hash:
            broken("link hash does not match: the seal itself was altered")
        prev = link.hash
        if not is_batch(link.object_type):
            last_link[(link.object_type, link.object_id)] = (link, link.content_hash)
            continue
        try:
            table, records = batch_records(link.content)
        except ValueError:
            broken("batch content unreadable: the seal itself was altered")
            continue
        for object_id, content_hash in records:
            last_link[(table, object_id)] = (link, content_hash)
    report.head = prev
    return last_link


def _check_records(conn: Connection, last_link: LastLinks, report: Report) -> None:
    """Each sealed record as it is now against its last seal: deleted, or altered (and how)."""
    known = [
        (key, link) for key, link in last_link.items()
        if key[0] in SEALABLE and SEALABLE[key[0]].table in Base.metadata.tables
    ]  # fmt: skip
    # The records as they are now, read per table in chunks (one query per record made verify
    # of a year of journal entries take hundreds of thousands of queries).
    now: dict[str, dict[str, dict[str, Any]]] = {}
    for object_type in {key[0] for key, _ in known}:
        ids = [key[1] for key, _ in known if key[0] == object_type]
        now[object_type] = read_contents(conn, object_type, ids)
    for (object_type, object_id), (link, sealed_hash) in sorted(known, key=lambda kv: kv[1][0].seq):
        report.records += 1
        current = now[object_type].get(object_id)
        if current is None:
            report.problems.append(
                Problem(link.seq, object_type, object_id, _label(link), "record deleted")
            )
            continue
        body = canonical(current)
        if sha256(body) != sealed_hash:
            changes = (["contenu différent (scellé en lot : seule son empreinte est gardée)"]
                       if is_batch(link.object_type)
                       else _differences(json.loads(link.content), json.loads(body)))  # fmt: skip
            report.problems.append(
                Problem(
                    link.seq, object_type, object_id, _label(link, current),
                    "altered since sealing: " + "; ".join(changes or ["contenu différent"]),
                )
            )


def _label(link: Seal, current: dict[str, Any] | None = None) -> str:
    """The record's label as sealed; for a batch link, as it is now (or the batch's ids)."""
    if not is_batch(link.object_type):
        return link.label
    if current is None:
        return f"(lot {link.object_id})"
    return SEALABLE[link.object_type.removeprefix("batch:")].label(current["row"])


def _check_unsealed(conn: Connection, last_link: LastLinks, report: Report) -> None:
    """Records that must be sealed (validated entries, issued invoices...) and have no seal."""
    for spec in SEALABLE.values():
        table = Base.metadata.tables.get(spec.table)
        if table is None or spec.must_be_sealed is None:
            continue
        pk = next(iter(table.primary_key.columns))
        rows = conn.execute(select(table).where(spec.must_be_sealed(table)).order_by(pk)).all()
        for row in rows:
            key = str(row._mapping[pk])
            if (spec.table, key) not in last_link:
                report.problems.append(
                    Problem(
                        None, spec.table, key, spec.label(dict(row._mapping)),
                        "should be sealed and has no seal (written behind the application's back?)",
                    )
                )


# ---------------------------------------------------------------- the anchor outside


def _anchor_problems(seals: list[Seal], path: Path, report: Report) -> list[Problem]:
    """Every anchored (seq, hash) that the chain no longer has, once per position."""
    if not path.is_file():
        raise SealError(f"fichier d'ancrage {path} introuvable")
    anchors, unreadable = read_anchor(path)
    by_seq = {link.seq: link for link in seals}
    problems = [
        Problem(None, "anchor", str(path), f"line {n}", f"unreadable anchor line {n}")
        for n in unreadable
    ]
    checked: dict[int, set[str]] = {}
    good = 0  # the last anchored position that still matches
    for anchor in sorted(anchors, key=lambda a: (a.seq, a.line)):
        if anchor.hash in checked.setdefault(anchor.seq, set()):
            continue
        checked[anchor.seq].add(anchor.hash)
        if anchor.seq == 0 and anchor.hash == GENESIS:
            continue
        link = by_seq.get(anchor.seq)
        where = f"anchored in {path} line {anchor.line} at {anchor.at}"
        if link is None:
            problems.append(Problem(
                anchor.seq, "anchor", str(path), f"line {anchor.line}",
                f"seal #{anchor.seq} ({where}) is missing: the chain ends at "
                f"#{len(seals)} (links removed, or an older backup restored)",
            ))  # fmt: skip
        elif link.hash != anchor.hash:
            problems.append(Problem(
                anchor.seq, link.object_type, link.object_id, link.label,
                f"hash {link.hash[:16]}… differs from the anchor's {anchor.hash[:16]}… "
                f"({where}): the chain was rebuilt after seal #{good}, the last anchored link "
                "that still matches",
            ))  # fmt: skip
        else:
            good = anchor.seq
    report.anchored = sum(len(hashes) for hashes in checked.values())
    return problems
