"""Routes of the year's cash (DESIGN §5b): the year's page (budgets, schedule, calls, budget
against actual), the vote of a budget (typed lines or a file), issuing a call, the true-up, and
the revision page that previews the three catch-up modes side by side before the treasurer
chooses. Thin views: one use case each; refusals are French messages, never a 500."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from accounting.budgets.actuals import budget_vs_actual
from accounting.budgets.budgets import current_budgets, schedule_of, set_schedule
from accounting.budgets.calls import schedule_codes
from accounting.budgets.errors import BudgetError
from accounting.budgets.models import Budget, CatchUp
from accounting.budgets.revision import revision_preview
from accounting.invoicing.amounts import InvoiceRole, InvoiceStatus
from accounting.invoicing.errors import InvoicingError
from accounting.invoicing.models import Invoice
from accounting.ledger.errors import LedgerError
from accounting.org import Role
from accounting.periods import Period, PeriodError
from accounting.wording import plural
from app.access import roles_required
from app.budgets.blueprint import bp
from app.budgets.forms import CallForm, CatchUpForm, TrueUpForm, VoteForm
from app.budgets.usecases import issue_call, run_true_up, vote_budgets
from app.database import get_db
from app.uploads import TABULAR, receive_upload
from imports.budgets import read_budget_lines
from imports.errors import ImportRefused

A, C, T = Role.ADMIN, Role.ACCOUNTANT, Role.TREASURER
READERS, WRITERS = (A, C, T), (A, T)
ERRORS = (BudgetError, InvoicingError, LedgerError, PeriodError)
HEADER = "Service;Type;Compte;Libellé;Montant"


def _year(value: int | None = None) -> int:
    year = value if value is not None else request.args.get("annee", type=int)
    year = year or date.today().year
    return min(max(year, 2000), 2100)


def _calls_issued(db, year: int) -> list[tuple[Period, int, object]]:  # type: ignore[no-untyped-def]
    rows = db.execute(
        select(Period, func.count(Invoice.id), func.max(Invoice.issue_date))
        .join(Invoice, Invoice.period_id == Period.id)
        .where(Invoice.role == InvoiceRole.CALL.value,
               Invoice.status != InvoiceStatus.DRAFT.value,
               Invoice.service_start >= date(year, 1, 1),
               Invoice.service_start <= date(year, 12, 31))
        .group_by(Period.id).order_by(Period.start)
    )  # fmt: skip
    return [(p, n, d) for p, n, d in rows]


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    db = get_db()
    year = _year()
    schedule = schedule_of(db, year)
    issued = _calls_issued(db, year)
    done = {p.code for p, _, _ in issued}
    form = CallForm()
    form.period.choices = [SelectChoice(c, c) for c in schedule_codes(schedule) if c not in done]
    revisions = db.scalars(select(Budget).where(Budget.year == year)
                           .order_by(Budget.service_id, Budget.revision)).all()
    return render_template(
        "budgets/index.html", year=year, schedule=schedule, budgets=current_budgets(db, year),
        revisions=revisions, issued=issued, form=form, true_up_form=TrueUpForm(),
        actuals=budget_vs_actual(db, year),
    )


@bp.route("/<int:year>/vote", methods=["GET", "POST"])
@roles_required(*WRITERS)
def vote(year: int) -> ResponseReturnValue:
    db = get_db()
    form = VoteForm()
    if request.method == "GET" and not form.lines.data:
        form.lines.data = HEADER + "\n"
    refused: ImportRefused | None = None
    upload = request.files.get("document")
    if request.method == "POST" and upload is not None and upload.filename:
        try:
            received = receive_upload(upload, accept=TABULAR)
        except ImportRefused as error:
            flash(str(error), "error")
            return render_template("budgets/vote.html", form=form, year=year,
                                   refused=None), 400
        data, name = received.data, received.name
    else:
        data, name = (form.lines.data or "").encode(), "lignes.csv"
    if form.validate_on_submit():
        try:
            lines = read_budget_lines(db, data, name)
            saved = vote_budgets(db, year, lines, agreed_on=form.agreed_on.data,
                                 agreed_by=form.agreed_by.data, reason=form.reason.data or "",
                                 call_key=form.call_key.data or "",
                                 created_by=current_user.email)  # fmt: skip
        except ImportRefused as error:
            refused = error
        except ERRORS as error:
            flash(str(error), "error")
        else:
            flash(f"Budget {year} enregistré pour {plural(len(saved), 'service')}.", "success")
            return redirect(url_for(".index", annee=year))
    return render_template("budgets/vote.html", form=form, year=year, refused=refused)


@bp.post("/<int:year>/appels")
@roles_required(*WRITERS)
def issue(year: int) -> ResponseReturnValue:
    db = get_db()
    form = CallForm()
    form.period.choices = [SelectChoice(c, c) for c in schedule_codes(schedule_of(db, year))]
    if not form.validate_on_submit():
        flash("Choisissez l'échéance et la date des appels.", "error")
        return redirect(url_for(".index", annee=year))
    try:
        documents = issue_call(db, form.period.data, issue_date=form.issue_date.data,
                               issued_by=current_user.email)
    except ERRORS as error:
        flash(str(error), "error")
    else:
        issued = plural(len(documents), "appel de fonds émis", "appels de fonds émis")
        flash(f"{issued} pour {form.period.data}.", "success")
    return redirect(url_for(".index", annee=year))


@bp.post("/<int:year>/regularisation")
@roles_required(*WRITERS)
def true_up(year: int) -> ResponseReturnValue:
    db = get_db()
    form = TrueUpForm()
    if not form.validate_on_submit():
        flash("Indiquez la date des documents.", "error")
        return redirect(url_for(".index", annee=year))
    try:
        result = run_true_up(db, year, issue_date=form.issue_date.data,
                             issued_by=current_user.email)
    except ERRORS as error:
        flash(str(error), "error")
    else:
        notes = sum(1 for d in result.documents if d.is_credit_note)
        flash(f"Régularisation {year} : {plural(len(result.documents) - notes, 'facture')} et "
              f"{plural(notes, 'avoir')} émis.", "success")
    return redirect(url_for(".index", annee=year))


@bp.route("/<int:year>/revision", methods=["GET", "POST"])
@roles_required(*WRITERS)
def revision(year: int) -> ResponseReturnValue:
    db = get_db()
    schedule = schedule_of(db, year)
    form = CatchUpForm(mode=schedule.catch_up)
    if form.validate_on_submit():
        mode = CatchUp(form.mode.data)
        try:
            set_schedule(db, year, frequency=schedule.frequency, catch_up=mode, day=schedule.day)
            db.commit()
            issued = _calls_issued(db, year)
            if mode is CatchUp.AT_ONCE and issued:
                documents = issue_call(db, issued[-1][0].code, catch_up_only=True,
                                       issue_date=form.issue_date.data or date.today(),
                                       issued_by=current_user.email)
                issued = plural(len(documents), "appel de rattrapage émis",
                                "appels de rattrapage émis")
                flash(f"{issued}.", "success")
        except ERRORS as error:
            db.rollback()
            flash(str(error), "error")
        else:
            flash(f"Révision {year} : rattrapage {mode.label}.", "success")
            return redirect(url_for(".index", annee=year))
    try:
        rows = revision_preview(db, year)
    except ERRORS as error:
        flash(str(error), "error")
        rows = []
    return render_template("budgets/revision.html", year=year, rows=rows, form=form,
                           modes=list(CatchUp), schedule=schedule)
