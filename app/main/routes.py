from __future__ import annotations

from flask import redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.access import public, roles_required
from app.main import bp


@bp.route("/")
@public
def index() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return redirect(url_for("auth.login"))


@bp.route("/accueil")
@roles_required()
def home() -> ResponseReturnValue:
    return render_template("main/home.html")
