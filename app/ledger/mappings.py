"""The account mapping screen: how other charts' accounts become the carrier's (PCG).

Shown to the bookkeepers, edited by the admin (``accounting.ledger.mapping``): a rule is an
exact account or a prefix and its target; every change is audited by the session hook.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from accounting.ledger.errors import LedgerError
from accounting.ledger.mapping import KINDS, delete_mapping, mappings, normalise, save_mapping
from accounting.ledger.models import AccountMapping
from accounting.org import Role
from app.access import roles_required
from app.database import get_db
from app.ledger.blueprint import bp

BOOKKEEPERS = (Role.ADMIN, Role.ACCOUNTANT, Role.TREASURER)


class MappingForm(FlaskForm):
    kind = SelectField("Type", choices=[SelectChoice(k, v) for k, v in KINDS.items()])
    source = StringField("Compte d'origine", validators=[InputRequired("Champ obligatoire."),
                                                          Length(max=20)])  # fmt: skip
    target = StringField("Compte du plan de la structure", validators=[
        InputRequired("Champ obligatoire."), Length(max=20)])  # fmt: skip


def _page(form: MappingForm) -> ResponseReturnValue:
    return render_template("ledger/mappings.html", form=form, rows=mappings(get_db()),
                           kinds=KINDS, can_edit=current_user.has_role(Role.ADMIN),
                           normalise=normalise)  # fmt: skip


@bp.route("/correspondances")
@roles_required(*BOOKKEEPERS)
def mappings_page() -> ResponseReturnValue:
    return _page(MappingForm())


@bp.route("/correspondances", methods=["POST"])
@roles_required(Role.ADMIN)
def mapping_save() -> ResponseReturnValue:
    db = get_db()
    form = MappingForm()
    if form.validate_on_submit():
        try:
            save_mapping(db, form.kind.data or "", form.source.data or "",
                         form.target.data or "")  # fmt: skip
        except LedgerError as error:
            db.rollback()
            form.source.errors.append(str(error))
        else:
            db.commit()
            flash(f"Correspondance {form.source.data} → {form.target.data} enregistrée.",
                  "success")  # fmt: skip
            return redirect(url_for(".mappings_page"))
    return _page(form)


@bp.route("/correspondances/<int:mapping_id>/supprimer", methods=["POST"])
@roles_required(Role.ADMIN)
def mapping_delete(mapping_id: int) -> ResponseReturnValue:
    db = get_db()
    row = db.get(AccountMapping, mapping_id)
    if row is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    delete_mapping(db, row)
    db.commit()
    flash("Correspondance supprimée.", "success")
    return redirect(url_for(".mappings_page"))
