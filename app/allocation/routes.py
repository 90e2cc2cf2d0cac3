"""Routes of the allocation area (each declares its access rule with app.access).

Thin views: read the request, call one service of ``accounting`` / ``imports`` /
``app.allocation.services``, flash the French message of a refusal, redirect. Pages: costs and
subsidies (list, form, import), keys (versions, editor with preview, comparison), periods
(open, close, reopen), runs (compute, store, approve, the member × service matrix, the
explanation of every cent) and the workbook download. A member accountant sees approved runs
only, and only their own member's row and explanations.
"""

from __future__ import annotations

import io
import math
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from accounting.allocation.engine import MemberShare, to_decimal
from accounting.allocation.errors import AllocationError
from accounting.allocation.keys import (
    describe_basis_fr,
    describe_key_fr,
    format_basis_value_fr,
    format_percent,
    parse_key,
)
from accounting.allocation.models import AllocationKey, AllocationRun, RunStatus
from accounting.allocation.runs import (
    PeriodAllocation,
    compare_keys,
    delete_run,
    keys_of_service,
    load_run,
    set_key,
    store_run,
)
from accounting.costs import (
    MODELS,
    Cost,
    CostError,
    CostInput,
    CostKind,
    Subsidy,
    add_cost,
    check_cost_input,
    delete_cost,
    get_line,
    update_cost,
)
from accounting.money import MoneyError, parse_amount
from accounting.org import Member, Role, Service
from accounting.periods import (
    Period,
    PeriodError,
    PeriodKind,
    PeriodStatus,
    close_period,
    get_or_create_period,
    parse_period_code,
    reopen_period,
)
from accounting.workbooks.allocation import write_key_comparison_workbook
from app.access import member_scope, roles_required
from app.allocation import bp
from app.allocation.forms import CostForm, ImportForm, KeyForm, PeriodForm, ReopenForm
from app.allocation.services import allocate_period, approve, work_totals
from app.allocation.workbook import run_status_fr, workbook_for
from app.database import get_db
from app.params import parse_id, parse_page
from imports.costs import import_costs
from imports.errors import ImportRefused
from imports.tabular import read_limited, read_table

A, C, M, D, T = (
    Role.ADMIN,
    Role.ACCOUNTANT,
    Role.MEMBER_ACCOUNTANT,
    Role.DEVELOPER,
    Role.TREASURER,
)
COST_READERS = (A, C, T)
COST_WRITERS = (A, C)
RUN_READERS = (A, C, T, M)
MATRIX_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---------------------------------------------------------------- helpers


def _refused(error: Exception) -> None:
    flash(str(error), "error")


def _find_period(code: str | None) -> Period | None:
    """An existing period of that code, else a transient one (a GET never writes)."""
    if not code:
        return None
    try:
        kind, start, end = parse_period_code(code)
    except PeriodError:
        return None
    period = get_db().scalars(
        select(Period).where(Period.kind == kind.value, Period.start == start)
    ).one_or_none()
    return period or Period(kind=kind.value, start=start, end=end, status=PeriodStatus.OPEN)


def _last_month() -> str:
    first = date.today().replace(day=1) - timedelta(days=1)
    return f"{first.year}-{first.month:02d}"


def _services(active_only: bool = True) -> list[Service]:
    query = select(Service).order_by(Service.code)
    if active_only:
        query = query.where(Service.active.is_(True))
    return list(get_db().scalars(query))


def _page() -> int:
    return parse_page(request.args.get("page"))


def _scope_code() -> str | None:
    """The member code a member accountant is limited to (None: every member)."""
    scope = member_scope()
    if scope is None:
        return None
    member = get_db().get(Member, scope)
    if member is None:
        abort(403)
    return member.code


def _matrix_rows(result: PeriodAllocation, only: str | None) -> list[dict[str, Any]]:
    rows = []
    for code, amounts in result.amounts().items():
        if only is not None and code != only:
            continue
        rows.append({
            "code": code,
            "name": result.member_by_code[code].name,
            "amounts": amounts,
            "total": sum(amounts.values(), Decimal("0.00")),
        })
    return rows


# ---------------------------------------------------------------- costs and subsidies


@bp.route("/charges")
@roles_required(*COST_READERS)
def costs() -> ResponseReturnValue:
    db = get_db()
    code = request.args.get("periode") or _last_month()
    period = _find_period(code)
    if period is None:
        flash("Période illisible : écrivez 2026-03, 2026-T1 ou 2026.", "error")
        period = _find_period(_last_month())
    assert period is not None
    service_id = parse_id(request.args.get("service"), "service")
    lines: list[Cost | Subsidy] = []
    totals: dict[int, dict[str, Decimal]] = {}
    for kind, model in MODELS.items():
        query = select(model).where(model.day >= period.start, model.day <= period.end)
        if service_id:
            query = query.where(model.service_id == service_id)
        lines.extend(db.scalars(query.order_by(model.day, model.id).limit(2000)))
        for sid, total in db.execute(
            select(model.service_id, func.sum(model.amount))
            .where(model.day >= period.start, model.day <= period.end)
            .group_by(model.service_id)
        ):
            totals.setdefault(sid, {"cost": Decimal("0.00"), "subsidy": Decimal("0.00")})
            totals[sid][kind.value] = Decimal(total)
    lines.sort(key=lambda line: (line.day, line.kind.value, line.id))
    pages = max(1, math.ceil(len(lines) / MATRIX_PAGE))
    page = min(_page(), pages)
    services = _services(active_only=False)
    return render_template(
        "allocation/costs.html",
        period=period, lines=lines[(page - 1) * MATRIX_PAGE : page * MATRIX_PAGE],
        count=len(lines), page=page, pages=pages, services=services,
        names={s.id: s.name for s in services}, totals=totals, service_id=service_id,
        can_write=current_user.has_role(*COST_WRITERS),
    )


def _cost_form(form: CostForm) -> CostForm:
    form.service_id.choices = [
        SelectChoice(str(s.id), f"{s.code} — {s.name}") for s in _services()
    ]
    return form


def _cost_input(form: CostForm) -> CostInput | None:
    """The form's data as the domain's input; None (with field errors) when unreadable."""
    try:
        amount = parse_amount(form.amount.data or "")
    except (MoneyError, TypeError):
        form.amount.errors.append("Montant illisible : écrivez par exemple 1 234,56.")
        return None
    data = CostInput(
        kind=CostKind(form.kind.data), service_id=form.service_id.data, day=form.day.data,
        amount=amount, account=form.account.data or "", label=form.label.data or "",
        party=form.party.data or "", reference=form.reference.data or "",
        attachment_name=form.attachment_name.data or "",
    )
    problems = check_cost_input(data)
    for name, message in problems:
        getattr(form, name).errors.append(message)
    return None if problems else data


@bp.route("/charges/nouvelle", methods=["GET", "POST"])
@roles_required(*COST_WRITERS)
def cost_new() -> ResponseReturnValue:
    form = _cost_form(CostForm())
    if request.method == "GET":
        form.kind.data = request.args.get("nature", "cost")
        form.account.data = "740000" if form.kind.data == "subsidy" else ""
    if form.validate_on_submit() and (data := _cost_input(form)) is not None:
        db = get_db()
        try:
            add_cost(db, data, user_id=current_user.id)
        except (CostError, PeriodError) as error:
            _refused(error)
        else:
            db.commit()
            flash(f"{data.kind.label} enregistrée.", "success")
            return redirect(url_for(".costs", periode=f"{data.day:%Y-%m}"))
    return render_template("allocation/cost_form.html", form=form, line=None)


@bp.route("/charges/<kind>/<int:line_id>", methods=["GET", "POST"])
@roles_required(*COST_WRITERS)
def cost_edit(kind: str, line_id: int) -> ResponseReturnValue:
    if kind not in ("cost", "subsidy"):
        abort(404)
    db = get_db()
    line = get_line(db, kind, line_id)
    if line is None:
        abort(404)
    form = _cost_form(CostForm(obj=line))
    if request.method == "GET":
        form.kind.data = kind
        form.amount.data = f"{line.amount}".replace(".", ",")
    form.kind.choices = [SelectChoice(kind, line.kind.label)]
    if form.validate_on_submit() and (data := _cost_input(form)) is not None:
        try:
            update_cost(db, line, data)
        except (CostError, PeriodError) as error:
            db.rollback()
            _refused(error)
        else:
            db.commit()
            flash(f"{line.kind.label} modifiée.", "success")
            return redirect(url_for(".costs", periode=f"{data.day:%Y-%m}"))
    return render_template("allocation/cost_form.html", form=form, line=line)


@bp.route("/charges/<kind>/<int:line_id>/supprimer", methods=["POST"])
@roles_required(*COST_WRITERS)
def cost_delete(kind: str, line_id: int) -> ResponseReturnValue:
    if kind not in ("cost", "subsidy"):
        abort(404)
    db = get_db()
    line = get_line(db, kind, line_id)
    if line is None:
        abort(404)
    month = f"{line.day:%Y-%m}"
    try:
        delete_cost(db, line)
    except PeriodError as error:
        db.rollback()
        _refused(error)
    else:
        db.commit()
        flash("Ligne supprimée (elle reste dans le journal des modifications).", "success")
    return redirect(url_for(".costs", periode=month))


@bp.route("/charges/import", methods=["GET", "POST"])
@roles_required(*COST_WRITERS)
def costs_import() -> ResponseReturnValue:
    form = ImportForm()
    errors = []
    if form.validate_on_submit():
        upload = form.document.data
        db = get_db()
        try:
            data = read_limited(upload.stream, upload.filename or "fichier")
            result = import_costs(db, read_table(data, upload.filename or "fichier"),
                                  user_id=current_user.id)
        except (ImportRefused, CostError, PeriodError) as error:
            db.rollback()
            errors = getattr(error, "errors", [])
            if not errors:
                _refused(error)
        else:
            db.commit()
            flash(result.summary_fr("ligne(s) de charges et subventions"),
                  "success" if result.changed else "info")
            return redirect(url_for(".costs"))
    return render_template("allocation/costs_import.html", form=form, errors=errors)


# ---------------------------------------------------------------- keys


def _preview_period(service: Service) -> str:
    """The last period whose effect a key editor previews: the month of the service's latest
    cost, else last month."""
    db = get_db()
    last = db.scalar(select(func.max(Cost.day)).where(Cost.service_id == service.id))
    return f"{last:%Y-%m}" if last else _last_month()


@bp.route("/cles")
@roles_required(A, T)
def keys() -> ResponseReturnValue:
    db = get_db()
    today = date.today()
    by_service: dict[int, list[AllocationKey]] = {}
    for key in db.scalars(select(AllocationKey).order_by(AllocationKey.valid_from)):
        by_service.setdefault(key.service_id, []).append(key)
    rows = []
    for service in _services(active_only=False):
        versions = by_service.get(service.id, [])
        current = [k for k in versions if k.valid_from <= today]
        rows.append({
            "service": service,
            "versions": versions,
            "current": current[-1] if current else None,
            "description": describe_key_fr(current[-1].key) if current else "",
        })
    return render_template("allocation/keys.html", rows=rows, today=today)


@bp.route("/cles/<service_code>", methods=["GET", "POST"])
@roles_required(A, T)
def key_edit(service_code: str) -> ResponseReturnValue:
    db = get_db()
    service = db.scalars(select(Service).where(Service.code == service_code)).one_or_none()
    if service is None:
        abort(404)
    form = KeyForm()
    versions = keys_of_service(db, service.id)
    if request.method == "GET":
        form.text.data = request.args.get("cle") or (versions[-1].text if versions else "hours")
        form.valid_from.data = date.today().replace(day=1) + timedelta(days=31)
        form.valid_from.data = form.valid_from.data.replace(day=1)
    period_code = request.values.get("periode") or _preview_period(service)
    comparison = None
    parse_error = None
    text = form.text.data or ""
    builder: list[tuple[str, str]] = []
    builder_common = ""
    if text:
        try:
            parsed = parse_key(text)
        except AllocationError as error:
            parse_error = error
        else:
            builder = [(format_percent(p.weight), p.basis.name.value) for p in parsed.parts]
            builder_common = parsed.common_by.name.value if parsed.common_by else ""
    period = _find_period(period_code)
    if period is not None and service.overheads_by is None:
        current = versions[-1].text if versions else None
        texts = [t for t in dict.fromkeys([current, text]) if t]
        comparison = compare_keys(db, period, work_totals(db, period), service.code, texts)
    can_write = current_user.has_role(A)
    if request.method == "POST" and request.form.get("action") == "save":
        if not can_write:
            abort(403)
        if form.validate_on_submit():
            try:
                key = set_key(
                    db, service, text, form.valid_from.data, agreed_on=form.agreed_on.data,
                    agreed_by=form.agreed_by.data or "", user_id=current_user.id,
                )
            except AllocationError as error:
                db.rollback()
                _refused(error)
            else:
                db.commit()
                flash(f"Clé de {service.name} enregistrée à partir du "
                      f"{key.valid_from:%d/%m/%Y} : {describe_key_fr(key.key)}.", "success")
                return redirect(url_for(".keys"))
    return render_template(
        "allocation/key_edit.html", service=service, form=form, versions=versions,
        comparison=comparison, parse_error=parse_error, period_code=period_code,
        can_write=can_write, describe_key_fr=describe_key_fr,
        builder=[*builder, ("", ""), ("", ""), ("", "")][:3], builder_common=builder_common,
    )


def _comparison_args() -> tuple[Service, Period, list[str]]:
    db = get_db()
    service = db.scalars(
        select(Service).where(Service.code == request.args.get("service", ""))
    ).one_or_none()
    if service is None or service.overheads_by:
        abort(404)
    period = _find_period(request.args.get("periode") or _preview_period(service))
    if period is None:
        abort(404)
    texts = [t.strip() for t in request.args.getlist("cle") if t.strip()][:3]
    return service, period, texts


@bp.route("/cles/comparer")
@roles_required(A, T)
def key_compare() -> ResponseReturnValue:
    db = get_db()
    if not request.args.get("service"):
        return render_template("allocation/key_compare.html", services=_services(),
                               comparison=None, texts=["", "", ""], service=None,
                               period_code=_last_month())
    service, period, texts = _comparison_args()
    comparison = compare_keys(db, period, work_totals(db, period), service.code, texts) \
        if texts else None
    return render_template(
        "allocation/key_compare.html", services=_services(), comparison=comparison,
        texts=[*texts, "", "", ""][:3], service=service, period_code=period.code,
        describe_key_fr=describe_key_fr,
    )


@bp.route("/cles/comparer.xlsx")
@roles_required(A, T)
def key_compare_xlsx() -> ResponseReturnValue:
    db = get_db()
    service, period, texts = _comparison_args()
    if not texts:
        abort(404)
    comparison = compare_keys(db, period, work_totals(db, period), service.code, texts)
    out = io.BytesIO()
    write_key_comparison_workbook(comparison, out)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True,
                     download_name=f"comparaison-cles-{service.code}-{period.code}.xlsx")


# ---------------------------------------------------------------- periods


@bp.route("/periodes", methods=["GET", "POST"])
@roles_required(A, T)
def periods() -> ResponseReturnValue:
    db = get_db()
    form = PeriodForm()
    if request.method == "POST":
        if not current_user.has_role(A):
            abort(403)
        if form.validate_on_submit():
            try:
                period = get_or_create_period(db, form.code.data or "")
            except PeriodError as error:
                form.code.errors.append(str(error))
            else:
                db.commit()
                flash(f"Période {period.label} ouverte.", "success")
                return redirect(url_for(".periods"))
    rows = db.scalars(select(Period).order_by(Period.start.desc(), Period.kind)).all()
    approved = {
        pid for pid in db.scalars(
            select(AllocationRun.period_id).where(AllocationRun.status == RunStatus.APPROVED)
        )
    }
    return render_template("allocation/periods.html", form=form, periods=rows,
                           approved=approved, reopen=ReopenForm(),
                           can_write=current_user.has_role(A), kinds=PeriodKind)


def _period_or_404(period_id: int) -> Period:
    period = get_db().get(Period, period_id)
    if period is None:
        abort(404)
    return period


@bp.route("/periodes/<int:period_id>/cloturer", methods=["POST"])
@roles_required(A)
def period_close(period_id: int) -> ResponseReturnValue:
    db = get_db()
    period = _period_or_404(period_id)
    try:
        close_period(db, period, current_user.id)
    except PeriodError as error:
        db.rollback()
        _refused(error)
    else:
        db.commit()
        flash(f"Période {period.label} clôturée : ses temps, charges et subventions sont en "
              "lecture seule.", "success")
    return redirect(url_for(".periods"))


@bp.route("/periodes/<int:period_id>/rouvrir", methods=["POST"])
@roles_required(A)
def period_reopen(period_id: int) -> ResponseReturnValue:
    db = get_db()
    period = _period_or_404(period_id)
    form = ReopenForm()
    if not form.validate_on_submit():
        flash("Dites pourquoi la période est rouverte : c'est inscrit au journal.", "error")
        return redirect(url_for(".periods"))
    try:
        reopen_period(db, period, form.reason.data or "")
    except PeriodError as error:
        db.rollback()
        _refused(error)
    else:
        db.commit()
        flash(f"Période {period.label} rouverte.", "success")
    return redirect(url_for(".periods"))


# ---------------------------------------------------------------- runs


@bp.route("/")
@roles_required(*RUN_READERS)
def runs() -> ResponseReturnValue:
    db = get_db()
    query = select(AllocationRun).order_by(AllocationRun.id.desc())
    if member_scope() is not None:
        query = query.where(AllocationRun.status == RunStatus.APPROVED)
    pages_total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(pages_total / MATRIX_PAGE))
    page = min(_page(), pages)
    rows = db.scalars(query.offset((page - 1) * MATRIX_PAGE).limit(MATRIX_PAGE)).all()
    return render_template(
        "allocation/runs.html", runs=rows, page=page, pages=pages,
        services=_services(), period_code=_last_month(),
        can_compute=current_user.has_role(A, C, T),
    )


def _matrix_page(result: PeriodAllocation, only: str | None) -> dict[str, Any]:
    rows = _matrix_rows(result, only)
    pages = max(1, math.ceil(len(rows) / MATRIX_PAGE))
    page = min(_page(), pages)
    services = [s for s in result.services if s.allocation is not None]
    return {
        "rows": rows[(page - 1) * MATRIX_PAGE : page * MATRIX_PAGE],
        "members_count": len(rows), "page": page, "pages": pages, "services": services,
    }


@bp.route("/apercu")
@roles_required(A, C, T)
def preview() -> ResponseReturnValue:
    db = get_db()
    code = request.args.get("periode") or _last_month()
    period = _find_period(code)
    if period is None:
        flash("Période illisible : écrivez 2026-03, 2026-T1 ou 2026.", "error")
        return redirect(url_for(".runs"))
    service = request.args.get("service") or None
    try:
        result = allocate_period(db, period, service)
    except AllocationError as error:
        _refused(error)
        return redirect(url_for(".runs"))
    return render_template(
        "allocation/matrix.html", result=result, run=None, period=period, service=service,
        status=run_status_fr(None), **_matrix_page(result, None),
    )


@bp.route("/apercu", methods=["POST"])
@roles_required(A, C, T)
def store() -> ResponseReturnValue:
    db = get_db()
    try:
        period = get_or_create_period(db, request.form.get("periode", ""))
        result = allocate_period(db, period, request.form.get("service") or None)
        run = store_run(db, period, result, user_id=current_user.id,
                        note=request.form.get("note", "")[:500])
    except (AllocationError, PeriodError) as error:
        db.rollback()
        _refused(error)
        return redirect(url_for(".preview", periode=request.form.get("periode"),
                                service=request.form.get("service") or None))
    db.commit()
    flash(f"Répartition n° {run.id} enregistrée : le trésorier peut l'approuver.", "success")
    return redirect(url_for(".run", run_id=run.id))


def _run_or_404(run_id: int) -> AllocationRun:
    run = get_db().get(AllocationRun, run_id)
    if run is None or (member_scope() is not None and not run.is_approved):
        abort(404)
    return run


@bp.route("/<int:run_id>")
@roles_required(*RUN_READERS)
def run(run_id: int) -> ResponseReturnValue:
    db = get_db()
    allocation_run = _run_or_404(run_id)
    result = load_run(db, allocation_run, explain=False)
    return render_template(
        "allocation/matrix.html", result=result, run=allocation_run,
        period=allocation_run.period, service=result.only, status=run_status_fr(allocation_run),
        can_approve=current_user.has_role(T) and not allocation_run.is_approved,
        can_delete=current_user.has_role(A, T) and not allocation_run.is_approved,
        **_matrix_page(result, _scope_code()),
    )


@bp.route("/<int:run_id>/approuver", methods=["POST"])
@roles_required(T)
def run_approve(run_id: int) -> ResponseReturnValue:
    db = get_db()
    allocation_run = _run_or_404(run_id)
    try:
        approve(db, allocation_run, user_id=current_user.id)
    except AllocationError as error:
        db.rollback()
        _refused(error)
    else:
        db.commit()
        flash(f"Répartition n° {allocation_run.id} approuvée : elle est figée et peut être "
              "facturée.", "success")
    return redirect(url_for(".run", run_id=run_id))


@bp.route("/<int:run_id>/supprimer", methods=["POST"])
@roles_required(A, T)
def run_delete(run_id: int) -> ResponseReturnValue:
    db = get_db()
    allocation_run = _run_or_404(run_id)
    try:
        delete_run(db, allocation_run)
    except AllocationError as error:
        db.rollback()
        _refused(error)
        return redirect(url_for(".run", run_id=run_id))
    db.commit()
    flash(f"Répartition n° {run_id} supprimée.", "success")
    return redirect(url_for(".runs"))


def _explain(result: PeriodAllocation, service_code: str, member_code: str) -> dict[str, Any]:
    scope = _scope_code()
    if scope is not None and member_code != scope:
        abort(404)
    try:
        item = result.service(service_code)
    except KeyError:
        abort(404)
    if item.allocation is None or item.allocation.get(member_code) is None:
        abort(404)
    allocation = item.allocation
    share: MemberShare = allocation[member_code]
    floored_total = sum((s.floored for s in allocation.shares), Decimal("0.00"))
    left = allocation.pool - floored_total
    return {
        "item": item, "allocation": allocation, "share": share,
        "member": result.member_by_code[member_code], "left_cents": int(left * 100),
        "given_to": [s.code for s in allocation.shares if s.adjustment],
        "remainder": share.exact - Fraction(share.floored),
        "describe": describe_key_fr(allocation.key, share),
        "words": describe_key_fr(allocation.key),
        "value_fr": format_basis_value_fr, "basis_fr": describe_basis_fr,
        "percent": format_percent, "dec": to_decimal,
    }


@bp.route("/<int:run_id>/<service_code>/<member_code>")
@roles_required(*RUN_READERS)
def explain(run_id: int, service_code: str, member_code: str) -> ResponseReturnValue:
    allocation_run = _run_or_404(run_id)
    result = load_run(get_db(), allocation_run, explain=(service_code, member_code))
    return render_template(
        "allocation/explain.html", result=result, run=allocation_run,
        back=url_for(".run", run_id=run_id), **_explain(result, service_code, member_code),
    )


@bp.route("/apercu/<period_code>/<service_code>/<member_code>")
@roles_required(A, C, T)
def explain_preview(period_code: str, service_code: str, member_code: str) -> ResponseReturnValue:
    db = get_db()
    period = _find_period(period_code)
    if period is None:
        abort(404)
    try:
        result = allocate_period(db, period, service_code)
    except AllocationError:
        abort(404)
    return render_template(
        "allocation/explain.html", result=result, run=None,
        back=url_for(".preview", periode=period_code),
        **_explain(result, service_code, member_code),
    )


@bp.route("/classeur/<period_code>.xlsx")
@roles_required(A, C, T)
def workbook(period_code: str) -> ResponseReturnValue:
    db = get_db()
    period = _find_period(period_code)
    if period is None:
        abort(404)
    run_id = parse_id(request.args.get("run"), "run")
    selected = None
    if run_id is not None:
        selected = db.get(AllocationRun, run_id)
        if selected is None or selected.period_id != period.id:
            abort(404)
    out = io.BytesIO()
    try:
        workbook_for(db, period, out, run=selected, use_default=request.args.get("apercu") is None)
    except AllocationError as error:
        _refused(error)
        return redirect(url_for(".preview", periode=period_code))
    out.seek(0)
    suffix = f"-n{selected.id}" if selected else ""
    return send_file(out, mimetype=XLSX, as_attachment=True,
                     download_name=f"repartition-{period.code}{suffix}.xlsx")
