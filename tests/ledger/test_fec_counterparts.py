"""A FEC whose entries have several counterparts is imported as the file says (issue 15): a
payroll entry's costs share its 421, 431 and 437, a supplier invoice's costs its 401 + code
(incl. tax) and its deductible VAT 44566, a subsidy its 441 and 512; the trial balance per
account is the file's, nothing on 471000. The expected balances are summed from the file's
text here, not by the importer."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.cost_counterparts import CostCounterpart
from accounting.costs import (
    Cost,
    CostInput,
    CostKind,
    CostNature,
    Subsidy,
    add_cost,
    delete_cost,
    update_cost,
)
from accounting.fec import FEC_COLUMNS
from accounting.ledger.models import JournalEntry
from accounting.ledger.posting import LineSpec, entries_of, post_entry, sealed_in_one_batch
from accounting.ledger.reports import trial_balance
from accounting.seal import verify_chain
from imports.fec_costs import import_fec_costs, parse_rule, preview_fec_costs

D = Decimal


def _line(entry: str, day: str, account: str, label: str, debit: str, credit: str,
          ana: str = "", aux: str = "") -> str:  # fmt: skip
    """One line of the file, its 19 columns (the 18 of the norm and CodeAnalytique)."""
    journal, num = entry.split("/")
    aux_lib = "Papeterie" if aux else ""
    return (
        f"{journal}|{journal}|{num}|{day}|{account}|{account}|{aux}|{aux_lib}|{num}|{day}|"
        f"{label}|{debit}|{credit}|||{day}|||{ana}"
    )


#: P1: payroll for two services, against net pay, URSSAF and another social body; amounts
#: that no proportion divides evenly. H1: supplies for two services, their deductible VAT,
#: the supplier incl. tax. R1: part of the payroll reversed. S1: a grant, part received, part
#: still owed. B1: the supplier paid (a bank entry: imports nothing).
FILE = [
    _line("PA/P1", "20260131", "641100", "Salaires janvier", "2333,33", "0,00", "DEV"),
    _line("PA/P1", "20260131", "641100", "Salaires janvier", "1111,11", "0,00", "CPT"),
    _line("PA/P1", "20260131", "645100", "Charges janvier", "987,65", "0,00", "DEV"),
    _line("PA/P1", "20260131", "645100", "Charges janvier", "456,79", "0,00", "CPT"),
    _line("PA/P1", "20260131", "421000", "Net à payer", "0,00", "2700,01"),
    _line("PA/P1", "20260131", "431000", "URSSAF", "0,00", "1555,55"),
    _line("PA/P1", "20260131", "437000", "Retraite", "0,00", "633,32"),
    _line("HA/H1", "20260115", "6064", "Papier", "100,01", "0,00", "CPT"),
    _line("HA/H1", "20260115", "6064", "Papier", "33,33", "0,00", "DEV"),
    _line("HA/H1", "20260115", "44566", "Papier", "26,67", "0,00"),
    _line("HA/H1", "20260115", "401000", "Papier", "0,00", "160,01", aux="F1"),
    _line("OD/R1", "20260227", "641100", "Extourne prime", "0,00", "100,00", "DEV"),
    _line("OD/R1", "20260227", "645100", "Extourne prime", "0,00", "33,34", "CPT"),
    _line("OD/R1", "20260227", "421000", "Extourne prime", "77,77", "0,00"),
    _line("OD/R1", "20260227", "431000", "Extourne prime", "55,57", "0,00"),
    _line("OD/S1", "20260301", "441000", "Subvention FSE", "3000,00", "0,00"),
    _line("OD/S1", "20260301", "512000", "Subvention FSE", "2000,00", "0,00"),
    _line("OD/S1", "20260301", "740000", "Subvention FSE", "0,00", "5000,00", "DEV"),
    _line("BQ/B1", "20260210", "401000", "Règlement FA12", "160,01", "0,00", aux="F1"),
    _line("BQ/B1", "20260210", "512000", "Règlement FA12", "0,00", "160,01"),
]


@pytest.fixture
def services(make_service):
    return {"COMPTA": make_service("COMPTA", name="Comptabilité / gestion"),
            "DEV": make_service("DEV", name="Chargé de développement")}  # fmt: skip


def _file(tmp_path: Path, rows: list[str] = FILE) -> Path:
    path = tmp_path / "porteuse.txt"
    header = "\t".join([*FEC_COLUMNS, "CodeAnalytique"])
    path.write_text("\n".join([header, *(r.replace("|", "\t") for r in rows)]) + "\n", "utf-8")
    return path


def _rules(db: Session) -> list[Any]:
    return [parse_rule(db, "analytique:DEV=DEV"), parse_rule(db, "analytique:CPT=COMPTA")]


def _account(number: str, aux: str) -> str:
    """The carrier's account of a line, worked out here: six digits (6064 → 606400, 44566 →
    445660), a third party 401 + its code."""
    if aux and number.startswith("4"):
        return number[:3] + aux
    return number.rstrip("0").ljust(6, "0")


def _file_totals(rows: list[str]) -> dict[str, tuple[Decimal, Decimal]]:
    """Debit and credit per account, summed from the file's text."""
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [D(0), D(0)])
    for row in rows:
        fields = row.split("|")
        found = totals[_account(fields[4], fields[6])]
        found[0] += D(fields[11].replace(",", "."))
        found[1] += D(fields[12].replace(",", "."))
    return {account: (debit, credit) for account, (debit, credit) in totals.items()}


def _balance(db: Session) -> dict[str, tuple[Decimal, Decimal]]:
    return {row.account: (row.debit, row.credit) for row in trial_balance(db, None, None)}


def _pay_the_supplier(db: Session) -> None:
    """The bank entry B1 of the file, recorded in the books (the import leaves it aside)."""
    post_entry(db, journal="BQ", entry_date=date(2026, 2, 10), label="Règlement FA12",
               piece_ref="VIR7", lines=[LineSpec("401F1", debit=D("160.01")),
                                        LineSpec("512000", credit=D("160.01"))],
               source_type="bank")  # fmt: skip


def test_the_trial_balance_is_the_files_account_by_account(db, services, tmp_path) -> None:
    result, preview = import_fec_costs(db, _file(tmp_path), _rules(db), accept_unmapped=True)
    assert result.created == 9  # P1: 4, H1: 2, R1: 2, S1: 1
    # Left aside: the bank entry B1 only (it imports nothing).
    assert {(item.account, item.debit, item.credit) for item in preview.left_aside} == {
        ("401000", D("160.01"), D("0")), ("512000", D("0"), D("160.01"))}  # fmt: skip
    _pay_the_supplier(db)
    expected = _file_totals(FILE)
    assert _balance(db) == expected
    assert "471000" not in expected
    assert expected["401F1"] == (D("160.01"), D("160.01"))  # cleared by its payment
    assert expected["445660"] == (D("26.67"), D("0"))  # deductible VAT, as in the file
    # The costs stay excl. tax: 6064 is 133,34 € in the costs, not 160,01 €.
    supplies = db.scalar(select(func.sum(Cost.amount)).where(Cost.account == "606400"))
    assert D(supplies) == D("133.34")
    assert verify_chain(db).ok


def test_each_cost_has_its_share_to_the_cent(db, services, tmp_path) -> None:
    import_fec_costs(db, _file(tmp_path), _rules(db), accept_unmapped=True)
    costs = db.scalars(select(Cost).where(Cost.journal_code == "PA").order_by(Cost.id)).all()
    shares = {(c.account, c.service.code): {s.account: s.amount for s in c.counterparts}
              for c in costs}  # fmt: skip
    # 641100 DEV: 2 333,33 × 2 700,01 / 4 888,88 = 1 288,6689… → 1 288,67, and so on; each
    # row adds up to its cost, each column to its counterpart.
    for (account, code), split in shares.items():
        cost = next(c for c in costs if (c.account, c.service.code) == (account, code))
        assert sum(split.values()) == cost.amount
        for counterpart, total in (("421000", "2700.01"), ("431000", "1555.55"),
                                   ("437000", "633.32")):  # fmt: skip
            exact = cost.amount * D(total) / D("4888.88")
            assert abs(split[counterpart] - exact) < D("0.01")
    for counterpart, total in (("421000", "2700.01"), ("431000", "1555.55"),
                               ("437000", "633.32")):  # fmt: skip
        assert sum(split[counterpart] for split in shares.values()) == D(total)
    (supplies,) = [c for c in db.scalars(select(Cost).where(Cost.journal_code == "HA"))
                   if c.service.code == "COMPTA"]  # fmt: skip
    # 100,01 of 133,34: 120,01 of the supplier's 160,01 and 20,00 of the VAT 26,67.
    assert [(s.account, s.amount) for s in supplies.counterparts] == [
        ("445660", D("-20.00")), ("401F1", D("120.01"))]  # fmt: skip
    assert supplies.counterpart == "401F1"
    (entry,) = entries_of(db, "cost", supplies.id)
    assert [(x.account, x.debit, x.credit) for x in entry.lines] == [
        ("606400", D("100.01"), D("0")), ("445660", D("20.00"), D("0")),
        ("401F1", D("0"), D("120.01"))]  # fmt: skip
    subsidy = db.scalars(select(Subsidy)).one()
    assert [(s.account, s.amount) for s in subsidy.counterparts] == [
        ("441000", D("3000.00")), ("512000", D("2000.00"))]  # fmt: skip


def _journal(db: Session) -> list[tuple[Any, ...]]:
    """Every entry and its lines, the cost named by its import key (ids differ between runs)."""
    keys = {c.id: c.import_key for model in (Cost, Subsidy) for c in db.scalars(select(model))}
    return [(e.journal_code, e.number, e.entry_date, e.source_type, keys[e.source_id],
             [(x.position, x.account, x.debit, x.credit, x.service_id, x.label) for x in e.lines])
            for e in db.scalars(select(JournalEntry).order_by(JournalEntry.id))]  # fmt: skip


def test_the_bulk_import_and_add_cost_post_the_same_lines(db, services, tmp_path) -> None:
    path = _file(tmp_path)
    savepoint = db.begin_nested()
    preview = preview_fec_costs(db, path, _rules(db))
    with sealed_in_one_batch(db):
        for cost in preview.new:
            add_cost(db, cost.data, import_key=cost.import_key)
    db.flush()
    one_by_one, shares = _journal(db), db.scalar(select(func.count(CostCounterpart.id)))
    savepoint.rollback()
    import_fec_costs(db, path, _rules(db), accept_unmapped=True)
    assert _journal(db) == one_by_one
    assert db.scalar(select(func.count(CostCounterpart.id))) == shares == 4 * 3 + 2 * 2 + 2 * 2 + 2
    assert verify_chain(db).ok


def test_a_deleted_cost_reverses_every_line_and_an_edit_keeps_the_proportions(
    db, services, tmp_path
) -> None:
    import_fec_costs(db, _file(tmp_path), _rules(db), accept_unmapped=True)
    before = _balance(db)
    cost = db.scalars(select(Cost).where(Cost.journal_code == "PA", Cost.account == "641100")
                      .order_by(Cost.id)).first()  # fmt: skip
    (entry,) = entries_of(db, "cost", cost.id)
    posted = [(x.account, x.debit, x.credit) for x in entry.lines]
    assert len(posted) == 4  # 641100 and its three counterparts
    delete_cost(db, cost)
    reversal = db.scalars(select(JournalEntry).where(JournalEntry.reverses_id == entry.id)).one()
    assert [(x.account, x.credit, x.debit) for x in reversal.lines] == posted
    assert db.scalar(select(func.count(CostCounterpart.id))
                     .where(CostCounterpart.cost_id == cost.id)) == 0  # fmt: skip
    after = _balance(db)
    for account, debit, credit in posted:  # the cost's lines taken out, nothing else moved
        assert after[account] == (before[account][0] + credit, before[account][1] + debit)
    # An amount edited on screen: the same counterparts, in proportion, adding up to it.
    other = db.scalars(select(Cost).where(Cost.journal_code == "PA")).first()
    old = {s.account: s.amount for s in other.counterparts}
    data = _edited(other, D("1000.00"))
    update_cost(db, other, data)
    new = {s.account: s.amount for s in other.counterparts}
    assert set(new) == set(old) and sum(new.values()) == D("1000.00")
    for account, amount in new.items():
        assert abs(amount - old[account] * D("1000.00") / sum(old.values())) < D("0.01")
    live = [e for e in entries_of(db, "cost", other.id) if e.reverses_id is None][-1]
    assert sorted((x.account, x.debit, x.credit) for x in live.lines) == sorted(
        [(other.account, D("1000.00"), D("0"))]
        + [(account, D("0"), amount) for account, amount in new.items()]
    )
    assert "471000" not in _balance(db)


def _edited(line: Cost, amount: Decimal) -> CostInput:
    """What the edit screen sends for an imported cost: its fields, a new amount, no
    journal or counterpart (kept)."""
    return CostInput(
        CostKind.COST,
        line.service_id,
        line.day,
        amount,
        line.account,
        line.label,
        party=line.party,
        reference=line.reference,
        nature=CostNature.FEC,
    )
