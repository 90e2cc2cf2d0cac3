"""Routes: the PDF of a document, sending a period's documents, reminders, addresses to complete.

Access: the PDF follows the workbook's rules (readers; a member accountant only its member's
documents, other ids are 404; drafts have none). Sending and reminders: admin, accountant,
treasurer; the reminder schedule: admin.
"""

from __future__ import annotations

import io
from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import or_, select

from accounting.facturx.pdf import facturx_pdf
from accounting.invoicing.delivery import Delivery, late_charges, validate_schedule
from accounting.invoicing.models import Invoice
from accounting.invoicing.payments import overdue_invoices
from accounting.org import Carrier, Member, Role
from accounting.periods import Period
from app.access import ensure_member, roles_required
from app.database import get_db
from app.delivery.blueprint import bp
from app.delivery.forms import RemindForm, ScheduleForm, SendForm
from app.delivery.usecases import (
    period_document_rows,
    period_documents,
    send_documents,
    send_reminders,
    sent_purposes,
)
from app.formatting import plural
from app.mail import settings_from_env
from app.params import parse_page

#: Documents listed per page on the send page.
PER_PAGE = 50

A, C, M, T = Role.ADMIN, Role.ACCOUNTANT, Role.MEMBER_ACCOUNTANT, Role.TREASURER
READERS = (A, C, T, M)
SENDERS = (A, C, T)


@bp.app_context_processor
def _helpers() -> dict[str, object]:
    def deliveries_of(invoice: Invoice) -> list[Delivery]:
        return list(get_db().scalars(
            select(Delivery).where(Delivery.invoice_id == invoice.id)
            .order_by(Delivery.attempted_at.desc(), Delivery.id.desc())
        ))

    return {"deliveries_of": deliveries_of}


@bp.route("/factures/<int:invoice_id>/pdf")
@roles_required(*READERS)
def pdf(invoice_id: int) -> ResponseReturnValue:
    invoice = get_db().get(Invoice, invoice_id)
    if invoice is None or invoice.is_draft:
        abort(404)
    ensure_member(invoice.member_id)
    return send_file(io.BytesIO(facturx_pdf(invoice)), mimetype="application/pdf",
                     as_attachment=True, download_name=invoice.pdf_name)


def _settings_or_flash() -> object | None:
    try:
        settings = settings_from_env()
    except ValueError as error:
        flash(str(error), "error")
        return None
    if settings is None:
        flash("L'envoi de courriels n'est pas configuré (variable MUTUALISE_SMTP_URL).", "error")
    return settings


def _issued_periods() -> list[Period]:
    db = get_db()
    ids = select(Invoice.period_id).where(Invoice.status != "draft").distinct()
    return list(db.scalars(select(Period).where(Period.id.in_(ids)).order_by(Period.start.desc())))


@bp.route("/factures/envois", methods=["GET", "POST"])
@roles_required(*SENDERS)
def send() -> ResponseReturnValue:
    db = get_db()
    periods = _issued_periods()
    code = request.values.get("periode") or (periods[0].code if periods else None)
    period = next((p for p in periods if p.code == code), None)
    if code and period is None and periods:
        abort(404)
    form = SendForm()
    report = None
    if period is not None and form.validate_on_submit():
        settings = _settings_or_flash()
        if settings is not None:
            report = send_documents(db, settings, period_documents(db, period),
                                    sent_by=current_user.email, resend=form.resend.data)
            flash(f"{plural(len(report.sent), 'document envoyé')}.",
                  "success" if report.ok else "warning")
    documents = period_document_rows(db, period) if period is not None else []
    no_email = sorted({f"{d.member_code} {d.member_name}" for d in documents
                       if not d.billing_email})
    # The list by pages (1 000 documents a period at 1 000 members: most of the page, issue
    # 16); sending still takes every document.
    pages = max(1, -(-len(documents) // PER_PAGE))
    page = min(max(1, parse_page(request.args.get("page"))), pages)
    shown = documents[(page - 1) * PER_PAGE:page * PER_PAGE]
    done = sent_purposes(db, [d.id for d in shown])
    return render_template("delivery/send.html", periods=periods, period=period,
                           documents=shown, count=len(documents), page=page, pages=pages,
                           done=done, no_email=no_email, form=form, report=report)


@bp.route("/factures/relances", methods=["GET", "POST"])
@roles_required(*SENDERS)
def reminders() -> ResponseReturnValue:
    db = get_db()
    carrier = db.scalars(select(Carrier).order_by(Carrier.id).limit(1)).first()
    if carrier is None:
        flash("Créez d'abord la structure porteuse (Administration) : elle porte le "
              "calendrier des relances.", "info")
        return redirect(url_for("invoices.overdue"))
    today = date.today()
    schedule = ScheduleForm(prefix="schedule", first_days=carrier.reminder_first_days,
                            second_days=carrier.reminder_second_days)
    remind = RemindForm(prefix="remind")
    report = None
    if request.method == "POST" and request.form.get("action") == "schedule":
        if not current_user.has_role(A):
            abort(403)
        if schedule.validate():
            try:
                validate_schedule(schedule.first_days.data, schedule.second_days.data)
            except ValueError as error:
                schedule.second_days.errors = [str(error)]
            else:
                carrier.reminder_first_days = schedule.first_days.data
                carrier.reminder_second_days = schedule.second_days.data
                db.commit()
                flash("Calendrier des relances enregistré.", "success")
                return redirect(url_for(".reminders"))
    elif request.method == "POST" and remind.validate():
        settings = _settings_or_flash()
        if settings is not None:
            report = send_reminders(db, settings, on=today, sent_by=current_user.email)
            flash(f"{plural(len(report.sent), 'relance envoyée')}.",
                  "success" if report.ok else "warning")
    late = overdue_invoices(db, today=today)
    done = sent_purposes(db, [i.id for i in late])
    rows = [(i, late_charges(i.outstanding, i.due_date, i.late_penalty_rate, today),
             done.get(i.id, set())) for i in late]
    return render_template("delivery/reminders.html", rows=rows, schedule=schedule,
                           remind=remind, report=report, carrier=carrier, today=today)


def incomplete_addresses(db: object) -> list[tuple[str, str, str]]:
    """(kind, code, name) of the carrier and members without postcode or city."""
    out: list[tuple[str, str, str]] = []
    missing = or_(Member.postcode.is_(None), Member.city.is_(None))
    for member in db.scalars(select(Member).where(missing).order_by(Member.code)):
        out.append(("adhérent", member.code, member.name))
    carrier_missing = or_(Carrier.postcode.is_(None), Carrier.city.is_(None))
    for carrier in db.scalars(select(Carrier).where(carrier_missing)):
        out.append(("structure porteuse", carrier.code, carrier.name))
    return out


@bp.route("/admin/adresses")
@roles_required(A)
def addresses() -> ResponseReturnValue:
    return render_template("delivery/addresses.html", rows=incomplete_addresses(get_db()))
