"""A call for funds is a prepayment invoice: type code 386 (UNTDID 1001) in its Factur-X XML,
« APPEL DE FONDS » on its PDF and workbook, and it passes the official EN 16931 rules
(``check.py`` run on the PDF) and the Factur-X XSD; a true-up's credit note passes as 381."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal

from facturx import get_xml_from_pdf
from lxml import etree

from accounting.budgets.budgets import LineInput, save_budget
from accounting.budgets.calls import issue_calls
from accounting.budgets.models import LineKind
from accounting.budgets.trueup import true_up
from accounting.facturx.cii import NSMAP
from accounting.facturx.page import page_of
from accounting.facturx.pdf import facturx_pdf, facturx_xml
from accounting.periods import get_or_create_period
from accounting.workbooks.invoice import invoice_workbook
from app.allocation.services import approve, store_period
from tests.facturx.conftest import CHECKER
from tests.invoices.conftest import allocated_month


def test_a_call_is_a_386_that_passes_en16931(
    db, make_member, make_service, make_user, carrier, en16931, tmp_path
) -> None:
    _, compta, _ = allocated_month(db, make_member, make_service, make_user)
    save_budget(db, compta, 2026, agreed_on=date(2025, 12, 1), agreed_by="AG",
                call_key="fixed(A=10%, B=10%, C=80%)",
                lines=[LineInput(LineKind.COST, "641100", Decimal("40000.00"))])
    call = issue_calls(db, "2026-T1", issue_date=date(2026, 1, 2), issued_by="t")[0]
    xml = facturx_xml(call)
    root = etree.fromstring(xml)
    assert root.xpath("//rsm:ExchangedDocument/ram:TypeCode/text()", namespaces=NSMAP) == ["386"]
    assert en16931.fatal(xml) == []
    assert page_of(call).title == "APPEL DE FONDS N° 2026-0001"
    pdf = facturx_pdf(call)
    assert get_xml_from_pdf(pdf, check_xsd=True)[1] == xml
    path = tmp_path / call.pdf_name
    assert call.pdf_name == "APPEL-2026-0001.pdf"
    path.write_bytes(pdf)
    run = subprocess.run([sys.executable, str(CHECKER), str(path)], capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert invoice_workbook(call).active.title == "Appel de fonds"
    approve(db, store_period(db, get_or_create_period(db, "2026")))
    note = next(d for d in true_up(db, 2026, issue_date=date(2027, 1, 5)).documents
            if d.is_credit_note)  # C called 8 000, owes 7 333,33
    assert note.total_excl_tax == Decimal("666.67")
    assert en16931.fatal(facturx_xml(note)) == []


def test_calls_are_sent_like_invoices(db, make_member, make_service, make_user, carrier,
                                      smtp) -> None:
    from app.delivery.usecases import period_documents, send_documents
    from app.mail import settings_from_env
    from tests.facturx.conftest import pdf_attachments

    members, compta, _ = allocated_month(db, make_member, make_service, make_user)
    for code, member in members.items():
        member.billing_email = f"compta-{code.lower()}@adherent.example"
    save_budget(db, compta, 2026, agreed_on=date(2025, 12, 1), agreed_by="AG",
                lines=[LineInput(LineKind.COST, "641100", Decimal("12000.00"))])
    calls = issue_calls(db, "2026-T1", issue_date=date(2026, 1, 2), issued_by="t")
    report = send_documents(db, settings_from_env(),
                            period_documents(db, get_or_create_period(db, "2026-T1")),
                            sent_by="t")
    assert report.ok and len(report.sent) == 3
    message = smtp.to("compta-a@adherent.example")[0]
    assert calls[0].number in message["Subject"]
    assert list(pdf_attachments(message)) == [f"APPEL-{calls[0].number}.pdf"]
    assert "Appel de fonds" in message.get_body(("plain",)).get_content()
