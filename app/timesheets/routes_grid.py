"""Timesheet entry pages: the weekly grid (hours) and the units entry (work units)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from accounting.org import Service
from app.access import roles_required
from app.database import get_db
from app.params import bounded_list, parse_id
from app.timesheets.blueprint import bp
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
from imports.errors import InvalidValue
from imports.parsing import format_minutes, parse_decimal, parse_duration
from timesheets import services
from timesheets.errors import TimesheetError
from timesheets.listing import choices, member_labels
from timesheets.services import EntryData
from timesheets.week import DAYS_FR, GridRefused, RowKey, load_week, previous_week_keys, save_week

# ---------------------------------------------------------------- weekly grid


@bp.route("/semaine", methods=["GET", "POST"])
@roles_required(*LOGGERS)
def week() -> ResponseReturnValue:
    db = get_db()
    day = _day(request.values.get("jour"), _today()) or _today()
    staff_id = current_user.id
    if current_user.has_role(A) and parse_id(request.values.get("intervenant"), "intervenant"):
        staff_id = parse_id(request.values.get("intervenant"), "intervenant")
    grid_errors: dict[tuple[int, int | None], str] = {}
    typed: dict[str, list[str]] = {}
    if request.method == "POST":
        if request.form.get("action") == "soumettre":
            return _submit_week(db, day)
        saved, typed, grid_errors = _save_grid(db, day, staff_id)
        if saved is not None:
            return saved
        flash("La semaine n'a pas été enregistrée : corrigez les cases signalées.", "error")
    return _render_week(db, day, staff_id, typed, grid_errors)


def _submit_week(db: Any, day: date) -> ResponseReturnValue:
    try:
        count = services.submit_week(db, current_user, day)
        db.commit()
        flash(f"{count} saisie(s) soumise(s) pour validation.", "success")
    except TimesheetError as error:
        db.rollback()
        _refused(error)
    return redirect(url_for(".week", jour=day.isoformat()))


def _save_grid(
    db: Any, day: date, staff_id: int
) -> tuple[ResponseReturnValue | None, dict[str, list[str]], dict[tuple[int, int | None], str]]:
    """Save the posted grid: the redirect once saved, else no response, the typed values and
    the errors per cell."""
    rows, typed, parse_errors = _grid_from_form(request.form)
    if parse_errors:
        return None, typed, parse_errors
    grid_errors: dict[tuple[int, int | None], str] = {}
    try:
        # Read first: an unknown member in the new row refuses the whole save.
        added_key = _new_row_key(request.form)
        saved = save_week(
            db,
            current_user,
            day,
            rows,
            staff_id=None if staff_id == current_user.id else staff_id,
        )
        db.commit()
        _warn(saved.warnings)
        if added_key is not None:
            flash("Ligne ajoutée : saisissez les durées puis enregistrez.", "info")
        else:
            flash("Semaine enregistrée.", "success")
        return redirect(
            url_for(
                ".week",
                jour=day.isoformat(),
                intervenant=staff_id,
                ajout=added_key.encode() if added_key else None,
            )
        ), typed, grid_errors
    except GridRefused as refused:
        db.rollback()
        grid_errors = {(e.row, e.day): e.message for e in refused.errors}
    except TimesheetError as error:
        db.rollback()
        _refused(error)
    return None, typed, grid_errors


def _render_week(
    db: Any, day: date, staff_id: int, typed: dict[str, list[str]],
    grid_errors: dict[tuple[int, int | None], str],
) -> ResponseReturnValue:
    grid = load_week(db, staff_id, day)
    keys = [row.key for row in grid.rows]
    if request.args.get("copier"):
        added = [k for k in previous_week_keys(db, staff_id, day) if k not in keys]
        keys.extend(added)
        flash(
            f"{len(added)} ligne(s) de la semaine précédente ajoutée(s) : saisissez les durées.",
            "info",
        )
    for text in [*typed, *bounded_list(request.args.getlist("ajout"), "ajout")]:
        try:
            key = RowKey.decode(text)
        except TimesheetError:
            continue
        if key not in keys:
            keys.append(key)
    # Names of the rows' services and activities, the inactive ones included.
    names = choices(db, current_user, member_limit=0)
    return render_template(
        "timesheets/week.html",
        grid=grid,
        keys=keys,
        cells={row.key: row.cells for row in grid.rows},
        typed=typed,
        grid_errors=grid_errors,
        days_fr=DAYS_FR,
        staff_id=staff_id,
        services_shown={
            sid: (code, name)
            for sid, code, name in db.execute(select(Service.id, Service.code, Service.name))
        },
        activity_names={aid: name for aid, _sid, name in names.activities},
        previous=(grid.monday - timedelta(days=7)).isoformat(),
        following=(grid.monday + timedelta(days=7)).isoformat(),
        member_names=member_labels(db, [key.member_id for key in keys]),
        format_minutes=format_minutes,
        **_common(),
    )


def _new_row_key(form: Any) -> RowKey | None:
    service_id = parse_id(form.get("nouvelle-service"), "nouvelle-service")
    if not service_id:
        return None
    return RowKey(
        service_id,
        _member_id(form.get("nouvelle-adherent", "")),
        parse_id(form.get("nouvelle-activite"), "nouvelle-activite"),
    )


def _grid_from_form(
    form: Any,
) -> tuple[list[tuple[RowKey, list[int | None]]], dict[str, list[str]], dict]:
    """Rows of the grid as posted: ``ligne`` (encoded keys, in order) and ``c-<key>-<day>``
    cells; a new row from ``nouvelle-*`` selects. Unreadable durations are errors by cell."""
    rows: list[tuple[RowKey, list[int | None]]] = []
    typed: dict[str, list[str]] = {}
    errors: dict[tuple[int, int | None], str] = {}
    encoded = bounded_list(form.getlist("ligne"), "ligne")
    for row_index, text in enumerate(encoded):
        try:
            key = RowKey.decode(text)
        except TimesheetError:
            continue
        values: list[int | None] = []
        raw = [form.get(f"c-{text}-{day}", "").strip() for day in range(7)]
        typed[text] = raw
        for day_index, cell in enumerate(raw):
            if not cell:
                values.append(None)
                continue
            try:
                values.append(parse_duration(cell))
            except InvalidValue as error:
                errors[(row_index, day_index)] = error.message
                values.append(None)
        rows.append((key, values))
    return rows, typed, errors



# ---------------------------------------------------------------- units entry


@bp.route("/unites", methods=["GET", "POST"])
@roles_required(A, C, M)
def units() -> ResponseReturnValue:
    """Quantities per unit type per member, for one service and day (accountants)."""
    db = get_db()
    options = choices(db, current_user, active_only=True)
    service_id = parse_id(request.values.get("service"), "service") or (
        options.services[0][0] if options.services else None
    )
    day = _day(request.values.get("jour"), _today()) or _today()
    unit_types = [(uid, name) for uid, sid, name in options.unit_types if sid == service_id]
    errors: list[str] = []
    if request.method == "POST" and service_id:
        count = 0
        try:
            for member_id, _label in options.members:
                for unit_id, unit_name in unit_types:
                    text = request.form.get(f"q-{member_id}-{unit_id}", "").strip()
                    if not text:
                        continue
                    try:
                        quantity = parse_decimal(text, max_places=3, allow_negative=False)
                    except InvalidValue as error:
                        errors.append(f"{_label}, {unit_name} : {error.message}")
                        continue
                    services.create_entry(
                        db,
                        current_user,
                        EntryData(
                            day=day,
                            service_id=service_id,
                            minutes=0,
                            member_id=member_id,
                            unit_type_id=unit_id,
                            quantity=quantity,
                            note=request.form.get("commentaire", "")[:2000],
                        ),
                    )
                    count += 1
            if errors:
                raise InvalidValue(" ; ".join(errors))
            db.commit()
            flash(f"{count} quantité(s) enregistrée(s).", "success")
            return redirect(url_for(".units", service=service_id, jour=day.isoformat()))
        except (TimesheetError, InvalidValue) as error:
            db.rollback()
            _refused(error)
    return render_template(
        "timesheets/units.html",
        service_id=service_id,
        day=day,
        unit_types=unit_types,
        values=request.form,
        **_common(),
    )
