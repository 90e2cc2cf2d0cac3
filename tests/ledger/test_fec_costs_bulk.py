"""The bulk path of the FEC costs import (``accounting.cost_bulk.add_costs``) writes what
``add_cost`` one cost at a time writes: the same costs, entries (numbers included) and trial
balance, and a chain that verifies; by design, one audit event for the import (naming what it
wrote) and batch seals instead of one of each per cost; a refusal writes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting import cost_bulk
from accounting.audit import AuditEvent
from accounting.cost_bulk import add_costs
from accounting.costs import Cost, CostError, CostInput, CostKind, CostNature, add_cost
from accounting.ledger.models import JournalEntry
from accounting.ledger.posting import sealed_in_one_batch
from accounting.ledger.reports import trial_balance
from accounting.periods import PeriodClosed, close_period, get_or_create_period
from accounting.seal import Seal, verify_chain
from imports import fec_costs
from imports.errors import ImportRefused
from imports.fec_costs import import_fec_costs, parse_rule, preview_fec_costs
from tests.ledger.test_books_import import REVERSALS, fec_file

D = Decimal

#: The trial balance of REVERSALS imported with 64* and 606* mapped, worked out by hand from
#: the file: each account as in the file (the payroll entry's costs share its 421 and 431;
#: 401 + the supplier's code F1; 428200; 421000 for the correction), nothing on 471000.
EXPECTED_BALANCE = {
    "641100": (D("3000.00"), D("620.00")),   # 3 000 − 500 (EX) − 120 (OD)
    "645100": (D("1200.00"), D("0")),
    "606400": (D("50.00"), D("80.00")),      # 6064 mapped to 606400; the INV credit note
    "401F1": (D("80.00"), D("50.00")),
    "421000": (D("120.00"), D("2300.00")),   # the correction; P1's net pay
    "431000": (D("0"), D("1900.00")),
    "428200": (D("500.00"), D("0")),
}  # fmt: skip


@pytest.fixture
def services(make_service):
    return {"COMPTA": make_service("COMPTA", name="Comptabilité / gestion"),
            "DEV": make_service("DEV", name="Chargé de développement")}  # fmt: skip


def _rules(db: Session) -> list[Any]:
    return [parse_rule(db, "64*=DEV"), parse_rule(db, "606*=COMPTA")]


def _written(db: Session) -> dict[str, Any]:
    """What an import left in the books, ids replaced by the cost's import key (the two paths
    run one after the other: ids differ, numbers must not)."""
    costs = {c.id: c for c in db.scalars(select(Cost))}
    entries = db.scalars(select(JournalEntry).order_by(JournalEntry.id)).all()
    return {
        "costs": sorted(
            (c.import_key, c.service_id, c.day, c.amount, c.account, c.label, c.party,
             c.reference, c.nature, c.journal_code, c.counterpart)
            for c in costs.values()
        ),
        "entries": [
            (e.journal_code, e.year, e.number, e.entry_date, e.label, e.piece_ref, e.piece_date,
             e.source_type, costs[e.source_id].import_key, e.validated_by,
             [(x.position, x.account, x.debit, x.credit, x.service_id, x.label, x.member_id)
              for x in e.lines])
            for e in entries
        ],
        "balance": {r.account: (r.debit, r.credit) for r in trial_balance(db, None, None)},
        "counterparts": sorted(
            (c.import_key, [(s.position, s.account, s.amount) for s in c.counterparts])
            for c in costs.values()
        ),
        "audit": Counter(db.execute(select(AuditEvent.action, AuditEvent.object_type)
                                    .where(AuditEvent.object_type.in_(
                                        ["costs", "journal_entries"]))).tuples()),
        "seals": Counter(db.scalars(select(Seal.object_type)
                                    .where(Seal.object_type.endswith("journal_entries")))),
    }  # fmt: skip


def _one_by_one(db: Session, path: Path) -> None:
    """The former path: ``add_cost`` for each planned cost (seals batched at the end)."""
    preview = preview_fec_costs(db, path, _rules(db))
    with sealed_in_one_batch(db):
        for cost in preview.new:
            add_cost(db, cost.data, import_key=cost.import_key)
    db.flush()


@pytest.mark.parametrize("slice_size", [20_000, 2])
def test_bulk_import_writes_what_add_cost_writes(
    db, services, tmp_path, monkeypatch, slice_size
) -> None:
    monkeypatch.setattr(cost_bulk, "SLICE", slice_size)  # 2: six costs in three slices
    path = fec_file(tmp_path, REVERSALS)
    savepoint = db.begin_nested()
    _one_by_one(db, path)
    before = _written(db)
    assert verify_chain(db).ok
    savepoint.rollback()
    assert db.scalar(select(func.count()).select_from(Cost)) == 0
    result, _ = import_fec_costs(db, path, _rules(db))
    after = _written(db)
    assert result.created == 6
    assert after["balance"] == EXPECTED_BALANCE
    assert before["balance"] == EXPECTED_BALANCE
    assert after["costs"] == before["costs"]
    assert after["counterparts"] == before["counterparts"]
    # The payroll entry's two costs share its 421 and 431; every other cost has one.
    assert sorted(len(split) for _, split in after["counterparts"]) == [0, 0, 0, 0, 2, 2]
    assert after["entries"] == before["entries"]
    assert [e[:3] for e in after["entries"]] == [
        ("PA", 2026, 1), ("PA", 2026, 2), ("EX", 2026, 1), ("HA", 2026, 1), ("INV", 2026, 1),
        ("OD", 2026, 1),
    ]  # fmt: skip
    # One at a time: each cost's creation and its entry's posting audited, a seal per entry.
    assert before["audit"][("create", "costs")] == 6
    assert before["audit"][("post", "journal_entries")] == 6
    assert before["seals"] == {"journal_entries": 6}
    # In bulk: one event for the import, naming the rows it wrote; the six entries sealed in
    # batch links of two (three links), each entry's content hash in its batch.
    assert after["audit"] == {("import", "costs"): 1}
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
    costs = sorted(db.scalars(select(Cost.id)))
    entries = sorted(db.scalars(select(JournalEntry.id)))
    assert event.after["costs"] == 6
    assert event.after["ids"] == {"costs": [costs[0], costs[-1]],
                                  "journal_entries": [entries[0], entries[-1]]}  # fmt: skip
    assert after["seals"] == {"batch:journal_entries": 6 // min(slice_size, 6)}
    report = verify_chain(db)
    assert report.ok, report.problems[:3]
    assert report.records == 6


def _count(db: Session) -> tuple[int, ...]:
    return tuple(db.scalar(select(func.count()).select_from(model))
                 for model in (Cost, JournalEntry, Seal, AuditEvent))  # fmt: skip


def test_a_refused_bulk_writes_nothing(db, services) -> None:
    close_period(db, get_or_create_period(db, "2026-02"))
    good = CostInput(CostKind.COST, services["DEV"].id, date(2026, 1, 31), D("100.00"),
                     "641100", "Salaires", nature=CostNature.FEC, journal_code="PA",
                     counterpart="421000")  # fmt: skip
    late = CostInput(CostKind.COST, services["DEV"].id, date(2026, 2, 28), D("10.00"),
                     "641100", "Salaires", nature=CostNature.FEC)  # fmt: skip
    counted = _count(db)
    with pytest.raises(PeriodClosed):
        add_costs(db, [(good, "k1"), (late, "k2")])
    assert _count(db) == counted
    with pytest.raises(CostError, match="Libellé"):
        add_costs(db, [(good, "k1"), (CostInput(CostKind.COST, services["DEV"].id,
                                                 date(2026, 1, 5), D("1.00"), "606400", " "),
                                       "k3")])  # fmt: skip
    assert _count(db) == counted


def test_a_second_import_of_the_same_file_is_refused_and_writes_nothing(
    db, services, tmp_path
) -> None:
    path = fec_file(tmp_path, REVERSALS)
    import_fec_costs(db, path, _rules(db))
    counted = _count(db)
    with pytest.raises(ImportRefused, match="déjà importé"):
        import_fec_costs(db, path, _rules(db))
    assert _count(db) == counted


def test_an_entry_whose_lines_are_apart_is_planned_as_if_they_were_together(
    db, services, tmp_path, monkeypatch
) -> None:
    held: list[Path] = []  # the files read holding every row
    original = fec_costs.read_fec

    def read_fec(path: Path) -> Any:
        held.append(path)
        return original(path)

    monkeypatch.setattr(fec_costs, "read_fec", read_fec)
    # The payroll entry P1's second line moved to the end of the file: the streamed reading
    # sees P1 again after other entries and reads the file again holding its rows.
    apart = [REVERSALS[0], *REVERSALS[2:], REVERSALS[1]]
    together = preview_fec_costs(db, fec_file(tmp_path, REVERSALS, "a.txt"), _rules(db))
    interleaved = preview_fec_costs(db, fec_file(tmp_path, apart, "b.txt"), _rules(db))
    assert [(c.import_key, c.data, c.debit, c.credit) for c in interleaved.costs] == [
        (c.import_key, c.data, c.debit, c.credit) for c in together.costs
    ]
    assert [c.data.amount for c in interleaved.costs if c.data.account == "645100"] == [
        D("1200.00")
    ]
    assert interleaved.left_aside == together.left_aside == []
    assert [path.name for path in held] == ["b.txt"]


def test_a_balanced_entry_that_comes_back_later_is_planned_whole(db, services, tmp_path) -> None:
    # H1 (6064 / 401000, balanced) gets two more lines at the end of the file: the reader has
    # closed it, reads the file again keeping every entry, and the planner groups it.
    more = [
        "HA|Achats|H1|20260110|6064|Fournitures|||FA12|20260110|Encre|10,00|0,00|||20260111||",
        "HA|Achats|H1|20260110|401000|Fournisseurs|F1|Papeterie|FA12|20260110|Encre|0,00|10,00|||20260111||",
    ]  # fmt: skip
    at = REVERSALS.index(next(r for r in REVERSALS if r.startswith("HA|Achats|H1|"))) + 2
    together = [*REVERSALS[:at], *more, *REVERSALS[at:]]
    later = [*REVERSALS, *more]
    expected = preview_fec_costs(db, fec_file(tmp_path, together, "a.txt"), _rules(db))
    found = preview_fec_costs(db, fec_file(tmp_path, later, "b.txt"), _rules(db))
    supplies = [(c.data.account, c.data.amount) for c in found.costs if c.entry == "HA/H1"]
    assert supplies == [("606400", D("60.00"))]  # 50 + 10, one cost
    assert [(c.import_key, c.data) for c in found.costs] == [
        (c.import_key, c.data) for c in expected.costs
    ]


def test_the_import_hands_the_writes_each_cost_with_its_fingerprint(db, services, tmp_path) -> None:
    """The pairs written are made a slice at a time (issue 16): the same pairs, in order, as
    the planned costs' data and hex fingerprints, whether read one by one, by slice or all."""
    preview = preview_fec_costs(db, fec_file(tmp_path, REVERSALS), _rules(db))
    new = preview.new
    pairs = fec_costs._Items(new)
    assert len(pairs) == len(new) >= 3
    expected = [(cost.data, cost.digest.hex()) for cost in new]
    assert all(len(key) == 64 for _, key in expected)
    assert list(pairs) == expected
    assert pairs[1:3] == expected[1:3]
    assert pairs[len(new) - 1] == expected[-1]
