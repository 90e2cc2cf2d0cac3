"""Sending documents and reminders through a real SMTP server on the loopback: one e-mail per
member with its PDFs, idempotent, failures retried, members without a billing e-mail listed,
a document failing EN 16931 never sent, the log shown on the invoice page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from facturx import get_xml_from_pdf
from sqlalchemy import select

from accounting.invoicing.delivery import Delivery, late_charges, reminder_due
from accounting.invoicing.services import issue_invoices, prepare_invoices
from accounting.org import Role
from app.cli import cli
from app.delivery.usecases import period_documents, send_documents, send_reminders
from app.mail import settings_from_env
from tests.facturx.conftest import pdf_attachments


def _issue(db, billing):
    prepare_invoices(db, billing.period)
    return issue_invoices(db, billing.period, issue_date=date(2026, 2, 5), issued_by="test")


def _emails(billing) -> None:
    for code, member in billing.members.items():
        member.billing_email = f"compta-{code.lower()}@adherent.example"


def _log(db) -> list[tuple[str, str, str]]:
    return [(d.invoice.number, d.recipient, d.outcome)
            for d in db.scalars(select(Delivery).order_by(Delivery.id))]


def test_each_member_gets_its_pdf_once_and_a_resend_only_when_asked(db, billing, smtp) -> None:
    _emails(billing)
    issued = _issue(db, billing)
    settings = settings_from_env()
    report = send_documents(db, settings, period_documents(db, billing.period), sent_by="t")
    assert report.ok and len(report.sent) == 3
    assert len(smtp.messages) == 3
    message = smtp.to("compta-a@adherent.example")[0]
    assert message["From"] == "Pôle Val Horizon <compta@valhorizon.example>"
    assert issued[0].number in message["Subject"]
    (name, pdf), = pdf_attachments(message).items()
    assert name == f"FACTURE-{issued[0].number}.pdf"
    _, xml = get_xml_from_pdf(pdf, check_xsd=False)
    assert f"<ram:ID>{issued[0].number}</ram:ID>".encode() in xml
    body = message.get_body(("plain",)).get_content()
    assert "4\u202f000,01\u00a0€" in body  # A: 3 333,34 HT + 666,67 VAT
    # The log: when, to whom, the message id the server accepted.
    logged = db.scalars(select(Delivery).where(Delivery.invoice_id == issued[0].id)).one()
    assert (logged.recipient, logged.outcome) == ("compta-a@adherent.example", "sent")
    assert logged.message_id == message["Message-ID"]

    again = send_documents(db, settings, period_documents(db, billing.period), sent_by="t")
    assert again.sent == [] and sorted(again.already) == sorted(i.number for i in issued)
    assert len(smtp.messages) == 3

    forced = send_documents(db, settings, period_documents(db, billing.period), sent_by="t",
                            resend=True)
    assert len(forced.sent) == 3 and len(smtp.messages) == 6


def test_no_billing_email_is_listed_and_the_others_are_sent(db, billing, smtp) -> None:
    _emails(billing)
    billing.members["B"].billing_email = None
    _issue(db, billing)
    report = send_documents(db, settings_from_env(), period_documents(db, billing.period),
                            sent_by="t")
    assert report.no_email == ["B SCOP Bois & Co"]
    assert not report.ok
    assert sorted(m["To"] for m in smtp.messages) == [
        "compta-a@adherent.example", "compta-c@adherent.example"]


def test_server_down_marks_nothing_sent_and_a_later_run_sends_each_once(
    db, billing, smtp, smtp_down, monkeypatch
) -> None:
    _emails(billing)
    _issue(db, billing)
    working = settings_from_env()
    smtp_down()
    report = send_documents(db, settings_from_env(), period_documents(db, billing.period),
                            sent_by="t")
    # The first e-mail fails to connect: logged as failed; the run stops, the rest not tried.
    assert len(report.failed) == 1 and "injoignable" in report.failed[0][1]
    assert len(report.not_tried) == 2
    assert {outcome for *_, outcome in _log(db)} == {"failed"}
    retry = send_documents(db, working, period_documents(db, billing.period), sent_by="t")
    assert len(retry.sent) == 3 and retry.ok
    assert len(smtp.messages) == 3
    assert send_documents(db, working, period_documents(db, billing.period),
                          sent_by="t").sent == []


def test_a_refused_recipient_is_reported_and_retried(db, billing, smtp) -> None:
    _emails(billing)
    _issue(db, billing)
    smtp.refuse.add("compta-b@adherent.example")
    report = send_documents(db, settings_from_env(), period_documents(db, billing.period),
                            sent_by="t")
    assert [n for n, _ in report.sent] != [] and len(report.sent) == 2
    (number, why), = report.failed
    assert "Destinataire refusé" in why and "compta-b@adherent.example" in why
    smtp.refuse.clear()
    retry = send_documents(db, settings_from_env(), period_documents(db, billing.period),
                           sent_by="t")
    assert retry.sent == [(number, "compta-b@adherent.example")]
    assert len(smtp.to("compta-b@adherent.example")) == 1


def test_a_document_failing_en16931_is_not_sent(db, billing, smtp) -> None:
    _emails(billing)
    billing.carrier.vat_regime = "exempt_261b"
    billing.carrier.vat_number = None  # BR-E-02: an exempt seller needs its VAT number
    _issue(db, billing)
    report = send_documents(db, settings_from_env(), period_documents(db, billing.period),
                            sent_by="t")
    assert report.sent == [] and smtp.messages == []
    assert len(report.invalid) == 3 and all("BR-E-02" in why for _, why in report.invalid)
    assert {outcome for *_, outcome in _log(db)} == {"failed"}


def test_the_cli_sends_and_says_what_was_not_sent(db, billing, smtp, runner) -> None:
    _emails(billing)
    billing.members["C"].billing_email = None
    _issue(db, billing)
    result = runner.invoke(cli, ["invoices", "send", "2026-01"])
    assert result.exit_code == 1, result.output
    assert "2 documents sent for 2026-01." in result.output
    assert "Sans adresse de facturation : C Entreprise d'insertion Val Saône" in result.output
    again = runner.invoke(cli, ["invoices", "send", "2026-01"])
    assert "0 documents sent" in again.output and "Déjà envoyé" in again.output


def test_the_cli_refuses_without_smtp_settings(db, billing, runner, monkeypatch) -> None:
    monkeypatch.delenv("MUTUALISE_SMTP_URL", raising=False)
    result = runner.invoke(cli, ["invoices", "send", "2026-01"])
    assert result.exit_code == 1
    assert "MUTUALISE_SMTP_URL" in result.output


def test_the_send_page_sends_and_the_invoice_page_shows_when_and_to_whom(
    db, billing, smtp, client, login_as
) -> None:
    _emails(billing)
    billing.members["B"].billing_email = None
    issued = _issue(db, billing)
    login_as(Role.ACCOUNTANT)
    page = client.get("/factures/envois?periode=2026-01").get_data(as_text=True)
    assert "Sans adresse de facturation (non envoyés) : B SCOP Bois &amp; Co" in page
    response = client.post("/factures/envois", data={"periode": "2026-01"})
    text = response.get_data(as_text=True)
    assert "Envoyé : " + issued[0].number + " à compta-a@adherent.example" in text
    assert len(smtp.messages) == 2
    detail = client.get(f"/factures/{issued[0].id}").get_data(as_text=True)
    assert "Envois par courriel" in detail and "compta-a@adherent.example" in detail
    assert "Envoyé" in detail


def test_pdf_download_follows_the_member_scope(db, billing, client, login_as) -> None:
    issued = _issue(db, billing)
    login_as(Role.MEMBER_ACCOUNTANT, member=billing.members["A"])
    own = client.get(f"/factures/{issued[0].id}/pdf")
    assert own.status_code == 200 and own.mimetype == "application/pdf"
    assert own.headers["Content-Disposition"].endswith(f"FACTURE-{issued[0].number}.pdf")
    assert client.get(f"/factures/{issued[1].id}/pdf").status_code == 404
    assert client.get("/factures/999999/pdf").status_code == 404


def test_late_charges_worked_by_hand() -> None:
    # 1 200,00 € due on 31/01, paid nothing, 30 days late on 02/03 at 12 % a year:
    # 1 200 × 12 % × 30 / 365 = 11,8356… → 11,84 €; the indemnity is 40 €.
    charges = late_charges(Decimal("1200.00"), date(2026, 1, 31), Decimal("12.00"),
                           date(2026, 3, 2))
    assert (charges.days_late, charges.penalties, charges.indemnity) == (
        30, Decimal("11.84"), Decimal("40.00"))
    assert charges.total == Decimal("1251.84")
    assert late_charges(Decimal("1200.00"), date(2026, 1, 31), Decimal("12.00"),
                        date(2026, 1, 31)).indemnity == Decimal("0")


def test_reminder_schedule() -> None:
    due = date(2026, 3, 7)
    assert reminder_due(due, date(2026, 3, 21), 15, 30, set()) is None  # 14 days late
    assert reminder_due(due, date(2026, 3, 22), 15, 30, set()) == "reminder_1"
    assert reminder_due(due, date(2026, 4, 5), 15, 30, {"reminder_1"}) is None  # 29 days
    assert reminder_due(due, date(2026, 4, 6), 15, 30, {"reminder_1"}) == "reminder_2"
    # Very late and never reminded: the first reminder comes first.
    assert reminder_due(due, date(2026, 6, 1), 15, 30, set()) == "reminder_1"
    assert reminder_due(due, date(2026, 6, 1), 15, 30, {"reminder_1", "reminder_2"}) is None


def test_reminders_are_sent_once_each_with_the_penalties(db, billing, smtp, runner) -> None:
    _emails(billing)
    issued = _issue(db, billing)  # due 07/03/2026 (30 days)
    invoice = issued[0]
    assert invoice.due_date == date(2026, 3, 7)
    settings = settings_from_env()
    assert send_reminders(db, settings, on=date(2026, 3, 21), sent_by="t").sent == []
    first = send_reminders(db, settings, on=date(2026, 3, 22), sent_by="t")
    assert len(first.sent) == 3
    message = smtp.to("compta-a@adherent.example")[0]
    assert message["Subject"] == f"Première relance — facture n° {invoice.number}"
    body = message.get_body(("plain",)).get_content()
    # 4 000,01 € × 12 % × 15 / 365 = 19,7260… → 19,73 €.
    assert "Pénalités de retard au 22/03/2026 (15 jours au taux annuel de 12,00 %) : " \
           "19,73\u00a0€" in body
    assert "Indemnité forfaitaire pour frais de recouvrement" in body and "40,00\u00a0€" in body
    assert "Total exigible : 4\u202f059,74\u00a0€" in body
    assert send_reminders(db, settings, on=date(2026, 3, 30), sent_by="t").sent == []
    result = runner.invoke(cli, ["invoices", "remind", "--date", "2026-04-06"])
    assert result.exit_code == 0, result.output
    assert "3 reminders sent." in result.output
    second = smtp.to("compta-a@adherent.example")[-1]
    assert second["Subject"].startswith("Seconde relance")


def test_the_admin_sets_the_reminder_schedule_and_a_wrong_one_is_refused(
    db, billing, client, login_as
) -> None:
    login_as(Role.ADMIN)
    data = {"action": "schedule", "schedule-first_days": "10", "schedule-second_days": "25"}
    assert client.post("/factures/relances", data=data).status_code == 302
    db.refresh(billing.carrier)
    assert (billing.carrier.reminder_first_days, billing.carrier.reminder_second_days) == (10, 25)
    wrong = {"action": "schedule", "schedule-first_days": "20", "schedule-second_days": "5"}
    page = client.post("/factures/relances", data=wrong).get_data(as_text=True)
    assert "La seconde relance vient après la première." in page
    db.refresh(billing.carrier)
    assert billing.carrier.reminder_second_days == 25


def test_only_the_admin_changes_the_schedule(db, billing, client, login_as) -> None:
    login_as(Role.TREASURER)
    data = {"action": "schedule", "schedule-first_days": "10", "schedule-second_days": "25"}
    assert client.post("/factures/relances", data=data).status_code == 403
    assert billing.carrier.reminder_first_days == 15


def test_the_send_page_lists_by_pages_and_sends_every_document(
    db, billing, smtp, client, login_as, monkeypatch
) -> None:
    from app.delivery import routes

    monkeypatch.setattr(routes, "PER_PAGE", 2)
    _emails(billing)
    issued = _issue(db, billing)
    login_as(Role.ACCOUNTANT)
    first = client.get("/factures/envois?periode=2026-01").get_data(as_text=True)
    second = client.get("/factures/envois?periode=2026-01&page=2").get_data(as_text=True)
    numbers = [invoice.number for invoice in issued]
    assert numbers[0] in first and numbers[1] in first and numbers[2] not in first
    assert numbers[2] in second and numbers[0] not in second and "Page 2 sur 2" in second
    assert "Envoyer les documents de" in second and "(3)" in second
    client.post("/factures/envois", data={"periode": "2026-01"})
    assert len(smtp.messages) == 3  # the three members, not only the page shown
