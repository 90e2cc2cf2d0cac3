"""Routes of the invoices area (each declares its access rule with app.access).

Thin views: read the form, call one use case, commit, flash, redirect; domain refusals
(``InvoicingError``, ``PeriodError``, ``ImportRefused``) become French messages, never a 500.
A member accountant sees and downloads only their own member's documents: another member's id
is a 404 (``ensure_member``). Issued documents have no edit nor delete route at all.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from datetime import date
from typing import IO, Any

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from accounting.allocation.models import AllocationRun
from accounting.invoicing.amounts import STATUS_LABELS, InvoiceKind, InvoiceStatus, format_eur
from accounting.invoicing.dating import fiscal_year_warning
from accounting.invoicing.errors import InvoicingError
from accounting.invoicing.locks import is_invoiced
from accounting.invoicing.models import Invoice, Payment, PaymentAllocation, VatRegimeRule
from accounting.invoicing.payments import (
    member_balances,
    overdue_invoices,
)
from accounting.invoicing.services import (
    creditable,
    draft_invoices,
    get_carrier,
    invoice_by_number,
    missing_mentions,
    prepare_invoices,
    set_vat_regime,
)
from accounting.ledger.lettering import unlettered_balances
from accounting.money import parse_amount
from accounting.org import Member, Role, Service
from accounting.periods import Period, PeriodError, parse_period_code
from accounting.workbooks.invoice import invoice_bytes
from app.access import ensure_member, member_scope, roles_required
from app.database import get_db
from app.formatting import plural
from app.invoices.blueprint import bp
from app.invoices.forms import CreditNoteForm, ImportForm, IssueForm, PaymentForm, VatRuleForm
from app.invoices.usecases import (
    credit_invoice,
    import_statement,
    issue_period,
    pay,
    period_documents,
    use_member_credit,
    write_period_zip,
)
from app.params import MAX_ID, parse_id, parse_page
from app.uploads import TABULAR, PendingUploads, receive_upload
from imports.errors import ImportRefused
from imports.payments import analyse_payments
from timesheets.listing import (
    COMMON,
    MEMBER_SELECT_LIMIT,
    InvalidEntry,
    member_by_reference,
    member_labels,
)

A, C, M, T = Role.ADMIN, Role.ACCOUNTANT, Role.MEMBER_ACCOUNTANT, Role.TREASURER
READERS = (A, C, T, M)
#: Issue 7's journey has the treasurer issue the invoices of the run they approved.
ISSUERS = (A, C, T)
CASHIERS = (A, C, T)
PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _member_filter(db: Any, text: str) -> int | None:
    """The member of the list's filter: an id (the select), or a code or "CODE — Name" typed
    in the text input of a large cluster; an unknown one is said, and the filter ignored."""
    text = text.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return parse_id(text, "adherent")
    try:
        found = member_by_reference(db, text)
    except InvalidEntry as error:
        flash(str(error), "error")
        return None
    if found == COMMON:
        flash("Les factures sont toujours adressées à un adhérent : choisissez-en un.", "error")
        return None
    return found if isinstance(found, int) else None


def _member_label(db: Any, text: str) -> str:
    """What the text input shows for the filter's value: "CODE — Name" for an id."""
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        return member_labels(db, [int(text)]).get(int(text), text)
    return text


def _who() -> str:
    return current_user.email


def _invoice(invoice_id: int) -> Invoice:
    """The document, or 404 when it does not exist or belongs to another member."""
    invoice = get_db().get(Invoice, invoice_id)
    if invoice is None:
        abort(404)
    ensure_member(invoice.member_id)
    return invoice


# ---------------------------------------------------------------- list and detail


@bp.route("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    db = get_db()
    scope = member_scope()
    filters = {
        "periode": request.args.get("periode", "").strip(),
        "adherent": request.args.get("adherent", ""),
        "statut": request.args.get("statut", ""),
        "type": request.args.get("type", ""),
    }
    stmt = select(Invoice)
    member_id = None if scope is not None else _member_filter(db, filters["adherent"])
    if scope is not None:
        stmt = stmt.where(Invoice.member_id == scope, Invoice.status != InvoiceStatus.DRAFT)
    elif member_id is not None:
        stmt = stmt.where(Invoice.member_id == member_id)
    if filters["statut"] in {s.value for s in InvoiceStatus}:
        stmt = stmt.where(Invoice.status == filters["statut"])
    if filters["type"] in {k.value for k in InvoiceKind}:
        stmt = stmt.where(Invoice.kind == filters["type"])
    if filters["periode"]:
        try:
            kind, start, _ = parse_period_code(filters["periode"])
        except PeriodError as error:
            flash(str(error), "error")
        else:
            stmt = stmt.join(Period, Period.id == Invoice.period_id).where(
                Period.kind == kind.value, Period.start == start
            )
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, parse_page(request.args.get("page"))), pages)
    invoices = db.scalars(
        stmt.order_by(Invoice.year.desc().nulls_first(), Invoice.sequence.desc(), Invoice.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    members: list[Any] = []
    member_text = ""
    if scope is None:
        # A select while the members are few; beyond, a text input with suggestions (the
        # timesheet pages' pattern): a page never renders a thousand options.
        if (db.scalar(select(func.count(Member.id))) or 0) <= MEMBER_SELECT_LIMIT:
            members = db.execute(
                select(Member.id, Member.code, Member.name).order_by(Member.code)
            ).all()
        else:
            member_text = _member_label(db, str(member_id or filters["adherent"]))
    return render_template(
        "invoices/index.html", invoices=invoices, filters=filters, page=page, pages=pages,
        total=total, members=members, member_input=scope is None and not members,
        member_text=member_text, statuses=STATUS_LABELS,
        kinds=list(InvoiceKind),
        periods=_issued_periods(),
    )


def _issued_periods() -> list[Period]:
    db = get_db()
    ids = select(Invoice.period_id).distinct()
    return list(db.scalars(select(Period).where(Period.id.in_(ids)).order_by(Period.start.desc())))


@bp.route("/<int:invoice_id>")
@roles_required(*READERS)
def detail(invoice_id: int) -> ResponseReturnValue:
    invoice = _invoice(invoice_id)
    if invoice.is_draft and member_scope() is not None:
        abort(404)
    db = get_db()
    left = creditable(db, invoice) if not invoice.is_credit_note and invoice.is_issued else None
    return render_template("invoices/detail.html", invoice=invoice, creditable=left)


@bp.route("/<int:invoice_id>/xlsx")
@roles_required(*READERS)
def download(invoice_id: int) -> ResponseReturnValue:
    invoice = _invoice(invoice_id)
    if invoice.is_draft:
        abort(404)
    return send_file(
        io.BytesIO(invoice_bytes(invoice)), mimetype=XLSX, as_attachment=True,
        download_name=invoice.file_name,
    )


@bp.route("/periode/<code>.zip")
@roles_required(*CASHIERS)
def period_zip(code: str) -> ResponseReturnValue:
    period = _period_or_404(code)
    documents = period_documents(get_db(), period)
    if not documents:
        flash(f"Aucune facture émise pour {period.label}.", "info")
        return redirect(url_for(".index", periode=period.code))
    # Workbooks and Factur-X PDFs, as the CLI export; written to a temporary file on disk
    # (memory stays flat whatever the period's size), then streamed and deleted.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _stream_and_close
    try:
        write_period_zip(documents, spool)
    except BaseException:
        spool.close()
        raise
    size = spool.tell()
    return Response(_stream_and_close(spool), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="factures-{period.code}.zip"',
        "Content-Length": str(size),
    })


def _stream_and_close(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        spool.seek(0)
        while chunk := spool.read(1 << 16):
            yield chunk
    finally:
        spool.close()


def _period_or_404(code: str) -> Period:
    try:
        kind, start, _ = parse_period_code(code)
    except PeriodError:
        abort(404)
    period = get_db().scalars(
        select(Period).where(Period.kind == kind.value, Period.start == start)
    ).one_or_none()
    if period is None:
        abort(404)
    return period


# ---------------------------------------------------------------- issue


@bp.route("/emettre", methods=["GET", "POST"])
@roles_required(*ISSUERS)
def issue() -> ResponseReturnValue:
    db = get_db()
    code = request.values.get("periode", "").strip()
    period = _period_or_404(code) if code else None
    form = IssueForm()
    if request.method == "POST" and period is not None:
        action = request.form.get("action")
        try:
            if action == "preparer":
                drafts = prepare_invoices(db, period)
                db.commit()
                flash(f"{plural(len(drafts), 'brouillon préparé')} pour {period.label} : "
                      "vérifiez-les puis émettez.", "success")
            elif action == "emettre" and form.validate():
                issued = issue_period(db, period, issue_date=form.issue_date.data,
                                      issued_by=_who(), confirm_year=form.confirm_year.data)
                db.commit()
                notes = sum(1 for i in issued if i.is_credit_note)
                flash(f"{plural(len(issued) - notes, 'facture')} et {plural(notes, 'avoir')} "
                      "émis : "
                      f"{_numbers([i.number for i in issued])}.", "success")
                return redirect(url_for(".index", periode=period.code))
            elif action == "emettre":
                flash("Indiquez une date de facture valide.", "error")
        except (InvoicingError, PeriodError) as error:
            db.rollback()
            flash(str(error), "error")
        return redirect(url_for(".issue", periode=period.code))
    drafts = draft_invoices(db, period) if period is not None else []
    warnings = {}
    if drafts:
        carrier = get_carrier(db)
        needs_vat = any(line.vat_regime == "standard" for d in drafts for line in d.lines)
        warnings = missing_mentions(carrier, [d.member for d in drafts],
                                    needs_vat_number=needs_vat)
    year_warning = (
        fiscal_year_warning(db, period, form.issue_date.data or date.today())
        if period is not None else None
    )
    return render_template(
        "invoices/issue.html", period=period, drafts=drafts, form=form, warnings=warnings,
        candidates=_candidate_periods(), year_warning=year_warning,
        correction=period is not None and is_invoiced(db, period),
    )


def _numbers(numbers: list[str | None]) -> str:
    shown = [n for n in numbers if n]
    if len(shown) > 3:
        return f"{shown[0]} à {shown[-1]}"
    return ", ".join(shown)


def _candidate_periods() -> list[tuple[Period, int, int]]:
    """Periods with an approved allocation: (period, drafts, documents issued), every kind
    and status counted (a dictionary keyed by status overwrote all but the last)."""
    db = get_db()
    periods = db.scalars(
        select(Period)
        .where(Period.id.in_(select(AllocationRun.period_id).where(
            AllocationRun.status == "approved")))
        .order_by(Period.start.desc())
    ).all()
    drafts: dict[int, int] = {}
    issued: dict[int, int] = {}
    for pid, status, n in db.execute(
        select(Invoice.period_id, Invoice.status, func.count())
        .group_by(Invoice.period_id, Invoice.status)
    ):
        target = drafts if status == InvoiceStatus.DRAFT.value else issued
        target[pid] = target.get(pid, 0) + n
    return [(p, drafts.get(p.id, 0), issued.get(p.id, 0)) for p in periods]


# ---------------------------------------------------------------- credit notes


@bp.route("/<int:invoice_id>/avoir", methods=["GET", "POST"])
@roles_required(*ISSUERS)
def credit(invoice_id: int) -> ResponseReturnValue:
    db = get_db()
    invoice = _invoice(invoice_id)
    if invoice.is_credit_note or invoice.is_draft:
        flash("Un avoir ne se fait que sur une facture émise.", "error")
        return redirect(url_for(".detail", invoice_id=invoice.id))
    form = CreditNoteForm()
    if form.validate_on_submit():
        amount = parse_amount(form.amount.data) if (form.amount.data or "").strip() else None
        try:
            note = credit_invoice(db, invoice, reason=form.reason.data, amount=amount,
                                  issue_date=form.issue_date.data, issued_by=_who())
            db.commit()
        except (InvoicingError, PeriodError) as error:
            db.rollback()
            flash(str(error), "error")
        else:
            flash(f"Avoir {note.number} émis sur la facture {invoice.number}.", "success")
            return redirect(url_for(".detail", invoice_id=note.id))
    return render_template("invoices/credit.html", invoice=invoice, form=form,
                           creditable=creditable(db, invoice))


# ---------------------------------------------------------------- payments


@bp.route("/paiements")
@roles_required(*CASHIERS)
def payments() -> ResponseReturnValue:
    db = get_db()
    member_id = parse_id(request.args.get("adherent"), "adherent")
    stmt = select(Payment)
    if member_id is not None:
        stmt = stmt.where(Payment.member_id == member_id)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, parse_page(request.args.get("page"))), pages)
    rows = db.scalars(
        stmt.order_by(Payment.paid_on.desc(), Payment.id.desc())
        .options(
            selectinload(Payment.allocations).selectinload(PaymentAllocation.invoice),
            selectinload(Payment.member),
        )
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    members = db.execute(select(Member.id, Member.code, Member.name).order_by(Member.code)).all()
    return render_template("invoices/payments.html", payments=rows, page=page, pages=pages,
                           total=total, members=members, member_id=member_id)


def _member_choices() -> list[tuple[int, str]]:
    rows = get_db().execute(select(Member.id, Member.code, Member.name).order_by(Member.code))
    return [SelectChoice(0, "— choisir —")] + [
        SelectChoice(mid, f"{code} — {name}") for mid, code, name in rows
    ]


@bp.route("/paiements/nouveau", methods=["GET", "POST"])
@roles_required(*CASHIERS)
def new_payment() -> ResponseReturnValue:
    db = get_db()
    form = PaymentForm()
    form.member.choices = _member_choices()
    if request.method == "GET" and (number := request.args.get("facture")):
        form.invoice.data = number
        try:
            found = invoice_by_number(db, number)
            form.member.data = found.member_id
            form.amount.data = f"{found.outstanding}".replace(".", ",")
        except InvoicingError:
            pass
    if form.validate_on_submit():
        member = db.get(Member, form.member.data)
        try:
            if member is None:
                raise InvoicingError("Choisissez l'adhérent.")
            invoices = None
            if (form.invoice.data or "").strip():
                invoices = [invoice_by_number(db, form.invoice.data)]
            payment = pay(
                db, member=member, paid_on=form.paid_on.data,
                amount=parse_amount(form.amount.data), method=form.method.data,
                reference=form.reference.data or "", invoices=invoices,
            )
            db.commit()
        except (InvoicingError, PeriodError) as error:
            db.rollback()
            flash(str(error), "error")
        else:
            message = f"Paiement de {format_eur(payment.amount)} enregistré pour {member.code}."
            if payment.unallocated > 0:
                message += (f" {format_eur(payment.unallocated)} dépassent ce qui était dû : "
                            "gardés en crédit sur le compte de l'adhérent.")
            flash(message, "success")
            return redirect(url_for(".payments", adherent=member.id))
    return render_template("invoices/payment_form.html", form=form)


#: Statements kept between the preview and the confirmation (their uploader's only).
STATEMENTS = PendingUploads("payments")


@bp.route("/paiements/import", methods=["GET", "POST"])
@roles_required(*CASHIERS)
def import_upload() -> ResponseReturnValue:
    db = get_db()
    form = ImportForm()
    token = request.values.get("fichier", "")
    if form.validate_on_submit():
        upload = form.document.data
        try:
            received = receive_upload(upload, accept=TABULAR)
        except ImportRefused as refused:
            flash(str(refused), "error")
            return redirect(url_for(".import_upload"))
        token = STATEMENTS.store(current_user.id, received.data, received.name)
        return redirect(url_for(".import_upload", fichier=token))
    preview = None
    if token:
        stored = STATEMENTS.get(current_user.id, token)
        if stored is None:
            flash("Le fichier n'est plus disponible : déposez-le à nouveau.", "error")
            return redirect(url_for(".import_upload"))
        path, name = stored
        try:
            preview = analyse_payments(db, path.read_bytes(), name)
        except ImportRefused as refused:
            return render_template("invoices/import.html", form=form, preview=None,
                                   token="", refused=refused)
    return render_template("invoices/import.html", form=form, preview=preview, token=token,
                           refused=None)


@bp.route("/paiements/import/confirmer", methods=["POST"])
@roles_required(*CASHIERS)
def import_confirm() -> ResponseReturnValue:
    db = get_db()
    token = request.form.get("fichier", "")
    stored = STATEMENTS.get(current_user.id, token)
    if stored is None:
        flash("Le fichier n'est plus disponible : déposez-le à nouveau.", "error")
        return redirect(url_for(".import_upload"))
    path, name = stored
    try:
        preview = import_statement(db, path.read_bytes(), name)
        db.commit()
    except ImportRefused as refused:
        db.rollback()
        flash(str(refused), "error")
        return redirect(url_for(".import_upload", fichier=token))
    STATEMENTS.discard(current_user.id, token)
    flash(f"Import terminé : {preview.summary()}", "success" if preview.new else "info")
    return redirect(url_for(".payments"))


# ---------------------------------------------------------------- balances, overdue


@bp.route("/soldes")
@roles_required(*CASHIERS)
def balances() -> ResponseReturnValue:
    db = get_db()
    rows = member_balances(db)
    unlettered = unlettered_balances(db)
    # The total line over every member, summed here; the members by pages (1 000 rows were
    # most of the page at 1 000 members, issue 16).
    totals = [sum(getattr(row, name) for row in rows)
              for name in ("invoiced", "credited", "paid", "balance")]
    totals += [sum(unlettered.values()), sum(row.overdue for row in rows)]
    pages = max(1, -(-len(rows) // PER_PAGE))
    page = min(max(1, parse_page(request.args.get("page"))), pages)
    shown = rows[(page - 1) * PER_PAGE:page * PER_PAGE]
    return render_template("invoices/balances.html", balances=shown, unlettered=unlettered,
                           totals=totals, page=page, pages=pages, members=len(rows))


@bp.route("/soldes/<int:member_id>/imputer", methods=["POST"])
@roles_required(*CASHIERS)
def apply_credit(member_id: int) -> ResponseReturnValue:
    db = get_db()
    member = db.get(Member, member_id)
    if member is None:
        abort(404)
    made = use_member_credit(db, member)
    db.commit()
    if made:
        flash(f"Crédit de {member.code} imputé sur {plural(len(made), 'facture')}.", "success")
    else:
        flash(f"Rien à imputer pour {member.code} : pas de crédit ou pas de facture ouverte.",
              "info")
    return redirect(url_for(".balances"))


@bp.route("/retards")
@roles_required(*CASHIERS)
def overdue() -> ResponseReturnValue:
    today = date.today()
    rows = overdue_invoices(get_db(), today=today)
    return render_template("invoices/overdue.html", invoices=rows, today=today)


# ---------------------------------------------------------------- VAT regimes


@bp.route("/regimes-tva", methods=["GET", "POST"])
@roles_required(A)
def vat_regimes() -> ResponseReturnValue:
    db = get_db()
    form = VatRuleForm()
    form.member.choices = _member_choices()
    form.service.choices = [SelectChoice(0, "Tous ses services")] + [
        SelectChoice(sid, name) for sid, name in db.execute(
            select(Service.id, Service.name).where(Service.overheads_by.is_(None))
            .order_by(Service.name))
    ]
    if form.validate_on_submit():
        member = db.get(Member, form.member.data)
        service = db.get(Service, form.service.data) if form.service.data else None
        if member is None:
            flash("Choisissez l'adhérent.", "error")
        else:
            set_vat_regime(db, member, service, form.regime.data or None)
            db.commit()
            flash("Régime de TVA enregistré : il s'applique aux prochains brouillons.",
                  "success")
            return redirect(url_for(".vat_regimes"))
    rules = db.scalars(
        select(VatRegimeRule).join(Member).order_by(Member.code, VatRegimeRule.service_id)
    ).all()
    carrier = get_carrier_or_none()
    return render_template("invoices/vat_regimes.html", form=form, rules=rules, carrier=carrier)


def get_carrier_or_none() -> Any:
    try:
        return get_carrier(get_db())
    except InvoicingError:
        return None
