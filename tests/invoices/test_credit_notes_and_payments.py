"""Credit notes (full and partial) and payments (one or several invoices, credit on account),
balances and overdue invoices: worked examples with exact values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounting.invoicing.errors import CreditNoteRefused, PaymentRefused
from accounting.invoicing.models import Invoice, Payment
from accounting.invoicing.payments import (
    apply_member_credit,
    member_balances,
    member_credit,
    overdue_invoices,
    record_payment,
)
from accounting.invoicing.services import (
    create_credit_note,
    creditable,
    issue_invoices,
    prepare_invoices,
)
from accounting.periods import close_period, get_or_create_period
from tests.invoices.conftest import ISSUED_ON

D = Decimal
TODAY = date(2026, 4, 1)


@pytest.fixture
def invoices(db, billing) -> dict[str, Invoice]:
    """A 4 000,01 TTC (3 333,34 + 666,67), B 6 399,99 TTC (5 333,33 + 1 066,66 — 1 066,666
    rounds to 1 066,67? no: 5 333,33 × 20 % = 1 066,666 → 1 066,67), C 8 799,99 TTC."""
    prepare_invoices(db, billing.period)
    issued = issue_invoices(db, billing.period, issue_date=ISSUED_ON)
    return {inv.customer_code: inv for inv in issued}


def test_worked_totals_of_the_three_invoices(invoices):
    assert {c: (i.total_excl_tax, i.total_vat, i.total_incl_tax) for c, i in invoices.items()} == {
        "A": (D("3333.34"), D("666.67"), D("4000.01")),
        "B": (D("5333.33"), D("1066.67"), D("6400.00")),
        "C": (D("7333.33"), D("1466.67"), D("8800.00")),
    }


# ------------------------------------------------------------------ credit notes


def test_a_full_credit_note_cancels_the_invoice_and_cites_it(db, invoices):
    a = invoices["A"]
    note = create_credit_note(db, a, reason="Erreur de SIRET", issue_date=date(2026, 2, 10))
    assert note.number == "2026-0004"  # the same series
    assert note.kind == "credit_note" and note.original is a
    assert note.file_name == "AVOIR-2026-0004.xlsx"
    assert (note.total_excl_tax, note.total_vat, note.total_incl_tax) == (
        D("3333.34"), D("666.67"), D("4000.01"))
    assert note.lines[0].original_line_id == a.lines[0].id
    assert a.status == "cancelled" and a.amount_credited == D("4000.01")
    assert a.outstanding == D("0.00")
    with pytest.raises(CreditNoteRefused, match="déjà entièrement annulée"):
        create_credit_note(db, a, reason="encore", issue_date=date(2026, 2, 10))


def test_a_cancelled_invoice_lets_the_member_be_invoiced_again(db, billing, invoices):
    create_credit_note(db, invoices["A"], reason="SIRET erroné", issue_date=date(2026, 2, 10))
    billing.members["A"].name = "Les Jardins de la Dombes (nouveau nom)"
    (again,) = prepare_invoices(db, billing.period)
    (issued,) = issue_invoices(db, billing.period, issue_date=date(2026, 2, 11))
    assert issued is again and issued.number == "2026-0005"
    assert issued.customer_name == "Les Jardins de la Dombes (nouveau nom)"


def test_partial_credit_notes_then_the_rest_reverse_the_vat_exactly(db, invoices):
    b = invoices["B"]
    first = create_credit_note(db, b, amount=D("1000.00"), reason="Geste commercial",
                               issue_date=date(2026, 2, 10))
    assert (first.total_excl_tax, first.total_vat, first.total_incl_tax) == (
        D("1000.00"), D("200.00"), D("1200.00"))
    assert b.status == "issued" and b.outstanding == D("5200.00")
    assert creditable(db, b) == D("4333.33")
    rest = create_credit_note(db, b, reason="Annulation du solde", issue_date=date(2026, 2, 10))
    # 1 066,67 − 200,00: the rest of the VAT, not 4 333,33 × 20 % = 866,666 → 866,67.
    assert (rest.total_excl_tax, rest.total_vat) == (D("4333.33"), D("866.67"))
    assert first.total_incl_tax + rest.total_incl_tax == b.total_incl_tax
    assert b.status == "cancelled"


def test_a_credit_note_larger_than_what_is_left_is_refused(db, invoices):
    c = invoices["C"]
    create_credit_note(db, c, amount=D("7000.00"), reason="x", issue_date=date(2026, 2, 10))
    with pytest.raises(CreditNoteRefused, match=r"dépasse ce qui reste à créditer"):
        create_credit_note(db, c, amount=D("333.34"), reason="y", issue_date=date(2026, 2, 10))
    assert creditable(db, c) == D("333.33")


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        (D("0.00"), "motif", "doit être positif"),
        (D("-5.00"), "motif", "doit être positif"),
        (D("1.001"), "motif", "euros et centimes"),
        (D("10.00"), "  ", "motif de l'avoir"),
    ],
)
def test_bad_credit_notes_are_refused(db, invoices, amount, reason, message):
    with pytest.raises(CreditNoteRefused, match=message):
        create_credit_note(db, invoices["A"], amount=amount, reason=reason,
                           issue_date=date(2026, 2, 10))
    assert db.scalars(select(Invoice).where(Invoice.kind == "credit_note")).all() == []


def test_a_credit_note_on_a_draft_or_on_a_credit_note_is_refused(db, billing, invoices):
    note = create_credit_note(db, invoices["A"], reason="x", issue_date=date(2026, 2, 10))
    with pytest.raises(CreditNoteRefused, match="autre avoir"):
        create_credit_note(db, note, reason="x")
    (draft,) = prepare_invoices(db, billing.period)
    with pytest.raises(CreditNoteRefused, match="brouillon"):
        create_credit_note(db, draft, reason="x")


# ------------------------------------------------------------------ payments


def test_a_payment_settles_one_invoice_in_part_then_in_full(db, billing, invoices):
    a = invoices["A"]
    record_payment(db, member=billing.members["A"], paid_on=date(2026, 3, 1),
                   amount=D("1000.00"), invoices=[a], reference="VIR 123", today=TODAY)
    assert (a.status, a.amount_paid, a.outstanding) == ("partly_paid", D("1000.00"),
                                                       D("3000.01"))
    record_payment(db, member=billing.members["A"], paid_on=date(2026, 3, 2),
                   amount=D("3000.01"), today=TODAY)
    assert (a.status, a.outstanding) == ("paid", D("0.00"))


def test_one_payment_may_settle_several_invoices(db, billing, invoices, make_member):
    second_period = get_or_create_period(db, "2026-02")
    other = Invoice(
        kind="invoice", status="draft", carrier_id=billing.carrier.id,
        member_id=billing.members["A"].id, member=billing.members["A"],
        period_id=second_period.id, service_start=second_period.start,
        service_end=second_period.end, total_excl_tax=D("100.00"), total_vat=D("20.00"),
        total_incl_tax=D("120.00"))
    db.add(other)
    db.flush()
    issue_invoices(db, second_period, issue_date=date(2026, 3, 1))
    payment = record_payment(
        db, member=billing.members["A"], paid_on=date(2026, 3, 5), amount=D("4120.01"),
        allocations={invoices["A"]: D("4000.01"), other: D("120.00")}, today=TODAY)
    assert [(a.invoice.number, a.amount) for a in payment.allocations] == [
        ("2026-0001", D("4000.01")), ("2026-0004", D("120.00"))]
    assert invoices["A"].status == other.status == "paid"
    assert payment.unallocated == D("0.00")


def test_a_payment_larger_than_the_balance_is_kept_as_a_credit_on_account(
    db, billing, invoices
):
    a = billing.members["A"]
    payment = record_payment(db, member=a, paid_on=date(2026, 3, 1), amount=D("4500.00"),
                             today=TODAY)
    assert invoices["A"].status == "paid"
    assert payment.unallocated == D("499.99")
    assert member_credit(db, a.id) == D("499.99")
    (balance,) = member_balances(db, member_id=a.id, today=TODAY)
    assert (balance.invoiced, balance.paid, balance.balance, balance.credit) == (
        D("4000.01"), D("4500.00"), D("-499.99"), D("499.99"))


def test_a_credit_on_account_settles_a_later_invoice(db, billing, invoices):
    a = billing.members["A"]
    record_payment(db, member=a, paid_on=date(2026, 3, 1), amount=D("4100.00"), today=TODAY)
    february = get_or_create_period(db, "2026-02")
    later = Invoice(
        kind="invoice", status="draft", carrier_id=billing.carrier.id, member_id=a.id,
        member=a, period_id=february.id, service_start=february.start,
        service_end=february.end, total_excl_tax=D("100.00"), total_vat=D("20.00"),
        total_incl_tax=D("120.00"))
    db.add(later)
    db.flush()
    issue_invoices(db, february, issue_date=date(2026, 3, 2))
    made = apply_member_credit(db, a)
    assert [(m.invoice.number, m.amount) for m in made] == [("2026-0004", D("99.99"))]
    assert (later.status, later.outstanding) == ("partly_paid", D("20.01"))
    assert member_credit(db, a.id) == D("0.00")


def test_an_explicit_allocation_above_what_an_invoice_owes_is_refused(db, billing, invoices):
    with pytest.raises(PaymentRefused, match="ne doit plus que 4\u202f000,01"):
        record_payment(db, member=billing.members["A"], paid_on=date(2026, 3, 1),
                       amount=D("5000.00"), allocations={invoices["A"]: D("4500.00")},
                       today=TODAY)
    assert db.scalars(select(Payment)).all() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount": D("0.00")}, "doit être positif"),
        ({"amount": D("-10.00")}, "doit être positif"),
        ({"amount": D("10.005")}, "euros et centimes"),
        ({"paid_on": date(2026, 4, 2)}, "dans le futur"),
        ({"method": "bitcoin"}, "Mode de paiement inconnu"),
    ],
)
def test_bad_payments_are_refused(db, billing, invoices, kwargs, message):
    values = {"member": billing.members["A"], "paid_on": date(2026, 3, 1),
              "amount": D("10.00"), "today": TODAY} | kwargs
    with pytest.raises(PaymentRefused, match=message):
        record_payment(db, **values)
    assert db.scalars(select(Payment)).all() == []


def test_a_payment_of_another_members_invoice_or_of_a_credit_note_is_refused(
    db, billing, invoices
):
    with pytest.raises(PaymentRefused, match="autre adhérent"):
        record_payment(db, member=billing.members["A"], paid_on=date(2026, 3, 1),
                       amount=D("10.00"), invoices=[invoices["B"]], today=TODAY)
    note = create_credit_note(db, invoices["A"], amount=D("10.00"), reason="x",
                              issue_date=date(2026, 2, 10))
    with pytest.raises(PaymentRefused, match="avoir"):
        record_payment(db, member=billing.members["A"], paid_on=date(2026, 3, 1),
                       amount=D("10.00"), invoices=[note], today=TODAY)


def test_a_payment_dated_in_a_closed_period_is_refused(db, billing, invoices):
    close_period(db, get_or_create_period(db, "2026-03"))
    with pytest.raises(PaymentRefused, match="clôturée"):
        record_payment(db, member=billing.members["A"], paid_on=date(2026, 3, 1),
                       amount=D("10.00"), today=TODAY)


# ------------------------------------------------------------------ balances, overdue


def test_balances_add_invoices_credit_notes_and_payments_per_member(db, billing, invoices):
    create_credit_note(db, invoices["B"], amount=D("1000.00"), reason="x",
                       issue_date=date(2026, 2, 10))
    record_payment(db, member=billing.members["C"], paid_on=date(2026, 3, 1),
                   amount=D("800.00"), today=TODAY)
    balances = {b.code: b for b in member_balances(db, today=TODAY)}
    assert {c: (b.invoiced, b.credited, b.paid, b.balance, b.overdue)
            for c, b in balances.items()} == {
        "A": (D("4000.01"), D("0.00"), D("0.00"), D("4000.01"), D("4000.01")),
        "B": (D("6400.00"), D("1200.00"), D("0.00"), D("5200.00"), D("5200.00")),
        "C": (D("8800.00"), D("0.00"), D("800.00"), D("8000.00"), D("8000.00")),
    }


def test_overdue_lists_unpaid_invoices_past_their_due_date(db, billing, invoices):
    assert overdue_invoices(db, today=date(2026, 3, 7)) == []  # due 07/03/2026
    record_payment(db, member=billing.members["B"], paid_on=date(2026, 3, 1),
                   amount=D("6400.00"), today=TODAY)
    late = overdue_invoices(db, today=date(2026, 3, 8))
    assert [(i.number, i.outstanding) for i in late] == [
        ("2026-0001", D("4000.01")), ("2026-0003", D("8800.00"))]
    assert overdue_invoices(db, today=date(2026, 3, 8), member_id=billing.members["C"].id) == [
        invoices["C"]]
