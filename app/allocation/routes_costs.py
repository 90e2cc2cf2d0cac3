"""Allocation pages for costs and subsidies: the list, the form, the import."""

from __future__ import annotations

import math
from decimal import Decimal
from functools import cache
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import Date, Select, bindparam, func, literal, select, union_all
from wtforms.fields.choices import SelectChoice

from accounting.costs import (
    MODELS,
    Cost,
    CostError,
    CostInput,
    CostKind,
    CostNature,
    Subsidy,
    add_cost,
    check_cost_input,
    delete_cost,
    get_line,
    supplier_code_of,
    update_cost,
)
from accounting.money import MoneyError, parse_amount
from accounting.periods import PeriodError
from app.access import roles_required
from app.allocation.blueprint import bp
from app.allocation.forms import CostForm, ImportForm
from app.allocation.routes import (
    COST_READERS,
    COST_WRITERS,
    MATRIX_PAGE,
    _find_period,
    _last_month,
    _page,
    _refused,
    _services,
)
from app.database import get_db
from app.params import parse_id
from app.uploads import TABULAR, chosen_encoding, receive_upload
from imports.costs import import_costs
from imports.errors import ImportRefused
from imports.tabular import read_table

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
    values = {"start": period.start, "end": period.end, "service_id": service_id}
    listed, summed = _cost_statements(bool(service_id))
    for query in listed:
        lines.extend(db.scalars(query, values))
    for kind, sid, total in db.execute(summed, values):
        totals.setdefault(sid, {"cost": Decimal("0.00"), "subsidy": Decimal("0.00")})
        totals[sid][kind] = Decimal(total)
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


@cache
def _cost_statements(filtered: bool) -> tuple[list[Select[Any]], Select[Any]]:
    """The period's costs and subsidies (of one service when ``filtered``), and every
    service's totals of both kinds in one statement: built once, the dates and the service
    bound (the page is the treasurer's and the admin's list of every visit)."""
    listed, sums = [], []
    start, end = bindparam("start", type_=Date), bindparam("end", type_=Date)
    for kind, model in MODELS.items():
        in_period = (model.day >= start, model.day <= end)
        query = select(model).where(*in_period)
        if filtered:
            query = query.where(model.service_id == bindparam("service_id"))
        listed.append(query.order_by(model.day, model.id).limit(2000))
        sums.append(select(literal(kind.value), model.service_id, func.sum(model.amount))
                    .where(*in_period).group_by(model.service_id))  # fmt: skip
    return listed, union_all(*sums)


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
    kind = CostKind(form.kind.data)
    nature = CostNature.SUPPLIER_INVOICE
    if kind is CostKind.COST and form.nature.data == CostNature.FEC.value:
        nature = CostNature.FEC
    elif kind is CostKind.COST:
        if not form.nature.data:
            form.nature.errors.append("Dites de quoi il s'agit : paie, facture fournisseur ou "
                                      "autre (payé directement).")  # fmt: skip
            return None
        nature = CostNature(form.nature.data)
    net_pay = None
    if nature is CostNature.PAYROLL and (form.net_pay.data or "").strip():
        try:
            net_pay = parse_amount(form.net_pay.data or "")
        except (MoneyError, TypeError):
            form.net_pay.errors.append("Net à payer illisible : écrivez par exemple 1 900,00.")
            return None
    supplier = (form.supplier_code.data or "").strip().upper()
    if nature is CostNature.SUPPLIER_INVOICE and not supplier and form.party.data:
        supplier = supplier_code_of(form.party.data)
    data = CostInput(
        kind=kind, service_id=form.service_id.data, day=form.day.data,
        amount=amount, account=form.account.data or "", label=form.label.data or "",
        party=form.party.data or "", reference=form.reference.data or "",
        attachment_name=form.attachment_name.data or "", nature=nature,
        supplier_code=supplier if nature is CostNature.SUPPLIER_INVOICE else "",
        net_pay=net_pay, social_account=form.social_account.data or "",
        paid_on=form.paid_on.data,
        social_paid_on=form.social_paid_on.data if nature is CostNature.PAYROLL else None,
    )  # fmt: skip
    problems = check_cost_input(data)
    for name, message in problems:
        getattr(form, name if hasattr(form, name) else "amount").errors.append(message)
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
        form.net_pay.data = f"{line.net_pay}".replace(".", ",") if line.net_pay else ""
    form.kind.choices = [SelectChoice(kind, line.kind.label)]
    if line.nature == CostNature.FEC.value:  # imported: keeps the file's journal and counterpart
        form.nature.choices = [SelectChoice("fec", CostNature.FEC.label)]
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
            received = receive_upload(upload, accept=TABULAR)
            table = read_table(received.data, received.name, encoding=chosen_encoding(form))
            result = import_costs(db, table, user_id=current_user.id)
        except (ImportRefused, CostError, PeriodError) as error:
            db.rollback()
            errors = getattr(error, "errors", [])
            if not errors:
                _refused(error)
        else:
            db.commit()
            flash(result.summary_fr("ligne de charges et subventions",
                                    "lignes de charges et subventions", feminine=True),
                  "success" if result.changed else "info")
            return redirect(url_for(".costs"))
    status = 422 if errors else 200  # a refused file is a 4xx, as on the admin imports
    return render_template("allocation/costs_import.html", form=form, errors=errors), status
