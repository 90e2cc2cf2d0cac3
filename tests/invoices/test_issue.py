"""Preparing and issuing invoices from an approved allocation (DESIGN §5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select

from accounting.audit import AuditEvent
from accounting.invoicing.errors import (
    AllocationNotApproved,
    AlreadyInvoiced,
    MissingIdentity,
    NumberingError,
    PeriodNotInvoiceable,
)
from accounting.invoicing.locks import correction_open
from accounting.invoicing.models import Invoice, InvoiceSequence
from accounting.invoicing.services import (
    issue_invoices,
    period_has_issued_invoices,
    prepare_invoices,
    set_vat_regime,
)
from accounting.org import VatRegime
from accounting.periods import PeriodError, close_period, get_or_create_period, reopen_period
from tests.invoices.conftest import ISSUED_ON

D = Decimal


def test_drafts_have_one_line_per_service_with_the_key_in_words(db, billing):
    drafts = prepare_invoices(db, billing.period)
    assert [d.customer_code for d in drafts] == ["A", "B", "C"]
    assert all(d.status == "draft" and d.number is None for d in drafts)
    a = drafts[0]
    assert len(a.lines) == 1
    line = a.lines[0]
    assert line.designation == (
        "Comptabilité / gestion — janvier 2026 — 25 % part égale (1 part sur 3) + 75 % au "
        "prorata des heures (10 h sur 60 h)"
    )
    # Standard regime: 3 333,34 HT, VAT 20 % = 666,668 → 666,67 (half up), 4 000,01 TTC.
    assert (line.amount_excl_tax, line.vat_rate, line.vat_amount) == (
        D("3333.34"), D("20.00"), D("666.67"))
    assert (a.total_excl_tax, a.total_vat, a.total_incl_tax) == (
        D("3333.34"), D("666.67"), D("4000.01"))
    assert line.basis["pool"] == "16000.00"
    assert line.basis["key"] == "25% equal + 75% hours"
    assert [p["value"] for p in line.basis["parts"]] == ["1 part", "10 h"]


def test_issuing_numbers_the_drafts_in_member_order_with_due_date_and_snapshot(db, billing):
    prepare_invoices(db, billing.period)
    issued = issue_invoices(db, billing.period, issue_date=ISSUED_ON, issued_by="tresor@vh.fr")
    assert [(i.customer_code, i.number) for i in issued] == [
        ("A", "2026-0001"), ("B", "2026-0002"), ("C", "2026-0003")]
    a = issued[0]
    assert a.status == "issued"
    assert a.issue_date == ISSUED_ON
    assert a.due_date == date(2026, 3, 7)  # 30 days
    assert a.customer_siren == "448290122"
    assert a.carrier_siret == "78289943900015"
    assert a.carrier_vat_number == "FR81782899439"
    assert a.file_name == "FACTURE-2026-0001.xlsx"
    series = db.scalars(select(InvoiceSequence)).one()
    assert (series.year, series.last_number, series.last_issued_on) == (2026, 3, ISSUED_ON)
    assert db.scalars(
        select(AuditEvent).where(AuditEvent.action == "issue")
    ).one().after["numbers"] == ["2026-0001", "2026-0002", "2026-0003"]


def test_the_carriers_own_member_is_not_invoiced(db, billing):
    billing.carrier.member_id = billing.members["A"].id
    drafts = prepare_invoices(db, billing.period)
    assert [d.customer_code for d in drafts] == ["B", "C"]


def test_vat_regime_is_set_per_member_and_service_with_the_carriers_default(db, billing):
    set_vat_regime(db, billing.members["B"], billing.compta, VatRegime.EXEMPT_261B)
    set_vat_regime(db, billing.members["C"], None, VatRegime.EXEMPT_261B)
    set_vat_regime(db, billing.members["C"], billing.compta, VatRegime.STANDARD)
    drafts = {d.customer_code: d for d in prepare_invoices(db, billing.period)}
    assert drafts["A"].lines[0].vat_regime == "standard"  # carrier's default
    assert (drafts["B"].lines[0].vat_rate, drafts["B"].total_vat) == (D("0.00"), D("0.00"))
    assert drafts["B"].total_incl_tax == D("5333.33")
    assert drafts["C"].lines[0].vat_regime == "standard"  # the service rule wins
    billing.carrier.vat_regime = VatRegime.EXEMPT_261B
    set_vat_regime(db, billing.members["C"], billing.compta, None)
    drafts = {d.customer_code: d for d in prepare_invoices(db, billing.period)}
    assert {c: d.lines[0].vat_regime for c, d in drafts.items()} == {
        "A": "exempt_261b", "B": "exempt_261b", "C": "exempt_261b"}


def test_issuing_from_an_unapproved_run_is_refused(db, unapproved):
    with pytest.raises(AllocationNotApproved, match="pas encore approuvée par le trésorier"):
        prepare_invoices(db, unapproved.period)
    with pytest.raises(AllocationNotApproved, match="n'est pas approuvée"):
        prepare_invoices(db, unapproved.period, run=unapproved.run)
    assert db.scalars(select(Invoice)).all() == []


def test_a_period_without_any_allocation_is_refused(db, billing):
    february = get_or_create_period(db, "2026-02")
    with pytest.raises(AllocationNotApproved, match="aucune répartition"):
        prepare_invoices(db, february)


def test_issuing_the_same_period_twice_is_refused(db, billing):
    prepare_invoices(db, billing.period)
    issue_invoices(db, billing.period, issue_date=ISSUED_ON)
    already = r"déjà facturée \(3 factures : 2026-0001 à 2026-0003\)"
    with pytest.raises(AlreadyInvoiced, match=already):
        prepare_invoices(db, billing.period)
    with pytest.raises(AlreadyInvoiced):
        issue_invoices(db, billing.period, issue_date=ISSUED_ON)
    assert db.scalars(select(InvoiceSequence.last_number)).one() == 3


def test_a_member_without_siret_or_address_is_named_with_what_to_complete(db, billing):
    billing.members["B"].siret = None
    billing.members["C"].address = "  "
    billing.carrier.vat_number = None
    with pytest.raises(MissingIdentity) as caught:
        prepare_invoices(db, billing.period)
    message = str(caught.value)
    assert "adhérent B SCOP Bois & Co (SIRET (donne le SIREN))" in message
    assert "adhérent C Entreprise d'insertion Val Saône (adresse)" in message
    assert "numéro de TVA intracommunautaire" in message
    assert db.scalars(select(Invoice)).all() == []


def test_missing_mentions_are_checked_again_at_issue(db, billing):
    prepare_invoices(db, billing.period)
    billing.members["A"].siret = None
    with pytest.raises(MissingIdentity, match="adhérent A"):
        issue_invoices(db, billing.period, issue_date=ISSUED_ON)


def test_exempt_only_invoices_need_no_carrier_vat_number(db, billing):
    billing.carrier.vat_regime = VatRegime.EXEMPT_261B
    billing.carrier.vat_number = None
    assert len(prepare_invoices(db, billing.period)) == 3


def test_numbers_stay_chronological(db, billing):
    prepare_invoices(db, billing.period)
    issue_invoices(db, billing.period, issue_date=ISSUED_ON, invoice_ids=[
        d.id for d in db.scalars(select(Invoice).where(Invoice.customer_code == "A"))])
    with pytest.raises(NumberingError, match="05/02/2026"):
        issue_invoices(db, billing.period, issue_date=date(2026, 2, 4))
    rest = issue_invoices(db, billing.period, issue_date=date(2026, 2, 6))
    assert [i.number for i in rest] == ["2026-0002", "2026-0003"]


def test_a_closed_period_refuses_invoices_and_reopens_for_correction_with_a_reason(
    db, billing
):
    prepare_invoices(db, billing.period)
    issue_invoices(db, billing.period, issue_date=ISSUED_ON)
    assert period_has_issued_invoices(db, billing.period)
    close_period(db, billing.period)
    with pytest.raises(PeriodNotInvoiceable, match="clôturée"):
        prepare_invoices(db, billing.period)
    with pytest.raises(PeriodError, match="Dites pourquoi"):
        reopen_period(db, billing.period, "   ")
    # reopening an invoiced period opens it for correction (DESIGN §4): the way out
    reopen_period(db, billing.period, "charge de janvier oubliée")
    assert not billing.period.is_closed
    assert correction_open(db, billing.period).reason == "charge de janvier oubliée"


def test_a_period_with_drafts_only_can_be_reopened(db, billing):
    prepare_invoices(db, billing.period)
    assert not period_has_issued_invoices(db, billing.period)
    close_period(db, billing.period)
    reopen_period(db, billing.period, "oubli d'une charge")
    assert not billing.period.is_closed


def test_preparing_again_replaces_the_drafts(db, billing):
    first = prepare_invoices(db, billing.period)
    again = prepare_invoices(db, billing.period)
    assert all(inspect(d).was_deleted for d in first)
    assert db.scalars(select(Invoice).order_by(Invoice.customer_code)).all() == again
