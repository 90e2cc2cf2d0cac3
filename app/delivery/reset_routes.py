"""« Mot de passe oublié » and the notice sent to the author of entries sent back.

The request page answers the same whether the address exists or not, and is rate-limited per
client address (``RATELIMIT_PASSWORD_RESET``, default 5 per 15 minutes, on the limiter's shared
storage); the tokens' own rules (single use, one hour, 3 per user and hour) are in
:mod:`app.password_reset`.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from limits import parse

from app.access import public
from app.database import get_db
from app.delivery.blueprint import bp
from app.delivery.forms import ForgotForm, ResetForm
from app.delivery.notices import mail_quietly
from app.password_reset import request_reset, use_token, valid_token
from app.security import password_problems

SAME_ANSWER = ("Si cette adresse correspond à un compte, un courriel vient de lui être envoyé "
               "avec un lien pour choisir un nouveau mot de passe (valable une heure).")


def _rate_limited() -> bool:
    limiter = current_app.extensions.get("mutualise.limiter")
    if limiter is None or not limiter.enabled:
        return False
    item = parse(current_app.config.get("RATELIMIT_PASSWORD_RESET", "5 per 15 minutes"))
    return not limiter.limiter.hit(item, "password-reset", get_remote_address())


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@public
def forgot() -> ResponseReturnValue:
    form = ForgotForm()
    if form.validate_on_submit():
        if _rate_limited():
            abort(429)
        db = get_db()
        found = request_reset(db, form.email.data or "")
        db.commit()
        if found is not None:
            user, token = found
            link = url_for(".reset", token=token, _external=True)
            mail_quietly(user.email, "Réinitialisation de votre mot de passe", "\n".join([
                f"Bonjour {user.name},",
                "",
                "Pour choisir un nouveau mot de passe, ouvrez ce lien (valable une heure, "
                "une seule fois) :",
                link,
                "",
                "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change "
                "pas.",
            ]))
        flash(SAME_ANSWER, "info")
        return redirect(url_for("auth.login"))
    return render_template("delivery/forgot.html", form=form)


@bp.route("/reinitialiser/<token>", methods=["GET", "POST"])
@public
def reset(token: str) -> ResponseReturnValue:
    db = get_db()
    found = valid_token(db, token) if len(token) < 100 else None
    if found is None:
        flash("Ce lien n'est plus valable (déjà utilisé, expiré ou remplacé par un plus récent). "
              "Demandez-en un nouveau.", "error")
        return redirect(url_for(".forgot"))
    form = ResetForm()
    if form.validate_on_submit():
        problems = password_problems(form.password.data or "", email=found.user.email,
                                     name=found.user.name)
        if problems:
            form.password.errors = [*form.password.errors, *problems]
        else:
            db.info["actor"] = lambda: (found.user.id, found.user.email)
            use_token(db, found, form.password.data or "")
            db.commit()
            flash("Mot de passe changé : vous pouvez vous connecter.", "success")
            return redirect(url_for("auth.login"))
    return render_template("delivery/reset.html", form=form)
