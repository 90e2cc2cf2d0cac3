"""The page where each user creates and revokes their API tokens (``/compte/jetons``).

A new token is shown once, in the answer to the form that created it (never stored, never put
in the session cookie nor in a URL); the list shows each token's name, start, scope, expiry
and last use. Revoking is immediate. Every creation and revocation is in the audit log.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.access import roles_required
from app.api import tokens
from app.api.access import user
from app.database import get_db

bp = Blueprint("api_tokens", __name__, url_prefix="/compte/jetons")

DURATIONS = [
    SelectChoice(30, "30 jours"), SelectChoice(90, "90 jours"), SelectChoice(180, "180 jours"),
    SelectChoice(365, "1 an"),
]


class TokenForm(FlaskForm):
    name = StringField(
        "Nom du jeton",
        validators=[DataRequired("Donnez un nom au jeton."), Length(max=tokens.MAX_NAME)],
    )
    days = SelectField("Validité", choices=DURATIONS, coerce=int, default=tokens.DEFAULT_DAYS)
    read_only = BooleanField("Lecture seule (aucune écriture possible)")


class RevokeForm(FlaskForm):
    pass


def _page(form: TokenForm, secret: str | None = None) -> str:
    return render_template(
        "api/tokens.html", form=form, revoke=RevokeForm(), secret=secret,
        tokens=tokens.tokens_of(get_db(), user()), now=tokens.utcnow(),
    )


@bp.route("/", methods=["GET", "POST"])
@roles_required()
def index() -> ResponseReturnValue:
    form = TokenForm()
    if form.validate_on_submit():
        db = get_db()
        try:
            new = tokens.create_token(
                db, user(), name=form.name.data or "", days=form.days.data,
                read_only=bool(form.read_only.data),
            )
        except tokens.TokenRefused as error:
            db.rollback()
            form.name.errors = [*form.name.errors, str(error)]
        else:
            db.commit()
            return _page(TokenForm(formdata=None), secret=new.secret)
    return _page(form)


@bp.route("/<int:token_id>/revoquer", methods=["POST"])
@roles_required()
def revoke(token_id: int) -> ResponseReturnValue:
    if RevokeForm().validate_on_submit():
        db = get_db()
        token = tokens.revoke_token(db, user(), token_id)
        if token is None:
            flash("Jeton introuvable.", "error")
        else:
            db.commit()
            flash(f"Jeton « {token.name} » révoqué : il ne donne plus accès à l'API.", "success")
    return redirect(url_for(".index"))
