"""Timesheet settings of a service: its activities and unit types."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from accounting.org import Service
from app.access import roles_required
from app.database import get_db
from app.params import MAX_ID, BadParameter, parse_id
from app.timesheets.blueprint import bp
from app.timesheets.routes import A, _refused
from timesheets.models import Activity, UnitType

# ---------------------------------------------------------------- activities and unit types


@bp.route("/services", methods=["GET"])
@roles_required(A)
def service_settings() -> ResponseReturnValue:
    db = get_db()
    all_services = db.scalars(select(Service).order_by(Service.code)).all()
    activities = db.scalars(select(Activity).order_by(Activity.name)).all()
    unit_types = db.scalars(select(UnitType).order_by(UnitType.name)).all()
    return render_template(
        "timesheets/services.html",
        services=all_services,
        activities=activities,
        unit_types=unit_types,
    )


@bp.route("/services/<int:service_id>", methods=["POST"])
@roles_required(A)
def service_settings_save(service_id: int) -> ResponseReturnValue:
    from timesheets.settings import SettingsError, save_activity, save_unit_type

    db = get_db()
    if service_id > MAX_ID or db.get(Service, service_id) is None:
        abort(404)
    form = request.form
    try:
        if form.get("quoi") == "activite":
            save_activity(
                db,
                service_id,
                form.get("nom", ""),
                parse_id(form.get("id"), "id"),
                active=form.get("actif") == "1",
            )
        elif form.get("quoi") == "unite":
            save_unit_type(
                db,
                service_id,
                form.get("nom", ""),
                form.get("poids", ""),
                parse_id(form.get("id"), "id"),
                active=form.get("actif") == "1",
            )
        else:
            raise BadParameter(
                "Le paramètre « quoi » doit valoir « activite » ou « unite » : valeur refusée. "
                "Rien n'a été enregistré."
            )
        db.commit()
        flash("Enregistré.", "success")
    except SettingsError as error:
        db.rollback()
        _refused(error)
    return redirect(url_for(".service_settings") + f"#service-{service_id}")
