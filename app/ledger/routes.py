"""Routes of the ledger area (each declares its access rule with app.access).

Thin views: read the filters, call one function of ``accounting.ledger`` (or ``imports``),
render. Pages: the journal (a member accountant sees only the entries that name its member),
an entry, the entries of a document (drill-down from an invoice, a payment, a cost), the
general ledger of an account with its running balance, the trial balance, the chart of
accounts and the journals (the admin relabels them), the FEC (export, and our validator on an
uploaded file), the FEC import of the carrier's costs (upload, rules, preview, confirm), and
the member side (the entries a member books, as XLSX or FEC).
"""

from __future__ import annotations

import io
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from accounting.authz import Action
from accounting.costs import MODELS, CostError
from accounting.fec import FecError, write_fec, write_fec_rows
from accounting.fec_check import RULES, scan_fec
from accounting.invoicing.models import Invoice, Payment
from accounting.ledger.catchup import post_missing, unposted_counts
from accounting.ledger.chart import ensure_account, rename_account, rename_journal, seed_chart
from accounting.ledger.errors import LedgerError
from accounting.ledger.fec_export import fec_name, fec_rows
from accounting.ledger.fiscal_year import (
    carrier_start_month,
    fiscal_year_bounds,
    fiscal_year_label,
    fiscal_year_name,
    fiscal_year_of,
    fiscal_year_span_fr,
    fiscal_years_spanned,
)
from accounting.ledger.member_side import member_entries, member_file_stem
from accounting.ledger.models import Account, Journal, JournalEntry, JournalLine
from accounting.ledger.posting import entries_of
from accounting.ledger.reports import (
    PAGE_SIZE,
    account_page,
    date_span,
    journal_page,
    journals,
    ledger_accounts,
    totals,
    trial_balance,
)
from accounting.org import Member, Role, Service
from accounting.periods import PeriodError
from accounting.workbooks.ledger import (
    ledger_workbook_name,
    write_ledger_workbook,
    write_member_workbook,
)
from app.access import authorize, ensure_member, member_scope, roles_required
from app.database import get_db
from app.downloads import send_written
from app.formatting import plural
from app.ledger.blueprint import bp
from app.ledger.forms import AccountForm, LabelForm, RulesForm, UploadForm
from app.params import parse_id, parse_page
from app.uploads import FEC_FILES, PendingUploads, receive_upload
from imports.errors import ImportRefused
from imports.fec import FecRefused
from imports.fec_costs import import_fec_costs, parse_rule, preview_fec_costs, saved_rules

A, C, M, T = Role.ADMIN, Role.ACCOUNTANT, Role.MEMBER_ACCOUNTANT, Role.TREASURER
READERS = (A, C, T, M)
BOOKKEEPERS = (A, C, T)
WRITERS = (A, C)
#: The chart is read by the bookkeepers, edited by the admin (checked by ``authorize``).
EDIT_CHART = Action.of("ledger.chart_edit", [A])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: A FEC is text in ISO-8859-15: sent as a file to save, not a page to show.
FEC_MIMETYPE = "application/octet-stream"
#: Uploaded FEC files kept between the preview and the confirmation of a cost import.
FEC_UPLOADS = PendingUploads("fec")
#: Source types of entries and the words for them.
SOURCES = {"invoice": "Facture", "credit_note": "Avoir", "payment": "Paiement",
           "cost": "Charge", "subsidy": "Subvention"}  # fmt: skip


# ---------------------------------------------------------------- helpers


def _date_arg(name: str) -> date | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        flash(f"Date « {value} » illisible : choisissez-la dans le calendrier.", "error")
        return None


def _range() -> tuple[date, date]:
    """The « du » / « au » filters; by default the carrier's current fiscal year."""
    start, end = _date_arg("du"), _date_arg("au")
    if start is None or end is None:
        month = carrier_start_month(get_db())
        first, last = fiscal_year_bounds(fiscal_year_of(date.today(), month), month)
        start, end = start or first, end or last
    if end < start:
        flash("La date de fin précède la date de début : elles ont été inversées.", "info")
        start, end = end, start
    return start, end


def _page() -> int:
    return parse_page(request.args.get("page"))


def _range_args(start: date, end: date) -> dict[str, str]:
    return {"du": start.isoformat(), "au": end.isoformat()}


# ---------------------------------------------------------------- journal and entries


@bp.route("/")
@roles_required(*READERS)
def journal() -> ResponseReturnValue:
    db = get_db()
    start, end = _range()
    code = request.args.get("journal", "").strip() or None
    scope = member_scope()
    page = journal_page(db, start, end, journal=code, member_id=scope, page=_page())
    pending = None
    if scope is None and current_user.has_role(*WRITERS):
        pending = {kind: count for kind, count in unposted_counts(db).items() if count}
    first, last = date_span(db) if scope is None else (None, None)
    return render_template(
        "ledger/journal.html", page=page, start=start, end=end, journal_code=code or "",
        journals=journals(db), args={**_range_args(start, end), "journal": code or ""},
        pending=pending, sources=SOURCES, first=first, last=last,
    )


@bp.route("/rattrapage", methods=["POST"])
@roles_required(*WRITERS)
def catch_up() -> ResponseReturnValue:
    db = get_db()
    try:
        count = post_missing(db)
    except (LedgerError, PeriodError) as error:
        db.rollback()
        flash(str(error), "error")
    else:
        db.commit()
        flash(f"{plural(count, 'écriture passée')} pour les documents qui n'en avaient pas.",
              "success")  # fmt: skip
    return redirect(url_for(".journal"))


def _entry_or_404(entry_id: int) -> JournalEntry:
    db = get_db()
    entry = db.scalars(
        select(JournalEntry).where(JournalEntry.id == entry_id)
        .options(selectinload(JournalEntry.lines).selectinload(JournalLine.member))
    ).one_or_none()  # fmt: skip
    if entry is None:
        abort(404)
    scope = member_scope()
    if scope is not None and not any(line.member_id == scope for line in entry.lines):
        abort(404)
    return entry


@bp.route("/ecritures/<int:journal_entry_id>")
@roles_required(*READERS)
def entry(journal_entry_id: int) -> ResponseReturnValue:
    db = get_db()
    found = _entry_or_404(journal_entry_id)
    labels = dict(db.execute(select(Account.number, Account.label).where(
        Account.number.in_({line.account for line in found.lines}))).all())  # fmt: skip
    reversal = db.scalars(select(JournalEntry).where(JournalEntry.reverses_id == found.id)).first()
    return render_template("ledger/entry.html", entry=found, labels=labels, reversal=reversal,
                           sources=SOURCES, document=_document_link(found))  # fmt: skip


def _document_link(found: JournalEntry) -> str | None:
    """The page of the document an entry comes from, when there is one."""
    if found.source_id is None:
        return None
    if found.source_type in ("invoice", "credit_note"):
        return url_for("invoices.detail", invoice_id=found.source_id)
    return None


@bp.route("/document/<kind>/<int:document_id>")
@roles_required(*READERS)
def document(kind: str, document_id: int) -> ResponseReturnValue:
    """The entries of an invoice, credit note, payment or cost (drill-down)."""
    db = get_db()
    title = SOURCES.get(kind)
    if title is None:
        abort(404)
    if kind in ("invoice", "credit_note"):
        found = db.get(Invoice, document_id)
        if found is None or found.is_draft:
            abort(404)
        ensure_member(found.member_id)
        title = f"{title} {found.number}"
    elif kind == "payment":
        found = db.get(Payment, document_id)
        if found is None:
            abort(404)
        ensure_member(found.member_id)
        title = f"Paiement du {found.paid_on:%d/%m/%Y} ({found.member.code})"
    else:
        if member_scope() is not None:
            abort(404)
        found = db.get(MODELS[kind], document_id)  # type: ignore[index]
        title = f"{title} n° {document_id}" + (f" – {found.label}" if found else " (supprimée)")
    entries = entries_of(db, kind, document_id)
    return render_template("ledger/document.html", title=title, entries=entries, kind=kind,
                           document_id=document_id)  # fmt: skip


# ---------------------------------------------------------------- general ledger and balance


@bp.route("/grand-livre")
@roles_required(*BOOKKEEPERS)
def general_ledger() -> ResponseReturnValue:
    db = get_db()
    start, end = _range()
    accounts = ledger_accounts(db, start, end)
    number = request.args.get("compte", "").strip()
    listed = {listed_account.number: listed_account for listed_account in accounts}
    if number and number not in listed and accounts:
        flash(f"Le compte {number} n'a ni solde d'ouverture ni mouvement du {start:%d/%m/%Y} "
              f"au {end:%d/%m/%Y}.",
              "info")  # fmt: skip
    account = listed.get(number) or (accounts[0] if accounts else None)
    opening = page = None
    if account is not None:
        opening, page = account_page(db, account.number, start, end, page=_page())
    return render_template(
        "ledger/general_ledger.html", accounts=accounts, account=account, opening=opening,
        page=page, start=start, end=end,
        args={**_range_args(start, end), "compte": account.number if account else ""},
    )


@bp.route("/balance")
@roles_required(*BOOKKEEPERS)
def balance() -> ResponseReturnValue:
    db = get_db()
    start, end = _range()
    rows = trial_balance(db, start, end)
    args = _range_args(start, end)
    # Accounts by pages of 100, the total line over all of them (1 004 accounts, 1 000 of them
    # 411 + member, were most of the page at 1 000 members, issue 16); the workbook's
    # « Balance » sheet has every account on one sheet.
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(_page(), pages)
    shown = rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    return render_template("ledger/balance.html", rows=shown, total=totals(rows),
                           count=len(rows), page=page, pages=pages, start=start, end=end,
                           args=args)  # fmt: skip


@bp.route("/grand-livre.xlsx")
@roles_required(*BOOKKEEPERS)
def workbook() -> ResponseReturnValue:
    """The ledger workbook of the range, written to a temporary file (streamed, so a large
    ledger never sits in memory) and sent."""
    start, end = _range()
    db = get_db()
    return send_written(lambda handle: write_ledger_workbook(db, start, end, handle),
                        mimetype=XLSX, download_name=ledger_workbook_name(start, end))  # fmt: skip


# ---------------------------------------------------------------- FEC


def _fec_page(**values: Any) -> str:
    """The FEC page: one download per fiscal year of the books (named by its closing year),
    the most recent first, and what the validator found when it ran."""
    db = get_db()
    month = carrier_start_month(db)
    years = [(year, fiscal_year_name(year, month), fiscal_year_label(year, month))
             for year in fiscal_years_spanned(*date_span(db), month)]  # fmt: skip
    return render_template("ledger/fec.html", years=years, rules=RULES,
                           span=fiscal_year_span_fr(month), **values)  # fmt: skip


@bp.route("/fec")
@roles_required(*BOOKKEEPERS)
def fec() -> ResponseReturnValue:
    return _fec_page(form=UploadForm(), scan=None, name=None)


@bp.route("/fec/<int:year>.txt")
@roles_required(*BOOKKEEPERS)
def fec_download(year: int) -> ResponseReturnValue:
    db = get_db()
    try:
        name = fec_name(db, year)
    except FecError as error:
        flash(str(error), "error")
        return redirect(url_for(".fec"))
    return send_written(lambda handle: write_fec_rows(fec_rows(db, year), handle),
                        mimetype=FEC_MIMETYPE, download_name=name)  # fmt: skip


@bp.route("/fec/controle", methods=["POST"])
@roles_required(*BOOKKEEPERS)
def fec_check() -> ResponseReturnValue:
    """Our validator on an uploaded FEC: every issue, line by line."""
    form = UploadForm()
    if not form.validate_on_submit():
        for message in form.document.errors:
            flash(message, "error")
        return redirect(url_for(".fec"))
    try:
        received = receive_upload(form.document.data, accept=FEC_FILES,
                                  max_bytes=_max_bytes())  # fmt: skip
    except ImportRefused as refused:  # the page again, with the reason: a 400, not a 500
        flash(str(refused), "error")
        return _fec_page(form=form, scan=None, name=None), 400
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / received.name  # a safe name: one component, short, no NUL
        path.write_bytes(received.data)
        scan = scan_fec(path)
    return _fec_page(form=form, scan=scan, name=received.name)


def _max_bytes() -> int:
    return current_app.config.get("MAX_CONTENT_LENGTH") or 50 * 2**20


# ---------------------------------------------------------------- FEC import of costs


def _rules_text() -> str:
    db = get_db()
    codes = dict(db.execute(select(Service.id, Service.code)).all())
    lines = []
    for rule in saved_rules(db):
        prefix = "analytique:" if rule.kind == "analytic" else ""
        lines.append(f"{prefix}{rule.pattern} = {codes.get(rule.service_id, '?')}")
    return "\n".join(lines)


@bp.route("/import-fec", methods=["GET", "POST"])
@roles_required(*WRITERS)
def import_fec() -> ResponseReturnValue:
    """Upload a FEC (step 1), then see what its rules would import (step 2)."""
    db = get_db()
    upload_form = UploadForm()
    token = request.values.get("fichier", "")
    if request.method == "POST" and upload_form.validate_on_submit():
        try:
            received = receive_upload(upload_form.document.data, accept=FEC_FILES,
                                      max_bytes=_max_bytes())
        except ImportRefused as refused:
            flash(str(refused), "error")
            return redirect(url_for(".import_fec"))
        token = FEC_UPLOADS.store(current_user.id, received.data, received.name)
        return redirect(url_for(".import_fec", fichier=token))
    rules_form = RulesForm(fichier=token)
    if request.method == "GET":
        rules_form.rules.data = request.args.get("regles") or _rules_text()
        rules_form.analytic_column.data = request.args.get("colonne", "")
    preview = refused = None
    name = None
    if token:
        stored = FEC_UPLOADS.get(current_user.id, token)
        if stored is None:
            flash("Le fichier n'est plus disponible : déposez-le à nouveau.", "error")
            return redirect(url_for(".import_fec"))
        path, name = stored
        try:
            rules = _parse_rules(rules_form.rules.data or "")
            column = rules_form.analytic_column.data or None
            preview = preview_fec_costs(db, path, rules or None, analytic_column=column)
        except (ImportRefused, LedgerError, CostError) as error:
            refused = error
        finally:
            db.rollback()
    services = list(db.scalars(select(Service).order_by(Service.code)))
    return render_template(
        "ledger/import_fec.html", upload_form=upload_form, rules_form=rules_form, token=token,
        preview=preview, refused=refused, name=name, services=services,
    )


def _parse_rules(text: str) -> list:
    db = get_db()
    return [parse_rule(db, line.replace(" ", "")) for line in text.splitlines() if line.strip()]


@bp.route("/import-fec/confirmer", methods=["POST"])
@roles_required(*WRITERS)
def import_fec_confirm() -> ResponseReturnValue:
    db = get_db()
    form = RulesForm()
    token = form.fichier.data or ""
    stored = FEC_UPLOADS.get(current_user.id, token)
    if stored is None:
        flash("Le fichier n'est plus disponible : déposez-le à nouveau.", "error")
        return redirect(url_for(".import_fec"))
    path, _name = stored
    back = url_for(".import_fec", fichier=token, regles=form.rules.data or "",
                   colonne=form.analytic_column.data or "")  # fmt: skip
    if not form.validate_on_submit():
        flash("Formulaire invalide : recommencez.", "error")
        return redirect(back)
    try:
        rules = _parse_rules(form.rules.data or "")
        result, _ = import_fec_costs(db, path, rules or None,
                                     analytic_column=form.analytic_column.data or None,
                                     user_id=current_user.id,
                                     accept_unmapped=bool(form.accept_unmapped.data))  # fmt: skip
    except (FecRefused, ImportRefused, LedgerError, CostError, PeriodError) as error:
        db.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.commit()
    FEC_UPLOADS.discard(current_user.id, token)
    flash(result.summary_fr("charge ou subvention", "charges et subventions", feminine=True)
          + " Les règles sont enregistrées.",
          "success" if result.changed else "info")  # fmt: skip
    return redirect(url_for("allocation.costs"))


# ---------------------------------------------------------------- chart of accounts


@bp.route("/plan-comptable", methods=["GET", "POST"])
@roles_required(*BOOKKEEPERS)
def accounts() -> ResponseReturnValue:
    db = get_db()
    form = AccountForm()
    if request.method == "POST":
        authorize(EDIT_CHART)
        if form.validate_on_submit():
            try:
                existing = db.scalar(select(Account.id).where(Account.number == form.number.data))
                if existing is not None:
                    raise LedgerError(f"Le compte {form.number.data} existe déjà.")
                ensure_account(db, form.number.data or "", form.label.data)
            except LedgerError as error:
                db.rollback()
                form.number.errors.append(str(error))
            else:
                db.commit()
                flash(f"Compte {form.number.data} ajouté.", "success")
                return redirect(url_for(".accounts"))
    # Rows, not objects: 1 000 accounts 411 + member and their members as ORM objects were
    # most of the page at 1 000 members (issue 16); a rename link built once.
    chart = select(Account.id, Account.number, Account.label, Member.code.label("member_code"))
    count = db.scalar(select(func.count()).select_from(Account)) or 0
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(_page(), pages)
    rows = db.execute(chart.outerjoin(Member, Member.id == Account.member_id)
                      .order_by(Account.number).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
                      ).all()  # fmt: skip
    return render_template("ledger/accounts.html", accounts=rows, count=count, page=page,
                           pages=pages, form=form, journals=journals(db),
                           can_edit=current_user.has_role(A))


def _relabel(found: Account | Journal | None, rename: Any, done: str) -> ResponseReturnValue:
    """Apply the posted label to an account or a journal (the admin's edit), then go back."""
    if found is None:
        abort(404)
    db = get_db()
    form = LabelForm()
    try:
        if not form.validate_on_submit():
            raise LedgerError("Le libellé est obligatoire.")
        rename(db, found, form.label.data or "")
    except LedgerError as error:
        db.rollback()
        flash(str(error), "error")
    else:
        db.commit()
        flash(done, "success")
    return redirect(url_for(".accounts"))


@bp.route("/plan-comptable/<int:account_id>", methods=["POST"])
@roles_required(A)
def account_rename(account_id: int) -> ResponseReturnValue:
    account = get_db().get(Account, account_id)
    return _relabel(account, rename_account, f"Compte {account.number if account else ''} renommé.")


@bp.route("/journaux/<code>", methods=["POST"])
@roles_required(A)
def journal_rename(code: str) -> ResponseReturnValue:
    return _relabel(get_db().get(Journal, code), rename_journal, f"Journal {code} renommé.")


@bp.route("/plan-comptable/defaut", methods=["POST"])
@roles_required(A)
def accounts_seed() -> ResponseReturnValue:
    db = get_db()
    created = seed_chart(db, db.scalars(select(Service)))
    db.commit()
    flash(f"{plural(created, 'compte')} du plan par défaut "
          f"{'ajouté' if created < 2 else 'ajoutés'} ; les intitulés existants sont "
          "gardés.", "success")  # fmt: skip
    return redirect(url_for(".accounts"))


# ---------------------------------------------------------------- the member side


def _member_or_404(member_id: int) -> Member:
    ensure_member(member_id)
    member = get_db().get(Member, member_id)
    if member is None:
        abort(404)
    return member


@bp.route("/adherent")
@roles_required(*READERS)
def member_side() -> ResponseReturnValue:
    db = get_db()
    scope = member_scope()
    members = (list(db.scalars(select(Member).order_by(Member.code))) if scope is None
               else [db.get(Member, scope)])  # fmt: skip
    chosen = parse_id(request.args.get("adherent"), "adherent") or (
        members[0].id if members else None
    )
    member = _member_or_404(chosen) if chosen else None
    start, end = _range()
    lines = member_entries(db, member, start, end) if member else []
    return render_template("ledger/member.html", members=members, member=member, lines=lines,
                           start=start, end=end, args=_range_args(start, end))  # fmt: skip


@bp.route("/adherent/<int:member_id>/ecritures.<fmt>")
@roles_required(*READERS)
def member_download(member_id: int, fmt: str) -> ResponseReturnValue:
    if fmt not in ("xlsx", "txt"):
        abort(404)
    member = _member_or_404(member_id)
    start, end = _range()
    lines = member_entries(get_db(), member, start, end)
    out = io.BytesIO()
    if fmt == "xlsx":
        write_member_workbook(lines, out)
        mimetype = XLSX
    else:
        write_fec(lines, out)
        mimetype = FEC_MIMETYPE
    out.seek(0)
    return send_file(out, mimetype=mimetype, as_attachment=True,
                     download_name=f"{member_file_stem(member, start, end)}.{fmt}")  # fmt: skip
