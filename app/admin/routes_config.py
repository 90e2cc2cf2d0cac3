"""Routes of the admin area: the cluster's configuration file, applied from an upload and
downloaded (split from :mod:`app.admin.routes`; same blueprint, same thin-view rules)."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from accounting.org import Role
from app.access import roles_required
from app.admin.blueprint import bp
from app.admin.forms import ConfigurationForm
from app.admin.routes import _max_upload
from app.configuration import (
    ConfigRefused,
    apply_configuration,
    dump_configuration,
    export_configuration,
)
from app.database import get_db
from app.formatting import plural
from app.uploads import YAML_FILES, receive_upload
from imports.errors import ImportRefused

A = Role.ADMIN



@bp.route("/configuration", methods=["GET", "POST"])
@roles_required(A)
def configuration() -> ResponseReturnValue:
    form = ConfigurationForm()
    errors: list[Any] = []
    if form.validate_on_submit():
        db = get_db()
        upload = form.file.data
        try:
            received = receive_upload(upload, accept=YAML_FILES,
                                      max_bytes=_max_upload())
            result = apply_configuration(db, received.data, filename=received.name)
        except (ConfigRefused, ImportRefused) as refused:
            db.rollback()
            errors = list(refused.errors)
        else:
            db.commit()
            if result.changed:
                flash(f"Configuration appliquée : {plural(result.changes, 'modification')}.",
                      "success")
            else:
                flash("Rien à modifier : cette configuration est déjà appliquée.", "info")
            return redirect(url_for("admin.configuration"))
    page = render_template("admin/configuration.html", form=form, errors=errors)
    return page, (422 if errors else 200)


@bp.route("/configuration.yaml")
@roles_required(A)
def configuration_export() -> ResponseReturnValue:
    text = dump_configuration(export_configuration(get_db()))
    return Response(
        text,
        mimetype="application/yaml",
        headers={"Content-Disposition": "attachment; filename=mutualise-configuration.yaml"},
    )
