"""The year's cash with the database (DESIGN §5b): a budget voted, quarterly calls issued as
« Appel de fonds » invoices posted to 4191, a revision spread over the remaining calls, the
true-up after the year's approved allocation — every figure computed by hand here — and the
refusals (closed year, schedule overlapping issued calls, true-up before approval)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounting.budgets.budgets import LineInput, save_budget, set_schedule
from accounting.budgets.calls import issue_calls
from accounting.budgets.errors import BudgetClosedYear, ScheduleOverlap, TrueUpRefused
from accounting.budgets.models import ADVANCES_ACCOUNT, LineKind, TrueUp
from accounting.budgets.trueup import true_up
from accounting.invoicing.models import Invoice
from accounting.ledger.models import JournalLine
from accounting.periods import close_period, get_or_create_period
from app.allocation.services import approve, store_period
from tests.invoices.conftest import allocated_month

D = Decimal


@pytest.fixture
def year(db, make_member, make_service, make_user, carrier):
    """Members A, B, C, COMPTA with 16 000 € of costs in January 2026 shared by « 25 % equal
    + 75 % hours » (A 10 h, B 20 h, C 30 h), and its 2026 budget: 12 000 € of costs."""
    members, compta, _ = allocated_month(db, make_member, make_service, make_user)
    save_budget(db, compta, 2026, agreed_on=date(2025, 12, 10), agreed_by="Assemblée générale",
                lines=[LineInput(LineKind.COST, "641100", D("12000.00"), "Salaires")])
    return members, compta


def _totals(db, role: str) -> dict[str, Decimal]:
    rows = db.scalars(select(Invoice).where(Invoice.role == role)).all()
    result: dict[str, Decimal] = {}
    for doc in rows:
        sign = -1 if doc.is_credit_note else 1
        result[doc.customer_code] = result.get(doc.customer_code, D(0)) + sign * doc.total_excl_tax
    return result


def _ledger(db, account: str) -> Decimal:
    lines = db.scalars(select(JournalLine).where(JournalLine.account == account)).all()
    return sum((ln.credit - ln.debit for ln in lines), D(0))


def test_a_year_called_revised_and_trued_up_to_the_cent(db, year) -> None:
    _, compta = year
    first = issue_calls(db, "2026-T1", issue_date=date(2026, 1, 2), issued_by="t@x.fr")
    # No last year: the hours part is shared equally; 3 000 € / 3 members.
    assert sorted((d.customer_code, d.total_excl_tax, d.total_incl_tax) for d in first) == [
        ("A", D("1000.00"), D("1200.00")), ("B", D("1000.00"), D("1200.00")),
        ("C", D("1000.00"), D("1200.00")),
    ]
    assert {d.kind_label for d in first} == {"Appel de fonds"}
    assert [d.number for d in first] == ["2026-0001", "2026-0002", "2026-0003"]
    assert _ledger(db, ADVANCES_ACCOUNT) == D("3000.00")
    # Revised in June to 15 000 €, spread: (15 000 − 3 000) / 3 = 4 000 € a quarter.
    save_budget(db, compta, 2026, agreed_on=date(2026, 6, 1), agreed_by="Bureau",
                reason="Hausse des salaires",
                lines=[LineInput(LineKind.COST, "641100", D("15000.00"))])
    second = issue_calls(db, "2026-T2", issue_date=date(2026, 4, 1))
    assert sorted((d.customer_code, d.total_excl_tax) for d in second) == [
        ("A", D("1333.34")), ("B", D("1333.33")), ("C", D("1333.33")),
    ]
    with pytest.raises(TrueUpRefused, match="pas approuvée"):
        true_up(db, 2026, issue_date=date(2027, 1, 10))
    year_period = get_or_create_period(db, "2026")
    approve(db, store_period(db, year_period))
    result = true_up(db, 2026, issue_date=date(2027, 1, 10), issued_by="t@x.fr")
    # Actual 2026 shares: A 3 333,34, B 5 333,33, C 7 333,33; called A 2 333,34, B/C 2 333,33.
    assert sorted((d.customer_code, d.kind, d.total_excl_tax) for d in result.documents) == [
        ("A", "invoice", D("1000.00")), ("B", "invoice", D("3000.00")),
        ("C", "invoice", D("5000.00")),
    ]
    calls, trued = _totals(db, "call"), _totals(db, "true_up")
    assert {c: calls[c] + trued[c] for c in "ABC"} == {
        "A": D("3333.34"), "B": D("5333.33"), "C": D("7333.33")}
    # The calls moved from 4191 to the revenue account: 4191 is settled, 706 holds the year.
    assert _ledger(db, ADVANCES_ACCOUNT) == D("0.00")
    assert _ledger(db, compta.revenue_account) == D("16000.00")
    assert result.transferred == D("7000.00")
    with pytest.raises(TrueUpRefused, match="Rien à régulariser"):
        true_up(db, 2026, issue_date=date(2027, 1, 11))
    assert db.scalars(select(TrueUp)).all() == [result.true_up]


def test_paid_too_much_gets_a_credit_note(db, year) -> None:
    _, compta = year
    save_budget(db, compta, 2026, agreed_on=date(2026, 2, 1), agreed_by="Bureau",
                reason="Erreur", call_key="fixed(A=10%, B=10%, C=80%)",
                lines=[LineInput(LineKind.COST, "641100", D("40000.00"))])
    issue_calls(db, "2026-T1", issue_date=date(2026, 1, 2))  # 10 000: A 1 000, B 1 000, C 8 000
    approve(db, store_period(db, get_or_create_period(db, "2026")))
    docs = true_up(db, 2026, issue_date=date(2027, 1, 10)).documents
    assert sorted((d.customer_code, d.kind, d.total_excl_tax) for d in docs) == [
        ("A", "invoice", D("2333.34")), ("B", "invoice", D("4333.33")),
        ("C", "credit_note", D("666.67")),
    ]


def test_a_closed_year_takes_no_budget(db, year) -> None:
    _, compta = year
    period = get_or_create_period(db, "2025")
    close_period(db, period)
    with pytest.raises(BudgetClosedYear, match="2025 est clôturé"):
        save_budget(db, compta, 2025, agreed_on=date(2024, 12, 1), agreed_by="AG",
                    lines=[LineInput(LineKind.COST, "641100", D("1.00"))])


def test_a_schedule_overlapping_issued_calls_is_refused(db, year) -> None:
    issue_calls(db, "2026-T1", issue_date=date(2026, 1, 2))
    with pytest.raises(ScheduleOverlap, match="T1 2026"):
        set_schedule(db, 2026, frequency="monthly")
    set_schedule(db, 2026, frequency="quarterly", catch_up="next")  # same rhythm: fine


def test_budget_against_actual_and_its_sheet(db, year) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from accounting.budgets.actuals import budget_vs_actual
    from app.allocation.workbook import workbook_for

    # 12 000 € a year: 1 000 € a month. January is gone on 15 March (16 000 € booked),
    # February too (nothing booked); March to December are forecast by the budget.
    [row] = budget_vs_actual(db, 2026, date(2026, 3, 15))
    assert row.monthly_budget[:2] == [D("1000.00"), D("1000.00")]
    assert row.monthly_actual[:3] == [D("16000.00"), D("0.00"), None]
    assert (row.actual_to_date, row.forecast, row.gap) == (
        D("16000.00"), D("26000.00"), D("14000.00"))
    out = BytesIO()
    workbook_for(db, get_or_create_period(db, "2026"), out)
    sheet = load_workbook(BytesIO(out.getvalue()))["Budget et réalisé"]
    assert [c.value for c in sheet[2]][:3] == ["Comptabilité / gestion", "janvier", 1000]
    assert sheet["D2"].value == 16000




def test_once_called_a_service_is_not_allocated_nor_invoiced_by_month(db, year) -> None:
    from accounting.allocation.errors import RunError
    from app.allocation.services import allocate_period

    issue_calls(db, "2026-T1", issue_date=date(2026, 1, 2))
    january = get_or_create_period(db, "2026-01")
    preview = allocate_period(db, january)  # 16 000 € of January: shared by the year's run
    assert preview.services == []
    assert "fonds appelés sur budget en 2026" in preview.warnings[-1]
    with pytest.raises(RunError, match="Rien à répartir"):
        store_period(db, january)


@pytest.mark.parametrize(("mode", "catch_up", "second"), [
    # 12 000 voted, T1 called 3 000 (1 000 each), revised to 15 000 (3 750 a quarter).
    ("at_once", D("250.00"), D("1250.00")),  # 750 called now, then 3 750
    ("next", None, D("1500.00")),  # 3 750 + 750 on T2
    ("spread", None, D("1333.34")),  # (15 000 − 3 000) / 3 = 4 000, A's share
])
def test_a_revision_is_caught_up_as_the_treasurer_chose(db, year, mode, catch_up, second):
    _, compta = year
    issue_calls(db, "2026-T1", issue_date=date(2026, 1, 2))
    save_budget(db, compta, 2026, agreed_on=date(2026, 3, 1), agreed_by="Bureau",
                reason="Hausse", lines=[LineInput(LineKind.COST, "641100", D("15000.00"))])
    set_schedule(db, 2026, frequency="quarterly", catch_up=mode)
    if catch_up is not None:
        docs = issue_calls(db, "2026-T1", issue_date=date(2026, 3, 2), catch_up_only=True)
        assert {d.customer_code: d.total_excl_tax for d in docs} == dict.fromkeys("ABC", catch_up)
    docs = issue_calls(db, "2026-T2", issue_date=date(2026, 4, 1))
    assert {d.customer_code: d.total_excl_tax for d in docs}["A"] == second


def test_a_budget_workbook_is_read_and_its_errors_named(db, year) -> None:
    from io import BytesIO

    from openpyxl import Workbook

    from imports.budgets import read_budget_lines
    from imports.errors import ImportRefused

    _, compta = year
    book = Workbook()
    sheet = book.active
    sheet.append(["Service", "Type", "Compte", "Libellé", "Montant"])
    sheet.append(["COMPTA", "Charge", "641100", "Salaires", 12000.5])
    sheet.append(["COMPTA", "Subvention", "740000", "Région", 1000])
    out = BytesIO()
    book.save(out)
    lines = read_budget_lines(db, out.getvalue(), "budget.xlsx")
    assert [(ln.kind, ln.account, ln.amount) for ln in lines[compta.id]] == [
        ("cost", "641100", D("12000.5")), ("subsidy", "740000", D("1000"))]
    sheet.append(["COMPTA", "don", "740000", "?", 5])
    out = BytesIO()
    book.save(out)
    with pytest.raises(ImportRefused, match="Ligne 4, colonne « Type »"):
        read_budget_lines(db, out.getvalue(), "budget.xlsx")


def test_a_year_mixing_called_and_monthly_services_is_trued_up(db, year, make_service) -> None:
    """A cluster calls funds for COMPTA and invoices DEV month by month: the year's run shares
    COMPTA only (DEV's January is already approved), it is approved, and the true-up follows."""
    from accounting.allocation.runs import set_key
    from accounting.costs import CostInput, CostKind, add_cost
    from app.allocation.services import allocate_period

    dev = make_service("DEV", name="Développement")
    january = get_or_create_period(db, "2026-01")
    add_cost(db, CostInput(CostKind.COST, dev.id, january.end, D("300.00"), "641100", "Salaires"))
    set_key(db, dev, "equal", date(2026, 1, 1))
    db.flush()
    issue_calls(db, "2026-T1", issue_date=date(2026, 1, 2))  # COMPTA only: 1 000 € each
    monthly = store_period(db, january)  # DEV alone: COMPTA is called
    approve(db, monthly)
    from accounting.allocation.models import AllocationLine

    shared = select(AllocationLine.service_id).where(AllocationLine.run_id == monthly.id)
    assert set(db.scalars(shared)) == {dev.id}

    year_period = get_or_create_period(db, "2026")
    preview = allocate_period(db, year_period)
    assert [item.service.code for item in preview.services] == ["COMPTA"]
    assert "Développement : déjà réparti par mois" in preview.warnings[-1]
    approve(db, store_period(db, year_period))  # no clash with DEV's approved January
    result = true_up(db, 2026, issue_date=date(2027, 1, 10), issued_by="t@x.fr")
    # COMPTA's 16 000 €: A 3 333,34, B 5 333,33, C 7 333,33, less 1 000 € called from each.
    assert sorted((d.customer_code, d.total_excl_tax) for d in result.documents) == [
        ("A", D("2333.34")), ("B", D("4333.33")), ("C", D("6333.33")),
    ]
