"""Routes of the allocation area (each declares its access rule with app.access): the runs
pages and workbook here, with the helpers the other route modules share; costs in
``routes_costs``, keys and periods in ``routes_keys``.

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
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from accounting.allocation.engine import MemberShare, to_decimal
from accounting.allocation.errors import AllocationError
from accounting.allocation.keys import (
    describe_basis_fr,
    describe_key_fr,
    format_basis_value_fr,
    format_percent,
)
from accounting.allocation.models import AllocationRun, RunStatus
from accounting.allocation.runs import PeriodAllocation, delete_run, load_run
from accounting.allocation.runs.matrix import run_matrix_page
from accounting.org import Member, Role, Service
from accounting.periods import (
    Period,
    PeriodError,
    PeriodStatus,
    get_or_create_period,
    parse_period_code,
)
from app.access import member_scope, roles_required
from app.allocation import cache
from app.allocation.blueprint import bp
from app.allocation.corrections import run_context
from app.allocation.digest import store_with_digests
from app.allocation.matrix_cells import matrix_rows
from app.allocation.services import allocate_period, approve
from app.allocation.workbook import run_status_fr, workbook_for
from app.database import get_db
from app.params import parse_id, parse_page

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


def _matrix_page(result: PeriodAllocation, only: str | None,
                 run_id: int | None = None) -> dict[str, Any]:
    """A preview's page of the matrix (computed: every member is in memory already)."""
    rows = _matrix_rows(result, only)
    pages = max(1, math.ceil(len(rows) / MATRIX_PAGE))
    page = min(_page(), pages)
    services = [s for s in result.services if s.allocation is not None]
    return {
        "rows": rows[(page - 1) * MATRIX_PAGE : page * MATRIX_PAGE],
        "members_count": len(rows), "page": page, "pages": pages, "services": services,
        "service_totals": result.service_totals(), "grand_total": result.total,
        "cell_url": _cell_url(result, run_id), "matrix_rows": matrix_rows,
    }


def _cell_url(result: PeriodAllocation, run_id: int | None) -> Any:
    """(service code, member code) → the cell's explanation URL: routed once per page, then
    filled in (``url_for`` per cell was a third of a 50 × 19 page)."""
    marks = {"service_code": "__service__", "member_code": "__member__"}
    base = (url_for(".explain", run_id=run_id, **marks) if run_id is not None
            else url_for(".explain_preview", period_code=result.period_code, **marks))

    quoted = lru_cache(maxsize=None)(lambda code: quote(code, safe=""))  # codes repeat per cell

    def cell_url(service_code: str, member_code: str) -> str:
        return base.replace("__service__", quoted(service_code)).replace(
            "__member__", quoted(member_code))
    return cell_url


def _cached_preview(period: Period, service: str | None, fresh: bool = False) -> PeriodAllocation:
    """The period's allocation, reused while its inputs are unchanged (``app.allocation.cache``:
    paging through a preview of 1 000 members must not compute it again)."""
    db = get_db()
    return cache.preview(db, period, service, lambda: allocate_period(db, period, service), fresh)


@bp.route("/apercu")
@roles_required(A, C, T)
def preview() -> ResponseReturnValue:
    code = request.args.get("periode") or _last_month()
    period = _find_period(code)
    if period is None:
        flash("Période illisible : écrivez 2026-03, 2026-T1 ou 2026.", "error")
        return redirect(url_for(".runs"))
    service = request.args.get("service") or None
    try:
        result = _cached_preview(period, service, fresh=bool(request.args.get("recalculer")))
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
        run = store_with_digests(db, period, result, user_id=current_user.id,
                        note=request.form.get("note", "")[:500])
    except (AllocationError, PeriodError) as error:
        db.rollback()
        _refused(error)
        return redirect(url_for(".preview", periode=request.form.get("periode"),
                                service=request.form.get("service") or None))
    db.commit()
    who = ("vous pouvez l'approuver" if current_user.has_role(Role.TREASURER)
           else "le trésorier peut l'approuver")
    flash(f"Répartition n° {run.id} enregistrée : {who}.", "success")
    return redirect(url_for(".run", run_id=run.id))


def _run_or_404(run_id: int) -> AllocationRun:
    run = get_db().get(AllocationRun, run_id)
    if run is None or (member_scope() is not None and not run.is_approved):
        abort(404)
    return run


@bp.route("/<int:run_id>")
@roles_required(*RUN_READERS)
def run(run_id: int) -> ResponseReturnValue:
    """A stored run: its pools, its corrections and one page of its matrix, read in SQL
    (``run_matrix_page``; the run is never read back whole nor computed again)."""
    db = get_db()
    allocation_run = _run_or_404(run_id)
    result = load_run(db, allocation_run, lines=False)
    matrix = run_matrix_page(db, allocation_run, _page(), MATRIX_PAGE, _scope_code())
    services = [s for s in result.services if s.allocation is not None]
    frozen = allocation_run.is_approved or allocation_run.is_replaced
    return render_template(
        "allocation/matrix.html", result=result, run=allocation_run,
        period=allocation_run.period, service=result.only, status=run_status_fr(allocation_run),
        can_approve=current_user.has_role(T) and not frozen,
        can_delete=current_user.has_role(A, T) and not frozen,
        corrections=run_context(db, allocation_run, fresh=bool(request.args.get("verifier"))),
        member_view=member_scope() is not None,
        rows=matrix.rows, members_count=matrix.members_count, page=matrix.page,
        pages=matrix.pages, grand_total=allocation_run.total, services=services,
        service_totals={s.service.code: s.pool for s in services},  # = Σ lines (matrix.py)
        cell_url=_cell_url(result, allocation_run.id), matrix_rows=matrix_rows,
    )


@bp.route("/<int:run_id>/approuver", methods=["POST"])
@roles_required(T)
def run_approve(run_id: int) -> ResponseReturnValue:
    db = get_db()
    allocation_run = _run_or_404(run_id)
    try:
        approve(db, allocation_run, user_id=current_user.id,
                reason=request.form.get("reason", "")[:1000],
                work_override=request.form.get("work_override", "")[:1000])
    except AllocationError as error:
        db.rollback()
        _refused(error)
    else:
        db.commit()
        replaced = (f" Elle remplace la répartition n° {allocation_run.replaces_id} : "
                    "facturez les différences." if allocation_run.replaces_id else "")
        flash(f"Répartition n° {allocation_run.id} approuvée : elle est figée et peut être "
              f"facturée.{replaced}", "success")
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
        **_cents_given(allocation, scope),
        "remainder": share.exact - Fraction(share.floored),
        "describe": describe_key_fr(allocation.key, share),
        "words": describe_key_fr(allocation.key),
        "value_fr": format_basis_value_fr, "basis_fr": describe_basis_fr,
        "percent": format_percent, "dec": to_decimal,
    }


def _cents_given(allocation: Any, scope: str | None) -> dict[str, Any]:
    """Who received a rounding cent: every code for the staff; for a member accountant, their
    own member's code only and the others as a count (issue 13: no other member named)."""
    given = [s.code for s in allocation.shares if s.adjustment]
    shown = given if scope is None else [code for code in given if code == scope]
    return {"given_to": shown, "given_others": len(given) - len(shown)}


@bp.route("/<int:run_id>/<service_code>/<member_code>")
@roles_required(*RUN_READERS)
def explain(run_id: int, service_code: str, member_code: str) -> ResponseReturnValue:
    allocation_run = _run_or_404(run_id)
    result = load_run(get_db(), allocation_run, explain=(service_code, member_code),
                      service=service_code)
    return render_template(
        "allocation/explain.html", result=result, run=allocation_run,
        back=url_for(".run", run_id=run_id), **_explain(result, service_code, member_code),
    )


def _has_cell(result: PeriodAllocation, service_code: str, member_code: str) -> bool:
    try:
        allocation = result.service(service_code).allocation
    except KeyError:
        return False
    return allocation is not None and allocation.get(member_code) is not None


@bp.route("/apercu/<period_code>/<service_code>/<member_code>")
@roles_required(A, C, T)
def explain_preview(period_code: str, service_code: str, member_code: str) -> ResponseReturnValue:
    period = _find_period(period_code)
    if period is None:
        abort(404)
    whole = cache.cached_preview(get_db(), period, None)  # the matrix clicked from
    if whole is not None and _has_cell(whole, service_code, member_code):
        result = whole
    else:
        try:
            result = _cached_preview(period, service_code)
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
