"""Timesheet entry pages: the weekly grid (hours) and the units entry (work units)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from accounting.org import Service
from app.access import roles_required
from app.database import get_db
from app.params import bounded_list, parse_id
from app.timesheets.blueprint import bp
from app.timesheets.configuration import plain_decimal
from app.timesheets.routes import (
    LOGGERS,
    A,
    C,
    M,
    _common,
    _day,
    _member_id,
    _refused,
    _today,
    _warn,
)
from app.timesheets.week_view import (
    Labels,
    PostedGrid,
    day_cells,
    grid_rows,
    read_posted,
    row_view,
)
from imports.errors import InvalidValue
from imports.parsing import parse_decimal
from timesheets import services
from timesheets.errors import TimesheetError
from timesheets.listing import choices
from timesheets.models import Activity
from timesheets.units import UnitsRefused, load_units, save_units
from timesheets.week import (
    DAYS_FR,
    GridRefused,
    RowKey,
    load_week,
    previous_week_keys,
    save_week,
    usual_service,
)

# ---------------------------------------------------------------- weekly grid

bp.add_app_template_global(day_cells)


@bp.route("/semaine", methods=["GET", "POST"])
@roles_required(*LOGGERS)
def week() -> ResponseReturnValue:
    """The week grid. Its form posts an ``action``: « enregistrer » (also the Enter key),
    « ajouter » (a row from the « Ajouter une ligne » fields; nothing is saved), « soumettre »
    (save, then submit the week), or ``retirer`` (the row's entries deleted by the save).
    timesheets.js adds and removes rows in place and saves without reloading the page; the
    plain posts are the same without JavaScript."""
    db = get_db()
    day = _day(request.values.get("jour"), _today()) or _today()
    staff_id = current_user.id
    if current_user.has_role(A) and parse_id(request.values.get("intervenant"), "intervenant"):
        staff_id = parse_id(request.values.get("intervenant"), "intervenant")
    if request.method == "GET":
        return _render_week(db, day, staff_id, None, {})
    action = request.form.get("action", "enregistrer")
    posted = read_posted(request.form, request.form.get("retirer-ligne"))
    if action == "ajouter":
        return _add_row(db, day, staff_id, posted)
    errors = dict(posted.errors)
    if not errors:
        errors = _save_grid(db, day, staff_id, posted, submit=action == "soumettre")
        if errors is None:
            return redirect(
                url_for(
                    ".week",
                    jour=day.isoformat(),
                    intervenant=staff_id,
                    ajout=[k.encode() for k in posted.keys if not any(posted.minutes[k.encode()])],
                )
            )
    if errors:
        flash("La semaine n'a pas été enregistrée : corrigez les cases signalées, vos saisies "
              "sont conservées ci-dessous.", "error")
    return _render_week(db, day, staff_id, posted, errors)


def _add_row(db: Any, day: date, staff_id: int, posted: PostedGrid) -> ResponseReturnValue:
    """The « Ajouter la ligne » button without JavaScript: the grid re-rendered as typed with
    the new row at its end (nothing saved yet)."""
    new_row_error = ""
    try:
        key = new_row_key(db, request.form)
        if key in posted.keys:
            new_row_error = "Cette ligne est déjà dans la grille."
        else:
            posted.keys.append(key)
            posted.typed[key.encode()] = [""] * 7
            posted.minutes[key.encode()] = [None] * 7
            flash("Ligne ajoutée : saisissez les durées puis enregistrez la semaine.", "info")
    except (TimesheetError, InvalidValue) as error:
        new_row_error = str(error)
    return _render_week(db, day, staff_id, posted, dict(posted.errors), new_row_error)


def _save_grid(
    db: Any, day: date, staff_id: int, posted: PostedGrid, *, submit: bool = False
) -> dict[tuple[str, int | None], str] | None:
    """Save the posted grid (and submit the week when asked): None once saved, else the
    errors by (row, day)."""
    try:
        saved = save_week(
            db, current_user, day, posted.rows(),
            staff_id=None if staff_id == current_user.id else staff_id,
        )
        count = services.submit_week(db, current_user, day) if submit else 0
        db.commit()
    except GridRefused as refused:
        db.rollback()
        return {(posted.row_text(e.row), e.day): e.message for e in refused.errors}
    except TimesheetError as error:
        db.rollback()
        _refused(error)
        return {}
    _warn(saved.warnings)
    if submit:
        flash(f"{entries_fr(count)} {'soumise' if count == 1 else 'soumises'} pour validation.",
              "success")
    elif len(posted.removed) == 1:
        flash("Semaine enregistrée, 1 ligne retirée.", "success")
    elif posted.removed:
        flash(f"Semaine enregistrée, {len(posted.removed)} lignes retirées.", "success")
    else:
        flash("Semaine enregistrée.", "success")
    return None


def entries_fr(count: int) -> str:
    """« 1 saisie », « 3 saisies »."""
    return f"{count} saisie" if count == 1 else f"{count} saisies"


@bp.route("/semaine/ligne")
@roles_required(*LOGGERS)
def week_row() -> ResponseReturnValue:
    """One new row of the grid, as HTML (timesheets.js adds it in place), or the French reason
    it may not be added (422, plain text)."""
    db = get_db()
    try:
        key = new_row_key(db, request.args)
    except (TimesheetError, InvalidValue) as error:
        return Response(str(error), status=422, mimetype="text/plain")
    row = row_view(key, Labels.load(db, [key]), None, [""] * 7, {})
    day = _day(request.args.get("jour"), _today()) or _today()
    monday = day - timedelta(days=day.weekday())
    return render_template(
        "timesheets/_week_row.html", row=row, days=[monday + timedelta(n) for n in range(7)],
        days_fr=DAYS_FR,
    )


def new_row_key(db: Any, form: Any) -> RowKey:
    """The row the « Ajouter une ligne » fields describe, checked: a known active service, an
    activity of that service, a member in the user's scope. Raises with a French message."""
    service_id = parse_id(form.get("nouvelle-service"), "nouvelle-service")
    service = db.get(Service, service_id) if service_id else None
    if service is None or not service.active:
        raise InvalidValue("Choisissez le service de la ligne.")
    activity_id = parse_id(form.get("nouvelle-activite"), "nouvelle-activite")
    if activity_id:
        activity = db.get(Activity, activity_id)
        if activity is None or not activity.active:
            raise InvalidValue("Activité inconnue ou désactivée.")
        if activity.service_id != service.id:
            raise InvalidValue(
                f"L'activité « {activity.name} » n'est pas une activité du service "
                f"« {service.name} » : choisissez une activité de ce service."
            )
    member_id = _member_id(form.get("nouvelle-adherent", ""))
    scope = services.member_scope(current_user)
    if scope is not None and member_id != scope:
        raise InvalidValue("Vous ne pouvez saisir que le travail fait pour votre adhérent.")
    return RowKey(service.id, member_id, activity_id)


def _render_week(
    db: Any, day: date, staff_id: int, posted: PostedGrid | None,
    errors: dict[tuple[str, int | None], str], new_row_error: str = "",
) -> ResponseReturnValue:
    grid = load_week(db, staff_id, day)
    extra: list[RowKey] = []
    if request.args.get("copier"):
        shown = {row.key for row in grid.rows}
        extra = [k for k in previous_week_keys(db, staff_id, day) if k not in shown]
        flash(_copied_fr(len(extra)), "info")
    for text in bounded_list(request.args.getlist("ajout"), "ajout"):
        try:
            extra.append(RowKey.decode(text))
        except TimesheetError:
            continue
    rows = grid_rows(db, grid, posted, extra, errors)
    shown_keys = {row.key for row in rows}
    common = _common()
    usual = usual_service(db, staff_id)
    active_services = [sid for sid, _label in common["options"].services]
    return render_template(
        "timesheets/week.html",
        grid=grid,
        rows=rows,
        removed=[k.encode() for k in (posted.removed if posted else []) if k not in shown_keys],
        error_count=sum(len(row.errors) for row in rows),
        new_row_error=new_row_error,
        new_row=request.form if posted is not None else {},
        usual_service=usual if usual in active_services else None,
        days_fr=DAYS_FR,
        staff_id=staff_id,
        service_codes={
            sid: code for sid, code in db.execute(select(Service.id, Service.code))
        },
        previous=(grid.monday - timedelta(days=7)).isoformat(),
        following=(grid.monday + timedelta(days=7)).isoformat(),
        **common,
    )


def _copied_fr(count: int) -> str:
    if count == 0:
        return "La semaine précédente n'a aucune autre ligne à copier."
    if count == 1:
        return "1 ligne de la semaine précédente ajoutée : saisissez les durées."
    return f"{count} lignes de la semaine précédente ajoutées : saisissez les durées."


# ---------------------------------------------------------------- units entry


@bp.route("/unites", methods=["GET", "POST"])
@roles_required(A, C, M)
def units() -> ResponseReturnValue:
    """Your quantities per unit type per member, for one service and day (accountants). The
    grid shows what is stored: saving again changes it, never adds it twice."""
    db = get_db()
    options = choices(db, current_user, active_only=True)
    service_id = parse_id(request.values.get("service"), "service") or (
        options.services[0][0] if options.services else None
    )
    day = _day(request.values.get("jour"), _today()) or _today()
    unit_types = [(uid, name) for uid, sid, name in options.unit_types if sid == service_id]
    stored = load_units(db, current_user.id, service_id, day) if service_id else {}
    if request.method == "POST" and service_id:
        saved = _save_units(db, options.members, unit_types, service_id, day)
        if saved is not None:
            return saved
    values = request.form if request.method == "POST" else {
        f"q-{member}-{unit}": plain_decimal(cell.quantity).replace(".", ",")  # French
        for (member, unit), cell in stored.items()
    }
    totals = {
        uid: sum((c.quantity for (_m, u), c in stored.items() if u == uid), Decimal(0))
        for uid, _name in unit_types
    }
    return render_template(
        "timesheets/units.html",
        service_id=service_id,
        day=day,
        unit_types=unit_types,
        values=values,
        locked={key for key, cell in stored.items() if cell.locked},
        totals=totals,
        **_common(),
    )


def _save_units(
    db: Any, members: list[tuple[int, str]], unit_types: list[tuple[int, str]],
    service_id: int, day: date,
) -> ResponseReturnValue | None:
    """Save the posted quantities; the redirect once saved, else None (refusals flashed)."""
    wanted: dict[tuple[int, int], Decimal | None] = {}
    errors: list[str] = []
    for member_id, label in members:
        for unit_id, unit_name in unit_types:
            name = f"q-{member_id}-{unit_id}"
            if name not in request.form:
                continue
            text = request.form.get(name, "").strip()
            try:
                wanted[(member_id, unit_id)] = (
                    parse_decimal(text, max_places=3, allow_negative=False) if text else None
                )
            except InvalidValue as error:
                errors.append(f"{label}, {unit_name} : {error.message}")
    if errors:
        _refused(InvalidValue(" ; ".join(errors)))
        return None
    try:
        count = save_units(
            db, current_user, service_id, day, wanted, request.form.get("commentaire", "")[:2000]
        )
        db.commit()
    except UnitsRefused as refused:
        db.rollback()
        labels, names = dict(members), dict(unit_types)
        _refused(InvalidValue(" ; ".join(
            f"{labels.get(m, m)}, {names.get(u, u)} : {message}"
            for (m, u), message in refused.errors.items()
        )))
        return None
    if count == 0:
        flash("Aucune quantité modifiée.", "info")
    else:
        flash(f"{count} {'quantité enregistrée' if count == 1 else 'quantités enregistrées'}.",
              "success")
    return redirect(url_for(".units", service=service_id, jour=day.isoformat()))
