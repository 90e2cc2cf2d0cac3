"""Allocation pages for keys (versions, the editor with its preview, the comparison) and
periods (open, close, reopen)."""

from __future__ import annotations

import contextlib
import io
from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.allocation.errors import AllocationError
from accounting.allocation.keys import describe_key_fr, format_percent, key_text_fr, parse_key
from accounting.allocation.models import AllocationKey, AllocationRun, RunStatus
from accounting.allocation.runs import (
    KeyComparison,
    WorkTotals,
    compare_keys,
    keys_of_service,
    set_key,
)
from accounting.allocation.runs.key_versions import delete_key, key_version
from accounting.authz import Action
from accounting.costs import Cost
from accounting.invoicing.locks import PeriodCorrection, invoiced_ranges
from accounting.org import Service
from accounting.periods import (
    Period,
    PeriodError,
    PeriodKind,
    close_period,
    get_or_create_period,
    reopen_period,
)
from accounting.workbooks.allocation import write_key_comparison_workbook
from app.access import authorize, roles_required
from app.allocation import cache
from app.allocation.blueprint import bp
from app.allocation.forms import KeyForm, PeriodForm, ReopenForm
from app.allocation.routes import XLSX, A, T, _find_period, _last_month, _refused, _services
from app.allocation.services import work_totals
from app.database import get_db

#: Parts of these pages that a narrower set of roles may use (checked by ``authorize``).
SAVE_KEY = Action.of("allocation.key_save", [A])
OPEN_PERIOD = Action.of("allocation.period_open", [A])

# ---------------------------------------------------------------- keys


def _work(db: Session, period: Period) -> WorkTotals:
    """The period's work totals, cached while nothing changed (``app.allocation.cache``)."""
    return cache.work(db, period, lambda: work_totals(db, period))


def _compare(db: Session, period: Period, service: Service, texts: list[str]) -> KeyComparison:
    """The candidate keys on the period, cached while nothing changed (the editor is shown
    again for each key tried: ``app.allocation.cache``)."""
    return cache.comparison(db, period, service.code, texts,
                            lambda: compare_keys(db, period, _work(db, period), service.code,
                                                 texts))


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
        form.text.data = request.args.get("cle") or (
            key_text_fr(versions[-1].text) if versions else "heures"
        )
        form.valid_from.data = date.today().replace(day=1) + timedelta(days=31)
        form.valid_from.data = form.valid_from.data.replace(day=1)
        with contextlib.suppress(KeyError, ValueError):  # « Corriger »: the version's date
            form.valid_from.data = date.fromisoformat(request.args["depuis"])
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
        comparison = _compare(db, period, service, texts)
    can_write = current_user.has_role(A)
    if request.method == "POST" and request.form.get("action") == "save":
        authorize(SAVE_KEY)
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


@bp.route("/cles/<service_code>/<valid_from>/supprimer", methods=["POST"])
@roles_required(A)
def key_delete(service_code: str, valid_from: str) -> ResponseReturnValue:
    """Delete a key version no approved run used (audited; DESIGN §4)."""
    db = get_db()
    service = db.scalars(select(Service).where(Service.code == service_code)).one_or_none()
    try:
        day = date.fromisoformat(valid_from)
    except ValueError:
        abort(404)
    key = key_version(db, service.id, day) if service is not None else None
    if key is None:
        abort(404)
    try:
        delete_key(db, key)
    except AllocationError as error:
        db.rollback()
        _refused(error)
    else:
        db.commit()
        flash(f"Version du {day:%d/%m/%Y} de la clé de {service.name} supprimée.", "success")
    return redirect(url_for(".keys"))


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
    comparison = _compare(db, period, service, texts) if texts else None
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
    comparison = _compare(db, period, service, texts)
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
        authorize(OPEN_PERIOD)
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
    locked = {(start, end) for start, end, _ in invoiced_ranges(db)}
    correcting = set(db.scalars(
        select(PeriodCorrection.period_id).where(PeriodCorrection.closed_at.is_(None))
    ))
    return render_template("allocation/periods.html", form=form, periods=rows,
                           approved=approved, reopen=ReopenForm(),
                           locked={p.id for p in rows if (p.start, p.end) in locked},
                           correcting=correcting,
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
        reopen_period(db, period, form.reason.data or "", user_id=current_user.id)
    except PeriodError as error:
        db.rollback()
        _refused(error)
    else:
        db.commit()
        flash(f"Période {period.label} rouverte.", "success")
    return redirect(url_for(".periods"))
