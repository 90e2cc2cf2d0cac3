"""The Factur-X journey in chromium on the demo: a member accountant downloads the PDF of one of
its invoices from the invoice page; the accountant sends the quarter's documents from the
« Envois » page; the member accountant's mailbox, at the test SMTP server, receives its PDF."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from facturx import get_xml_from_pdf
from sqlalchemy import select

from accounting.invoicing.models import Invoice
from accounting.org import Member, Role
from tests.browser.conftest import LiveServer, demo_login, logout, require_endpoints, screenshot
from tests.facturx.conftest import pdf_attachments, smtp  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_member_accountant_downloads_a_pdf_and_receives_its_invoices_by_email(
    page: Any, require_demo: LiveServer, output_dir: Path, smtp: Any  # noqa: F811
) -> None:
    server = require_demo
    require_endpoints(server, "delivery.pdf", "delivery.send")
    member_email, _ = demo_login(page, server, Role.MEMBER_ACCOUNTANT)
    with server.session() as db:
        member = db.scalars(select(Member).where(Member.code == "SERVEMPLOI")).one()
        # The member's accountant is its billing contact.
        member.billing_email = member_email
        db.commit()
        number = db.scalars(
            select(Invoice.number).where(Invoice.member_id == member.id,
                                         Invoice.status != "draft")
            .order_by(Invoice.sequence.desc())
        ).first()

    page.goto(server.url("/factures/"))
    page.get_by_role("link", name=number).first.click()
    page.wait_for_url(re.compile(r"/factures/\d+$"))
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"Télécharger FACTURE-.*\.pdf")).click()
    download = download_info.value
    assert download.suggested_filename == f"FACTURE-{number}.pdf"
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    _, xml = get_xml_from_pdf(pdf, check_xsd=True)
    assert f"<ram:ID>{number}</ram:ID>".encode() in xml
    screenshot(page, output_dir, "1-facture")
    logout(page)

    demo_login(page, server, Role.ACCOUNTANT)
    page.goto(server.url("/factures/envois"))
    # Nine PDFs drawn and checked before the answer: seconds on a loaded machine.
    with page.expect_navigation(timeout=180_000):
        page.get_by_role("button", name=re.compile(r"Envoyer les documents de")).click(
            no_wait_after=True)
    page.wait_for_selector("#compte-rendu")
    assert f"Envoyé : {number} à {member_email}" in page.locator("#compte-rendu").inner_text()
    screenshot(page, output_dir, "2-envoi")

    (message,) = smtp.to(member_email)
    assert number in message["Subject"]
    assert f"FACTURE-{number}.pdf" in pdf_attachments(message)

    # The invoice page says when and to whom it went.
    page.goto(server.url("/factures/"))
    page.get_by_role("link", name=number).first.click()
    assert member_email in page.locator("#envois").inner_text()
    screenshot(page, output_dir, "fin")
