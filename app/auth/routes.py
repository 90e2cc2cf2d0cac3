from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from accounting.audit import record_audit
from accounting.db import utcnow
from accounting.org import User
from accounting.sessions import live_sessions
from app import web_sessions
from app.access import public, roles_required
from app.auth.blueprint import bp
from app.auth.forms import LoginForm, PasswordForm
from app.database import get_db
from app.security import login_refusal


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect would hand the session to another site."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        db = get_db()
        email = (form.email.data or "").strip().lower()
        user = db.scalars(select(User).where(func.lower(User.email) == email)).one_or_none()
        refusal = login_refusal(db, user, form.password.data or "")
        if refusal:
            db.commit()  # the failure count and a lockout must survive the refusal
            flash(refusal, "error")
            return render_template("auth/login.html", form=form), 200
        user.last_login_at = utcnow()
        # Not yet current_user: name the user for the audit of this commit explicitly.
        db.info["actor"] = lambda: (user.id, user.email)
        record_audit(db, "login", "users", user.id)
        db.commit()
        next_page = _safe_next(request.args.get("next"))
        web_sessions.begin(user)  # a new cookie, CSRF secret and server-side session
        return redirect(next_page)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@roles_required()
def logout() -> ResponseReturnValue:
    web_sessions.end()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout/partout", methods=["POST"])
@roles_required()
def logout_everywhere() -> ResponseReturnValue:
    """« Se déconnecter partout »: end every session of this account, this one included."""
    record_audit(get_db(), "logout_everywhere", "users", current_user.id)
    web_sessions.end(everywhere=True)
    flash("Vous êtes déconnecté de tous vos appareils.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@roles_required()
def password() -> ResponseReturnValue:
    form = PasswordForm()
    if form.validate_on_submit():
        db = get_db()
        user = db.get(User, current_user.id)
        assert user is not None
        if not user.check_password(form.current.data or ""):
            form.current.errors.append("Mot de passe actuel incorrect.")
        else:
            user.set_password(form.new.data or "")
            record_audit(db, "password_change", "users", user.id)
            db.commit()  # ends every session of the account (accounting.sessions)
            web_sessions.begin(user)  # ... and this browser goes on in a new one
            flash("Mot de passe modifié : vos autres sessions sont fermées.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form,
                           live_sessions=live_sessions(get_db(), current_user.id))
