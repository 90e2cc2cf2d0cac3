"""Sending the documents of a period and the reminders, with the send log.

One e-mail per member, to its billing address, with the Factur-X PDF of each of its documents
not sent yet (all of them with ``resend``). Before anything leaves, each document's XML is
checked against the EN 16931 rules and the Factur-X schema: a document that fails is not sent
(logged as failed, with the rules it breaks). The log is committed after each e-mail, so what
went out is recorded even if a later one fails; a failure is logged as such and retried by the
next run. When the server cannot be reached, the run stops there (the rest is « not tried »).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from accounting.facturx import rules
from accounting.facturx.pdf import facturx_pdf, facturx_xml
from accounting.invoicing.amounts import InvoiceStatus, format_eur
from accounting.invoicing.delivery import Delivery, Outcome, Purpose, late_charges, reminder_due
from accounting.invoicing.models import Invoice, kind_label
from accounting.invoicing.payments import overdue_invoices
from accounting.invoicing.services import get_carrier
from accounting.org import Member
from accounting.periods import Period
from app.mail import MailError, ServerUnreachable, SmtpSettings, new_message, send


@dataclass
class SendReport:
    sent: list[tuple[str, str]] = field(default_factory=list)  #: (number, recipient)
    already: list[str] = field(default_factory=list)
    no_email: list[str] = field(default_factory=list)  #: « CODE Name »
    invalid: list[tuple[str, str]] = field(default_factory=list)  #: (number, why)
    failed: list[tuple[str, str]] = field(default_factory=list)  #: (number, why)
    not_tried: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.no_email or self.invalid or self.failed or self.not_tried)

    def lines(self) -> list[str]:
        """The report in French, one line per fact (pages and commands print it)."""
        out = [f"Envoyé : {number} à {to}" for number, to in self.sent]
        if self.already:
            out.append(f"Déjà envoyé (non renvoyé) : {', '.join(self.already)}")
        out += [f"Sans adresse de facturation : {who}" for who in self.no_email]
        out += [f"Non envoyé, non conforme EN 16931 : {n} — {why}" for n, why in self.invalid]
        out += [f"Échec de l'envoi : {n} — {why}" for n, why in self.failed]
        if self.not_tried:
            out.append(f"Non tenté (serveur injoignable) : {', '.join(self.not_tried)}")
        return out


def sent_purposes(db: Session, invoice_ids: list[int]) -> dict[int, set[str]]:
    """Per document, the purposes already sent successfully."""
    done: dict[int, set[str]] = defaultdict(set)
    for invoice_id, purpose in db.execute(
        select(Delivery.invoice_id, Delivery.purpose).where(
            Delivery.invoice_id.in_(invoice_ids), Delivery.outcome == Outcome.SENT
        )
    ):
        done[invoice_id].add(purpose)
    return done


def period_documents(db: Session, period: Period, member_id: int | None = None) -> list[Invoice]:
    """The period's issued documents in number order, with what their PDFs need."""
    stmt = (
        select(Invoice)
        .where(Invoice.period_id == period.id, Invoice.status != InvoiceStatus.DRAFT)
        .order_by(Invoice.year, Invoice.sequence)
        .options(selectinload(Invoice.lines), selectinload(Invoice.original),
                 selectinload(Invoice.member))
    )
    if member_id is not None:
        stmt = stmt.where(Invoice.member_id == member_id)
    return list(db.scalars(stmt))


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """One document of the send page's list: what it shows, read as a row."""

    id: int
    kind_label: str
    number: str | None
    customer_code: str
    customer_name: str
    total_incl_tax: Decimal
    member_code: str
    member_name: str
    billing_email: str | None


def period_document_rows(db: Session, period: Period) -> list[DocumentRow]:
    """The period's issued documents in number order, as the send page lists them: one
    statement of rows, no objects (the documents with their members as ORM objects were
    half of the page at 1 000 members, 2 000 objects a view; their lines and originals,
    18 500 objects, had been left out before, issue 16)."""
    rows = db.execute(
        select(Invoice.id, Invoice.kind, Invoice.role, Invoice.number, Invoice.customer_code,
               Invoice.customer_name, Invoice.total_incl_tax, Member.code, Member.name,
               Member.billing_email)
        .join(Member, Member.id == Invoice.member_id)
        .where(Invoice.period_id == period.id, Invoice.status != InvoiceStatus.DRAFT)
        .order_by(Invoice.year, Invoice.sequence)
    )  # fmt: skip
    return [DocumentRow(id_, kind_label(kind, role), *rest) for id_, kind, role, *rest in rows]


def _checked_pdf(invoice: Invoice) -> tuple[bytes | None, str]:
    """(PDF, "") when the document passes EN 16931 and the Factur-X schema, else (None, why)."""
    xml = facturx_xml(invoice)
    broken = rules.failures(xml)
    if broken:
        return None, "; ".join(broken)
    try:
        return facturx_pdf(invoice, xml), ""
    except Exception as error:  # the factur-x package raises plain exceptions on XSD errors
        return None, f"schéma Factur-X : {error}"


def _log(db: Session, invoices: list[Invoice], purpose: Purpose, to: str, outcome: Outcome,
         sent_by: str, message_id: str = "", error: str = "") -> None:
    for invoice in invoices:
        db.add(Delivery(invoice_id=invoice.id, purpose=purpose.value, recipient=to,
                        outcome=outcome.value, message_id=message_id, error=error[:2000],
                        sent_by=sent_by))
    db.commit()


def _document_mail(settings: SmtpSettings, member: Member, invoices: list[Invoice],
                   carrier_name: str) -> EmailMessage:
    numbers = ", ".join(i.number or "" for i in invoices)
    body = [
        "Bonjour,",
        "",
        f"Veuillez trouver ci-joint vos documents de {carrier_name} :",
        "",
    ]
    for invoice in invoices:
        due = "" if invoice.is_credit_note else (
            f", échéance le {invoice.due_date:%d/%m/%Y}" if invoice.due_date else "")
        body.append(f"- {invoice.kind_label} n° {invoice.number} du "
                    f"{invoice.issue_date:%d/%m/%Y} : {format_eur(invoice.total_incl_tax)}{due}")
    body += [
        "",
        "Chaque PDF contient la facture électronique structurée (Factur-X, EN 16931).",
        "",
        "Cordialement,",
        carrier_name,
    ]
    message = new_message(settings, member.billing_email or "",
                          f"{carrier_name} — documents {numbers}", "\n".join(body))
    return message


def send_documents(db: Session, settings: SmtpSettings, documents: list[Invoice], *,
                   sent_by: str, resend: bool = False) -> SendReport:
    """Send each member its documents among ``documents`` (see the module docstring)."""
    report = SendReport()
    done = sent_purposes(db, [d.id for d in documents])
    by_member: dict[int, list[Invoice]] = defaultdict(list)
    for document in documents:
        if Purpose.DOCUMENT in done.get(document.id, set()) and not resend:
            report.already.append(document.number or "")
        else:
            by_member[document.member_id].append(document)
    carrier_name = get_carrier(db).name
    members = list(by_member.items())
    for index, (_member_id, invoices) in enumerate(members):
        member = invoices[0].member
        if not member.billing_email:
            report.no_email.append(f"{member.code} {member.name}")
            continue
        attachments, ready = [], []
        for invoice in invoices:
            pdf, why = _checked_pdf(invoice)
            if pdf is None:
                report.invalid.append((invoice.number or "", why))
                _log(db, [invoice], Purpose.DOCUMENT, member.billing_email, Outcome.FAILED,
                     sent_by, error=f"Non conforme EN 16931 : {why}")
                continue
            attachments.append((invoice.pdf_name, pdf))
            ready.append(invoice)
        if not ready:
            continue
        message = _document_mail(settings, member, ready, carrier_name)
        for name, pdf in attachments:
            message.add_attachment(pdf, maintype="application", subtype="pdf", filename=name)
        if not _deliver(db, settings, message, ready, Purpose.DOCUMENT, member.billing_email,
                        sent_by, report):
            report.not_tried += [i.number or "" for _, rest in members[index + 1:]
                                 for i in rest]
            break
    return report


def _deliver(db: Session, settings: SmtpSettings, message: EmailMessage, invoices: list[Invoice],
             purpose: Purpose, to: str, sent_by: str, report: SendReport) -> bool:
    """Send and log; False when the server could not be reached (stop the run)."""
    try:
        message_id = send(settings, message)
    except MailError as error:
        for invoice in invoices:
            report.failed.append((invoice.number or "", str(error)))
        _log(db, invoices, purpose, to, Outcome.FAILED, sent_by, error=str(error))
        return not isinstance(error, ServerUnreachable)
    for invoice in invoices:
        report.sent.append((invoice.number or "", to))
    _log(db, invoices, purpose, to, Outcome.SENT, sent_by, message_id=message_id)
    return True


def _reminder_mail(settings: SmtpSettings, invoice: Invoice, purpose: Purpose,
                   on: date) -> EmailMessage:
    charges = late_charges(invoice.outstanding, invoice.due_date or on,
                           invoice.late_penalty_rate, on)
    which = "Première relance" if purpose == Purpose.REMINDER_1 else "Seconde relance"
    body = "\n".join([
        "Bonjour,",
        "",
        f"Sauf erreur de notre part, la facture n° {invoice.number} du "
        f"{invoice.issue_date:%d/%m/%Y}, échue le {invoice.due_date:%d/%m/%Y}, reste impayée.",
        "",
        f"Reste dû : {format_eur(charges.outstanding)}",
        f"Pénalités de retard au {on:%d/%m/%Y} ({charges.days_late} jours au taux annuel de "
        f"{charges.rate:.2f} %) : {format_eur(charges.penalties)}".replace(".", ",", 1),
        f"Indemnité forfaitaire pour frais de recouvrement (article D441-5 du Code de "
        f"commerce) : {format_eur(charges.indemnity)}",
        f"Total exigible : {format_eur(charges.total)}",
        "",
        f"Merci de régler par virement (IBAN {invoice.carrier_iban or '—'}) en rappelant la "
        f"référence {invoice.number}. Si votre paiement est en cours, ne tenez pas compte de "
        "ce message.",
        "",
        "Cordialement,",
        invoice.carrier_name,
    ])
    return new_message(settings, invoice.member.billing_email or "",
                       f"{which} — facture n° {invoice.number}", body)


def send_reminders(db: Session, settings: SmtpSettings, *, on: date, sent_by: str) -> SendReport:
    """First or second reminder for each overdue invoice whose time has come (each once)."""
    carrier = get_carrier(db)
    report = SendReport()
    invoices = overdue_invoices(db, today=on)
    done = sent_purposes(db, [i.id for i in invoices])
    for invoice in invoices:
        purpose = reminder_due(invoice.due_date or on, on, carrier.reminder_first_days,
                               carrier.reminder_second_days, done.get(invoice.id, set()))
        if purpose is None:
            continue
        member = invoice.member
        if not member.billing_email:
            report.no_email.append(f"{member.code} {member.name} ({invoice.number})")
            continue
        pdf, _why = _checked_pdf(invoice)
        message = _reminder_mail(settings, invoice, purpose, on)
        if pdf is not None:
            message.add_attachment(pdf, maintype="application", subtype="pdf",
                                   filename=invoice.pdf_name)
        if not _deliver(db, settings, message, [invoice], purpose, member.billing_email,
                        sent_by, report):
            break
    return report
