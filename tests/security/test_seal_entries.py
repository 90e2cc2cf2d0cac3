"""Journal entries in the hash chain, and the chain's anchor outside the database.

Every posting path seals the entries it writes, with their lines; verify names an entry or a
line changed with SQL and an entry inserted with SQL. A chain rebuilt consistently with SQL
passes verify on its own but not against the anchor file, which names the first anchored link
the chain lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from accounting.costs import Cost, CostInput, CostKind, add_cost, update_cost
from accounting.invoicing.services import issue_invoices, prepare_invoices
from accounting.ledger.catchup import post_missing
from accounting.ledger.chart import ensure_account, ensure_journal
from accounting.ledger.models import JournalEntry, entry_reference
from accounting.ledger.posting import sealed_in_one_batch
from accounting.periods import close_period, get_or_create_period, reopen_period
from accounting.seal import (
    GENESIS,
    Seal,
    append_anchor,
    canonical,
    chain_head,
    link_hash,
    read_content,
    read_contents,
    seal_backfill,
    sha256,
    verify_chain,
)
from accounting.seal_batch import batch_sealed_ids
from app.cli import cli
from app.database import get_db
from app.invoices.usecases import credit_invoice, issue_period, pay
from imports.fec_costs import import_fec_costs, parse_rule
from tests.invoices.conftest import ISSUED_ON, Billing
from tests.security.owner import without_seal_triggers
from tests.security.test_seal_hooks import drop_triggers

D = Decimal
FEC = Path(__file__).resolve().parent.parent / "data" / "fec" / "123456782FEC20251231.txt"


def _sealed_entries(db: Session) -> dict[str, str]:
    """Entry id -> the action of its seal."""
    rows = db.execute(
        select(Seal.object_id, Seal.action).where(Seal.object_type == "journal_entries")
    )
    return {object_id: action for object_id, action in rows}


def _entry_ids(db: Session) -> set[str]:
    return {str(i) for i in db.scalars(select(JournalEntry.id))}


def _insert_entry_in_sql(db: Session, number: int) -> int:
    """A balanced HA entry written with plain SQL, as a path around the application would."""
    ensure_journal(db, "HA")
    ensure_account(db, "641100")
    ensure_account(db, "401000")
    db.execute(
        text(
            "INSERT INTO journal_entries (journal_code, year, number, entry_date, label, "
            "piece_ref, piece_date, source_type, validated_at, validated_by) VALUES "
            "('HA', 2026, :n, :d, 'Écrite en SQL', 'X', :d, 'cost', :t, 'sql')"
        ),
        {"n": number, "d": date(2026, 1, 20), "t": "2026-01-20 10:00:00"},
    )
    entry_id = db.scalar(
        text("SELECT id FROM journal_entries WHERE journal_code = 'HA' AND number = :n"),
        {"n": number},
    )
    for position, (account, debit, credit) in enumerate(
        [("641100", "50.00", "0.00"), ("401000", "0.00", "50.00")], start=1
    ):
        db.execute(
            text(
                "INSERT INTO journal_lines (entry_id, position, account, label, debit, credit, "
                "entry_date) VALUES (:e, :p, :a, 'Écrite en SQL', :dr, :cr, :d)"
            ),
            {"e": entry_id, "p": position, "a": account, "dr": debit, "cr": credit,
             "d": date(2026, 1, 20)},
        )  # fmt: skip
    return int(entry_id)


# ---------------------------------------------------------------- every posting path seals


def test_every_posting_path_seals_its_entries(db: Session, billing: Billing) -> None:
    # The fixture recorded a cost (add_cost -> post_entry): one HA entry already.
    prepare_invoices(db, billing.period)
    issued = issue_period(db, billing.period, issue_date=ISSUED_ON)  # post_issued (batch)
    pay(db, member=issued[0].member, paid_on=date(2026, 2, 20), amount=D("1000.00"),
        invoices=[issued[0]])  # fmt: skip
    credit_invoice(db, issued[1], reason="Erreur de clé", amount=D("100.00"),
                   issue_date=date(2026, 2, 21))  # fmt: skip
    cost = db.scalars(select(Cost)).one()
    reopen_period(db, billing.period, "correction des charges")  # invoiced: locked until then
    update_cost(db, cost, CostInput(CostKind.COST, billing.compta.id, date(2026, 1, 31),
                                    D("15000.00"), "641100", "Salaires"))  # reversal + new
    add_cost(db, CostInput(CostKind.SUBSIDY, billing.compta.id, date(2026, 1, 15),
                           D("4000.00"), "740000", "FSE"))  # fmt: skip
    # 1 cost + 3 invoices + 1 payment + 1 credit note + 2 (reversal, new) + 1 subsidy.
    assert len(_entry_ids(db)) == 9
    assert _sealed_entries(db) == {entry_id: "post" for entry_id in _entry_ids(db)}
    report = verify_chain(db)
    assert report.ok, report.problems


def test_the_catch_up_seals_what_it_posts(db: Session, billing: Billing) -> None:
    prepare_invoices(db, billing.period)
    issue_invoices(db, billing.period, issue_date=ISSUED_ON)  # the domain alone: not posted
    before = len(_entry_ids(db))
    assert post_missing(db) == 3
    assert len(_entry_ids(db)) == before + 3
    assert set(_sealed_entries(db)) == _entry_ids(db)
    assert verify_chain(db).ok


def test_the_fec_import_of_costs_seals_each_entry(db: Session, make_service) -> None:
    make_service("COMPTA", name="Comptabilité / gestion")
    make_service("DEV", name="Chargé de développement")
    result, _ = import_fec_costs(db, FEC, [parse_rule(db, "606*=COMPTA"),
                                           parse_rule(db, "604*=DEV")],
                                 accept_unmapped=True)  # fmt: skip
    assert result.created == 2
    # Sealed in one batch link (issue 15): each entry's id with the hash of its content.
    assert _sealed_entries(db) == {}
    assert batch_sealed_ids(db, "journal_entries") == _entry_ids(db)
    link = db.scalars(select(Seal).where(Seal.object_type == "batch:journal_entries")).one()
    first, second = sorted(db.scalars(select(JournalEntry.id)))
    assert link.object_id == f"{first}-{second}"
    records = json.loads(link.content)["records"]
    assert [oid for oid, _ in records] == [str(first), str(second)]
    contents = read_contents(db.connection(), "journal_entries", [first, second])
    assert [digest for _, digest in records] == [
        sha256(canonical(contents[str(first)])), sha256(canonical(contents[str(second)]))
    ]
    report = verify_chain(db)
    assert report.ok, report.problems
    assert report.records == 2


def _import_two(db: Session, make_service) -> tuple[JournalEntry, JournalEntry]:
    make_service("COMPTA", name="Comptabilité / gestion")
    make_service("DEV", name="Chargé de développement")
    import_fec_costs(db, FEC, [parse_rule(db, "606*=COMPTA"), parse_rule(db, "604*=DEV")],
                     accept_unmapped=True)  # fmt: skip
    *_, first, second = db.scalars(select(JournalEntry).order_by(JournalEntry.id)).all()
    return first, second


def test_verify_names_the_imported_entry_edited_in_sql(db: Session, make_service) -> None:
    _, second = _import_two(db, make_service)
    reference = f"{second.journal_code}{second.year}-{second.number:06d}"
    seq = db.scalar(select(Seal.seq).where(Seal.object_type == "batch:journal_entries"))
    drop_triggers(db, "journal_entries", "journal_lines")
    db.execute(text("UPDATE journal_lines SET label = 'Autre chose' WHERE entry_id = :id "
                    "AND position = 1"), {"id": second.id})  # fmt: skip
    report = verify_chain(db)
    assert [(p.seq, p.object_id, p.label) for p in report.problems] == [
        (seq, str(second.id), reference)
    ]
    assert "altered since sealing" in report.problems[0].message


def test_verify_names_the_imported_entry_deleted_in_sql(db: Session, make_service) -> None:
    first, second = _import_two(db, make_service)
    drop_triggers(db, "journal_entries", "journal_lines")
    db.execute(text("DELETE FROM journal_lines WHERE entry_id = :id"), {"id": first.id})
    db.execute(text("DELETE FROM journal_entries WHERE id = :id"), {"id": first.id})
    report = verify_chain(db)
    assert [(p.object_id, p.message) for p in report.problems] == [
        (str(first.id), "record deleted")
    ]
    assert report.problems[0].label == f"(lot {first.id}-{second.id})"


def test_a_batch_link_whose_list_was_edited_is_named(db: Session, make_service) -> None:
    _, second = _import_two(db, make_service)
    link = db.scalars(select(Seal).where(Seal.object_type == "batch:journal_entries")).one()
    without = json.dumps({"records": json.loads(link.content)["records"][:1],
                          "table": "journal_entries"})  # fmt: skip
    with without_seal_triggers(db):
        db.execute(text("UPDATE seals SET content = :c WHERE id = :id"),
                   {"c": without, "id": link.id})  # fmt: skip
    db.expire_all()
    messages = {(p.object_id, p.message) for p in verify_chain(db).problems}
    assert (link.object_id, "sealed content does not match its hash: the seal itself was "
            "altered") in messages  # fmt: skip
    # The entry dropped from the list is now reported as never sealed.
    assert any(oid == str(second.id) and "has no seal" in message for oid, message in messages)


# ---------------------------------------------------------------- verify sees SQL edits


def test_verify_names_the_entry_whose_line_was_edited_in_sql(
    db: Session, billing: Billing
) -> None:
    prepare_invoices(db, billing.period)
    issued = issue_period(db, billing.period, issue_date=ISSUED_ON)
    entry = db.scalars(
        select(JournalEntry).where(JournalEntry.source_id == issued[1].id,
                                   JournalEntry.source_type == "invoice")
    ).one()  # fmt: skip
    drop_triggers(db, "journal_entries", "journal_lines")
    db.execute(
        text(
            "UPDATE journal_lines SET label = 'Autre chose' "
            "WHERE entry_id = :id AND position = 2"
        ),
        {"id": entry.id},
    )
    report = verify_chain(db)
    seq = db.scalar(select(Seal.seq).where(Seal.object_type == "journal_entries",
                                           Seal.object_id == str(entry.id)))  # fmt: skip
    assert [(p.seq, p.label) for p in report.problems] == [(seq, "VT2026-000002")]
    assert "journal_lines[2].label" in report.problems[0].message
    assert "'Autre chose'" in report.problems[0].message


def test_verify_names_the_entry_whose_date_was_edited_in_sql(
    db: Session, billing: Billing
) -> None:
    drop_triggers(db, "journal_entries", "journal_lines")
    db.execute(text("UPDATE journal_entries SET entry_date = :d"), {"d": date(2026, 2, 28)})
    report = verify_chain(db)
    assert [p.label for p in report.problems] == ["HA2026-000001"]
    assert "row.entry_date : scellé '2026-01-31', maintenant '2026-02-28'" in (
        report.problems[0].message
    )


def test_an_entry_inserted_in_sql_has_no_seal(db: Session, billing: Billing) -> None:
    _insert_entry_in_sql(db, 99)
    report = verify_chain(db)
    assert [(p.seq, p.object_type, p.label) for p in report.problems] == [
        (None, "journal_entries", "HA2026-000099")
    ]
    assert "has no seal" in report.problems[0].message


def test_backfill_seals_only_entries_older_than_the_first_sealed(
    db: Session, make_service
) -> None:
    service = make_service("COMPTA")
    old = _insert_entry_in_sql(db, 90)  # posted before entries were sealed
    add_cost(db, CostInput(CostKind.COST, service.id, date(2026, 1, 31), D("10.00"),
                                  "641100", "Salaires"))  # fmt: skip
    young = _insert_entry_in_sql(db, 95)  # after sealing began: written around the app
    assert [p.object_id for p in verify_chain(db).problems] == [str(old), str(young)]
    assert seal_backfill(db, "journal_entries") == 1
    assert _sealed_entries(db)[str(old)] == "backfill"
    report = verify_chain(db)
    assert [(p.object_id, p.label) for p in report.problems] == [(str(young), "HA2026-000095")]
    assert seal_backfill(db, "journal_entries") == 0  # the younger one is never backfilled


# ---------------------------------------------------------------- the anchor


def _rebuild_chain(db: Session, altered: tuple[str, str]) -> None:
    """What someone able to rewrite the seals table does after altering ``altered``: reseal it
    as it is now and recompute every hash after it, so the chain verifies again."""
    prev = GENESIS
    rewriting = False
    conn = db.connection()
    for link in db.execute(text("SELECT * FROM seals ORDER BY seq")).mappings().all():
        content, content_hash = link["content"], link["content_hash"]
        if (link["object_type"], link["object_id"]) == altered:
            rewriting = True
            content = canonical(read_content(conn, *altered))
            content_hash = sha256(content)
        if rewriting:
            new = link_hash(link["seq"], prev, link["object_type"], link["object_id"],
                            link["action"], db.get(Seal, link["id"]).sealed_at, content_hash)
            with without_seal_triggers(db):
                db.execute(
                    text("UPDATE seals SET content = :c, content_hash = :ch, prev_hash = :p, "
                         "hash = :h WHERE id = :id"),
                    {"c": content, "ch": content_hash, "p": prev, "h": new, "id": link["id"]},
                )  # fmt: skip
            prev = new
        else:
            prev = link["hash"]
    db.expire_all()


def _sealed_cluster(db: Session, billing: Billing) -> list[JournalEntry]:
    """Seals 1 (the fixture's cost), 2-4 (the invoices), 5-7 (their entries), 8 (close)."""
    prepare_invoices(db, billing.period)
    issue_period(db, billing.period, issue_date=ISSUED_ON)
    close_period(db, get_or_create_period(db, "2026-03"))
    return list(db.scalars(select(JournalEntry).order_by(JournalEntry.id)))


def test_a_chain_rebuilt_in_sql_fails_only_against_the_anchor(
    db: Session, billing: Billing, tmp_path: Path
) -> None:
    entries = _sealed_cluster(db, billing)
    anchor = tmp_path / "anchor.txt"
    append_anchor(anchor, 3, db.scalar(select(Seal.hash).where(Seal.seq == 3)))
    append_anchor(anchor, *chain_head(db))
    assert chain_head(db)[0] == 8
    assert verify_chain(db, anchor=anchor).ok
    assert verify_chain(db, anchor=anchor).anchored == 2

    # The first invoice's entry (seal 5) changed with SQL, then the chain rebuilt from there.
    first_sales = entries[1]
    assert entry_reference(first_sales.journal_code, first_sales.year, first_sales.number) == (
        "VT2026-000001"
    )
    drop_triggers(db, "journal_entries", "journal_lines")
    db.execute(text("UPDATE journal_entries SET label = 'Réécrite' WHERE id = :id"),
               {"id": first_sales.id})  # fmt: skip
    assert not verify_chain(db).ok
    _rebuild_chain(db, ("journal_entries", str(first_sales.id)))

    assert verify_chain(db).ok  # consistent: the chain alone cannot tell
    report = verify_chain(db, anchor=anchor)
    assert report.anchored == 2
    assert [(p.seq, p.object_type) for p in report.problems] == [(8, "periods")]
    assert "the chain was rebuilt after seal #3" in report.problems[0].message
    assert f"{anchor} line 2" in report.problems[0].message


def test_links_removed_at_the_end_are_named_by_the_anchor(
    db: Session, billing: Billing, tmp_path: Path
) -> None:
    _sealed_cluster(db, billing)
    anchor = tmp_path / "anchor.txt"
    append_anchor(anchor, *chain_head(db))
    with without_seal_triggers(db):
        db.execute(text("DELETE FROM seals WHERE seq = 8"))  # the last link, gone
    report = verify_chain(db, anchor=anchor)
    assert any(p.seq == 8 and "is missing: the chain ends at #7" in p.message
               for p in report.problems)  # fmt: skip


def test_an_unreadable_anchor_line_is_reported(db: Session, tmp_path: Path) -> None:
    close_period(db, get_or_create_period(db, "2026-03"))
    anchor = tmp_path / "anchor.txt"
    append_anchor(anchor, *chain_head(db))
    with anchor.open("a") as f:
        f.write("pas une ancre\n")
    report = verify_chain(db, anchor=anchor)
    assert [(p.seq, p.message) for p in report.problems] == [(None, "unreadable anchor line 2")]


# ---------------------------------------------------------------- the app writes the anchor


def test_each_sealing_commit_appends_the_head_and_a_rollback_nothing(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    anchor = tmp_path / "instance" / "seal-anchor.txt"
    app = make_app(SEAL_ANCHOR=str(anchor))
    with app.app_context():
        session = get_db()
        close_period(session, get_or_create_period(session, "2026-03"))
        session.commit()
        head = chain_head(session)
        session.execute(text("SELECT 1"))
        session.commit()  # nothing sealed: nothing appended
        close_period(session, get_or_create_period(session, "2026-04"))
        session.rollback()
    lines = anchor.read_text().splitlines()
    assert len(lines) == 1
    seq, hash_, at = lines[0].split()
    assert (int(seq), hash_) == head
    assert head[0] >= 1 and at.startswith("20")


def test_verify_checks_the_anchor_and_appends_the_head_when_clean(
    make_app: Callable[..., Flask], db: Session, billing: Billing, tmp_path: Path
) -> None:
    entries = _sealed_cluster(db, billing)
    anchor = tmp_path / "seal-anchor.txt"
    app = make_app(SEAL_ANCHOR=str(anchor))
    result = app.test_cli_runner().invoke(cli, ["verify"])
    assert result.exit_code == 0, result.output
    assert "no anchor file checked" in result.output  # none yet: the first run starts it
    assert anchor.read_text().split()[:2] == ["8", chain_head(db)[1]]
    result = app.test_cli_runner().invoke(cli, ["verify"])
    assert result.exit_code == 0, result.output
    assert f"1 anchored link in {anchor} still in the chain" in result.output
    assert len(anchor.read_text().splitlines()) == 2

    drop_triggers(db, "journal_entries", "journal_lines")
    db.execute(text("UPDATE journal_lines SET label = 'Réécrite' WHERE entry_id = :id"),
               {"id": entries[2].id})  # fmt: skip
    _rebuild_chain(db, ("journal_entries", str(entries[2].id)))
    unanchored = make_app(SEAL_ANCHOR="")
    result = unanchored.test_cli_runner().invoke(cli, ["verify"])
    assert result.exit_code == 0, result.output  # the rebuilt chain alone looks whole
    result = unanchored.test_cli_runner().invoke(cli, ["verify", "--anchor", str(anchor)])
    assert result.exit_code == 1
    assert "ALTERED: first problem at seal #8: periods 2026-03" in result.output
    assert "the chain was rebuilt after seal #0" in result.output
    assert len(anchor.read_text().splitlines()) == 2  # a failed verify anchors nothing


def test_verify_suggests_the_backfill_for_unsealed_entries(
    make_app: Callable[..., Flask], db: Session, make_service
) -> None:
    _insert_entry_in_sql(db, 1)
    app = make_app(SEAL_ANCHOR="")
    result = app.test_cli_runner().invoke(cli, ["verify"])
    assert result.exit_code == 1
    assert "no seal: journal_entries HA2026-000001" in result.output
    assert "mutualise seal-backfill" in result.output
    result = app.test_cli_runner().invoke(cli, ["seal-backfill"])
    assert result.exit_code == 0, result.output
    assert "1 journal entry sealed." in result.output
    assert app.test_cli_runner().invoke(cli, ["verify"]).exit_code == 0
    assert db.scalar(select(func.count()).select_from(Seal)) == 1


def test_a_batch_seals_its_entries_at_its_end_in_posting_order(
    db: Session, make_service
) -> None:
    service = make_service("COMPTA")
    with sealed_in_one_batch(db):
        for amount in ("10.00", "20.00", "30.00"):
            add_cost(db, CostInput(CostKind.COST, service.id, date(2026, 1, 31), D(amount),
                                   "606100", "Fournitures"))  # fmt: skip
        assert _sealed_entries(db) == {}  # nothing yet: one batch at the end
    ids = db.scalars(select(JournalEntry.id).order_by(JournalEntry.id)).all()
    sealed = db.scalars(
        select(Seal.object_id).where(Seal.object_type == "journal_entries").order_by(Seal.seq)
    ).all()
    assert sealed == [str(i) for i in ids] and len(ids) == 3
    assert verify_chain(db).ok


def test_backfill_leaves_the_batch_sealed_entries_alone(db: Session, make_service) -> None:
    old = _insert_entry_in_sql(db, 90)  # posted before entries were sealed
    _import_two(db, make_service)
    assert [p.object_id for p in verify_chain(db).problems] == [str(old)]
    assert seal_backfill(db, "journal_entries") == 1
    assert _sealed_entries(db) == {str(old): "backfill"}
    assert verify_chain(db).ok
    assert seal_backfill(db, "journal_entries") == 0
