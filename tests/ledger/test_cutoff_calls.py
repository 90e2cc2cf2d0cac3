"""The year-end cut-off of a year whose funds are called (DESIGN §5b): a 2026 budget of
12 000 €, four quarterly calls of 3 000 € (1 000 € each to A, B, C: no 2025 shares yet, the
call key shares equally), the call of 2027-T1 issued in December 2026, the year's allocation
approved — 16 000 € (A 3 333,34, B 5 333,33, C 7 333,33, the worked example) — the cut-off
at 31/12/2026, then the true-up on 10 January 2027. Every figure is worked out by hand here.

At 31/12/2026 the calls (12 000 €) sit on 4191 and the true-up is not issued: the cut-off
moves the calls to revenue and accrues the true-up — B +1 333,33 and C +3 333,33 on 4181
(VAT 20 %: 1 600,00 and 4 000,00), A −666,66 on 4198 (A called 4 000 € for a share of
3 333,34: a credit note of 799,99 incl. tax to issue) — so 2026's revenue is 16 000 €; the
2027-T1 call (1 500 €) stays on 4191. In 2027 the reversal and the true-up cancel out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounting.budgets.budgets import LineInput, save_budget
from accounting.budgets.calls import issue_calls
from accounting.budgets.models import ADVANCES_ACCOUNT, LineKind
from accounting.budgets.trueup import true_up
from accounting.ledger.cutoff import post_cutoff
from accounting.ledger.models import JournalEntry
from accounting.ledger.reports import trial_balance
from accounting.periods import get_or_create_period
from app.allocation.services import approve, store_period
from tests.invoices.conftest import allocated_month

D = Decimal
SHARES = {"A": D("3333.34"), "B": D("5333.33"), "C": D("7333.33")}  # DESIGN §4's example


def _call_the_years(db, make_member, make_service, make_user, t4_on: date):
    """2026 called quarter by quarter (T4 on ``t4_on``), 2027-T1 called on 15 December 2026;
    nothing approved. Returns the called service."""
    _, compta, _ = allocated_month(db, make_member, make_service, make_user)
    save_budget(db, compta, 2026, agreed_on=date(2025, 12, 10), agreed_by="Assemblée générale",
                lines=[LineInput(LineKind.COST, "641100", D("12000.00"), "Salaires")])
    # 2027: 6 000 € voted on 1 December 2026, a stated call key: T1 calls 1 500 €.
    save_budget(db, compta, 2027, agreed_on=date(2026, 12, 1), agreed_by="Assemblée générale",
                call_key="fixed(A=10%, B=10%, C=80%)",
                lines=[LineInput(LineKind.COST, "641100", D("6000.00"), "Salaires")])
    calls = [("2026-T1", date(2026, 1, 2)), ("2026-T2", date(2026, 4, 1)),
             ("2026-T3", date(2026, 7, 1)), ("2026-T4", t4_on), ("2027-T1", date(2026, 12, 15))]
    for code, day in sorted(calls, key=lambda c: c[1]):  # the series stays chronological
        docs = issue_calls(db, code, issue_date=day)
        expected = ({"A": D("150.00"), "B": D("150.00"), "C": D("1200.00")}
                    if code == "2027-T1" else dict.fromkeys("ABC", D("1000.00")))
        assert {d.customer_code: d.total_excl_tax for d in docs} == expected
    return compta


@pytest.fixture
def called_year(db, make_member, make_service, make_user, carrier):
    """2026 called quarter by quarter within the year, 2027-T1 called in December 2026."""
    return _call_the_years(db, make_member, make_service, make_user, date(2026, 10, 1))


def _approve_2026(db) -> None:
    approve(db, store_period(db, get_or_create_period(db, "2026")))


def _rows(db, year: int) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """account → (debit, credit, closing balance debit positive) of fiscal year ``year``."""
    return {row.account: (row.debit, row.credit, row.balance)
            for row in trial_balance(db, date(year, 1, 1), date(year, 12, 31))}  # fmt: skip


def _check_2026(rows: dict, revenue: str) -> None:
    # Revenue: the calls moved (12 000) + B 1 333,33 + C 3 333,33 − A 666,66 = 16 000.
    assert rows[revenue][:2] == (D("666.66"), D("16666.66"))
    assert rows[revenue][1] - rows[revenue][0] == sum(SHARES.values()) == D("16000.00")
    # 4191: 12 000 called for 2026 and moved, 1 500 called for 2027-T1 still there.
    assert rows[ADVANCES_ACCOUNT] == (D("12000.00"), D("13500.00"), D("-1500.00"))
    # B: 1 333,33 + VAT 266,67 (266,666 rounded); C: 3 333,33 + 666,67.
    assert rows["4181B"] == (D("1600.00"), D("0"), D("1600.00"))
    assert rows["4181C"] == (D("4000.00"), D("0"), D("4000.00"))
    # A: a credit note to issue, 666,66 + VAT 133,33 (133,332 rounded).
    assert rows["4198A"] == (D("0"), D("799.99"), D("-799.99"))
    assert "4181A" not in rows and "4198B" not in rows
    assert rows["445870"] == (D("133.33"), D("933.34"), D("-800.01"))
    # 411A: four calls of 1 200 incl. tax and 2027-T1's 180.
    assert rows["411A"][2] == D("4980.00")


@pytest.mark.parametrize("cutoff_first", [True, False], ids=["cutoff-first", "true-up-first"])
def test_a_called_year_is_cut_off_then_trued_up(db, called_year, cutoff_first) -> None:
    revenue = called_year.revenue_account
    _approve_2026(db)
    if not cutoff_first:  # the true-up issued in January before the accountant's cut-off
        true_up(db, 2026, issue_date=date(2027, 1, 10))
    report = post_cutoff(db, 2026, user="comptable")
    assert report.accrued == {("A", "COMPTA"): D("-666.66"), ("B", "COMPTA"): D("1333.33"),
                              ("C", "COMPTA"): D("3333.33")}  # fmt: skip
    assert report.transferred == {"COMPTA": D("12000.00")}
    assert report.unapproved == []
    kinds = [(e.source_type, e.entry_date, e.piece_ref) for e in report.entries]
    assert kinds == [
        ("cutoff", date(2026, 12, 31), "AAE2026"), ("cutoff_reversal", date(2027, 1, 1), "AAE2026"),
        ("cutoff", date(2026, 12, 31), "FAE2026"), ("cutoff_reversal", date(2027, 1, 1), "FAE2026"),
        ("cutoff", date(2026, 12, 31), "FAE2026"), ("cutoff_reversal", date(2027, 1, 1), "FAE2026"),
        ("cutoff_calls", date(2026, 12, 31), "APP2026"),
        ("cutoff_calls_rev", date(2027, 1, 1), "APP2026"),
    ]  # fmt: skip
    _check_2026(_rows(db, 2026), revenue)
    if cutoff_first:
        result = true_up(db, 2026, issue_date=date(2027, 1, 10))
        assert sorted((d.customer_code, d.kind, d.total_incl_tax) for d in result.documents) == [
            ("A", "credit_note", D("799.99")), ("B", "invoice", D("1600.00")),
            ("C", "invoice", D("4000.00")),
        ]  # the very amounts accrued on 4198A, 4181B, 4181C
        assert result.transferred == D("12000.00")
    # Run again after the true-up: 31/12/2026 has not changed, nothing more is posted.
    assert post_cutoff(db, 2026).entries == []
    _check_2026(_rows(db, 2026), revenue)
    rows = _rows(db, 2027)
    # 2027: reversal (debit 12 000 + 1 333,33 + 3 333,33, credit 666,66) against the true-up
    # (credit 12 000 moved + 1 333,33 + 3 333,33 invoiced, debit 666,66 credited): nothing.
    assert rows[revenue][:2] == (D("17333.32"), D("17333.32"))
    for account in ("4181B", "4181C", "4198A", "445870"):
        assert rows[account][2] == D("0.00"), account
    # 4191 opens at 1 500 (2027-T1), the reversal credits 12 000, the true-up moves 12 000.
    assert rows[ADVANCES_ACCOUNT] == (D("12000.00"), D("12000.00"), D("-1500.00"))
    # 411A: 4 980 opened, less the credit note of 799,99.
    assert rows["411A"][2] == D("4180.01")


def test_a_called_year_not_approved_moves_its_calls_only(db, called_year) -> None:
    revenue = called_year.revenue_account
    report = post_cutoff(db, 2026)
    assert report.unapproved == ["Comptabilité / gestion"]
    assert report.accrued == {}  # no share known: nothing accrued, not even a negative one
    assert report.transferred == {"COMPTA": D("12000.00")}
    rows = _rows(db, 2026)
    assert rows[revenue][1] - rows[revenue][0] == D("12000.00")
    assert rows[ADVANCES_ACCOUNT][2] == D("-1500.00")
    # Approved later: a second run accrues the true-up, the calls are not moved twice.
    _approve_2026(db)
    again = post_cutoff(db, 2026)
    assert {e.source_type for e in again.entries} == {"cutoff", "cutoff_reversal"}
    _check_2026(_rows(db, 2026), revenue)
    moved = db.scalars(select(JournalEntry).where(JournalEntry.source_type == "cutoff_calls"))
    assert len(moved.all()) == 1


def test_the_command_says_what_it_accrued_and_moved(runner, db, called_year, tmp_path) -> None:
    from app.cli import cli

    _approve_2026(db)
    result = runner.invoke(cli, ["ledger", "cut-off", "2026"])
    assert result.exit_code == 0, result.output
    assert "A / COMPTA: 666,66 to credit (credit note)" in result.output
    assert "C / COMPTA: 3 333,33 to invoice" in result.output
    assert "COMPTA: 12 000,00 of calls for funds moved from 4191 to revenue" in result.output
    # The FEC of 2026 shows both accruals and the move, and passes the validator.
    result = runner.invoke(cli, ["export", "fec", "2026", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [path] = tmp_path.glob("*FEC*")
    text = path.read_text("iso-8859-15")
    assert "\t4198A\t" in text and "\tAAE2026\t" in text and "\tAPP2026\t" in text
    assert runner.invoke(cli, ["check-fec", str(path)]).exit_code == 0


def test_a_call_of_the_year_issued_after_it_is_accrued_not_moved(
    db, make_member, make_service, make_user, carrier
) -> None:
    """T4 2026 called late, on 5 January 2027: at 31/12/2026 only 9 000 € sit on 4191 and
    are moved; each member's share less its three calls is accrued (an invoice to come for
    all three). 2027 takes it all back."""
    compta = _call_the_years(db, make_member, make_service, make_user, date(2027, 1, 5))
    revenue = compta.revenue_account
    _approve_2026(db)
    report = post_cutoff(db, 2026)
    # A 3 333,34 − 3 000; B 5 333,33 − 3 000; C 7 333,33 − 3 000.
    assert report.accrued == {("A", "COMPTA"): D("333.34"), ("B", "COMPTA"): D("2333.33"),
                              ("C", "COMPTA"): D("4333.33")}  # fmt: skip
    assert report.transferred == {"COMPTA": D("9000.00")}
    rows = _rows(db, 2026)
    assert rows[revenue][1] - rows[revenue][0] == D("16000.00")  # 9 000 + 7 000
    assert rows[ADVANCES_ACCOUNT][2] == D("-1500.00")  # 9 000 in and out, 2027-T1 stays
    # VAT 20 %: 66,67 (66,668), 466,67 (466,666), 866,67 (866,666).
    assert (rows["4181A"][2], rows["4181B"][2], rows["4181C"][2]) == (
        D("400.01"), D("2800.00"), D("5200.00"))
    assert "4198A" not in rows
    true_up(db, 2026, issue_date=date(2027, 1, 10))  # moves 12 000, A gets 666,66 back
    rows = _rows(db, 2027)
    # Reversal: debit 9 000 + 7 000; true-up: credit 12 000 + 1 333,33 + 3 333,33, debit 666,66.
    assert rows[revenue][:2] == (D("16666.66"), D("16666.66"))
    for account in ("4181A", "4181B", "4181C", "445870"):
        assert rows[account][2] == D("0.00"), account
    assert rows[ADVANCES_ACCOUNT][2] == D("-1500.00")
