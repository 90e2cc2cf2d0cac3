"""Timesheet import from the web: upload and preview, mappings of unknown names, confirmation,
the template."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from app.access import roles_required
from app.database import get_db
from app.formatting import plural
from app.params import parse_id
from app.timesheets.blueprint import bp
from app.timesheets.routes import LOGGERS, READERS, A, _common
from app.uploads import TABULAR, PendingUploads, receive_upload
from imports.errors import ImportRefused
from imports.timesheets import analyse, import_file, save_mapping, template_csv, template_xlsx
from timesheets.listing import COMMON, choices
from timesheets.models import MappingKind

# ---------------------------------------------------------------- import


#: Files kept between the preview and the confirmation of an import.
UPLOADS = PendingUploads("timesheets")


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*LOGGERS)
def import_upload() -> ResponseReturnValue:
    db = get_db()
    report = None
    token = request.values.get("fichier", "")
    if request.method == "POST" and "document" in request.files:
        try:
            received = receive_upload(request.files["document"], accept=TABULAR)
        except ImportRefused as refused:
            flash(str(refused), "error")
            return redirect(url_for(".import_upload"))
        token = UPLOADS.store(current_user.id, received.data, received.name)
        return redirect(url_for(".import_upload", fichier=token))
    stored = UPLOADS.get(current_user.id, token) if token else None
    if token and stored is None:
        flash("Le fichier n'est plus disponible : déposez-le à nouveau.", "error")
        return redirect(url_for(".import_upload"))
    if stored is not None:
        path, name = stored
        report = analyse(db, current_user, path.read_bytes(), name)
        db.rollback()
    return render_template(
        "timesheets/import.html",
        report=report,
        token=token,
        mapping_targets=_mapping_targets(db) if report and report.unmapped else None,
        **_common(),
    )


def _mapping_targets(db: Any) -> dict[str, list[tuple[int, str]]]:
    options = choices(db, current_user)
    from accounting.org import User

    return {
        MappingKind.CUSTOMER.value: options.members,
        MappingKind.PROJECT.value: options.services,
        MappingKind.ACTIVITY.value: [
            (aid, f"{dict(options.services).get(sid, sid)} › {name}")
            for aid, sid, name in options.activities
        ],
        MappingKind.USER.value: [
            (uid, f"{name} <{email}>")
            for uid, name, email in db.execute(
                select(User.id, User.name, User.email).order_by(User.name)
            )
        ],
    }


@bp.route("/import/correspondances", methods=["POST"])
@roles_required(A)
def import_mapping() -> ResponseReturnValue:
    """Save what the unmapped Kimai names stand for, then show the preview again."""
    db = get_db()
    token = request.form.get("fichier", "")
    saved = 0
    try:
        for name, value in request.form.items():
            match = re.fullmatch(r"map-(customer|project|activity|user)-([0-9a-f]{16})", name)
            if not match or not value:
                continue
            external = request.form.get(f"ext-{match[1]}-{match[2]}", "")
            target = None if value == COMMON else parse_id(value, name)
            if value != COMMON and target is None:
                continue
            save_mapping(db, MappingKind(match[1]), external, target)
            saved += 1
        db.commit()
        flash(
            f"{plural(saved, 'correspondance enregistrée')} : "
            f"{'elles serviront' if saved > 1 else 'elle servira'} aux prochains imports.",
            "success",
        )
    except ImportRefused as refused:
        db.rollback()
        flash(str(refused), "error")
    return redirect(url_for(".import_upload", fichier=token))


@bp.route("/import/confirmer", methods=["POST"])
@roles_required(*LOGGERS)
def import_confirm() -> ResponseReturnValue:
    db = get_db()
    token = request.form.get("fichier", "")
    stored = UPLOADS.get(current_user.id, token)
    if stored is None:
        flash("Le fichier n'est plus disponible : déposez-le à nouveau.", "error")
        return redirect(url_for(".import_upload"))
    path, name = stored
    try:
        report = import_file(db, current_user, path.read_bytes(), name)
        db.commit()
    except ImportRefused as refused:
        db.rollback()
        flash(refused.summary, "error")
        return redirect(url_for(".import_upload", fichier=request.form.get("fichier")))
    UPLOADS.discard(current_user.id, token)
    flash(report.summary(), "success" if report.added else "info")
    for warning in report.warnings:
        flash(str(warning), "warning")
    return redirect(url_for(".entries", du="", au=""))


@bp.route("/import/modele.<fmt>")
@roles_required(*READERS)
def import_template(fmt: str) -> ResponseReturnValue:
    if fmt == "csv":
        data, mimetype = template_csv(), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        data = template_xlsx()
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        abort(404)
    return send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        download_name=f"modele_saisie_temps.{fmt}",
    )
