"""The home page: one dashboard block per role the user holds (see app.main.dashboards)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.routing import BuildError

from accounting.org import Role
from app.access import public, roles_required
from app.database import get_db
from app.main.blueprint import bp
from app.main.dashboards import (
    AUDIT_ACTIONS,
    AUDIT_OBJECTS,
    accountant_board,
    admin_board,
    developer_board,
    member_board,
    month_of,
    treasurer_board,
)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@bp.app_template_global("url_if")
def url_if(endpoint: str, **values: Any) -> str | None:
    """The URL of an endpoint, or None while that page does not exist (areas land one by one,
    and a dashboard must never 500 for a link)."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.app_template_test("startswith")
def startswith(value: object, prefix: str) -> bool:
    """``{% if x is startswith 'timesheets.' %}``: base.html finds the nav item of an area."""
    return isinstance(value, str) and value.startswith(prefix)


def chosen_month(text: str | None, today: date) -> date:
    """The first day of the month asked for (``?mois=2026-03``), else of today's month."""
    match = _MONTH.match(text or "")
    if match and 1 <= int(match[2]) <= 12 and 2000 <= int(match[1]) <= 2100:
        return date(int(match[1]), int(match[2]), 1)
    return today.replace(day=1)


@bp.route("/")
@public
def index() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return redirect(url_for("auth.login"))


@bp.route("/accueil")
@roles_required()
def home() -> ResponseReturnValue:
    db = get_db()
    today = date.today()
    day = chosen_month(request.args.get("mois"), today)
    this_month = month_of(day).start == month_of(today).start
    roles = current_user.role_set
    boards: dict[str, Any] = {}
    if Role.ADMIN in roles:
        boards["admin"] = admin_board(db, today)
    if Role.TREASURER in roles:
        boards["treasurer"] = treasurer_board(db, today, request.args.get("periode"))
    if Role.ACCOUNTANT in roles:
        boards["accountant"] = accountant_board(db, day)
    if Role.DEVELOPER in roles:
        week_day = today if this_month else month_of(day).end
        boards["developer"] = developer_board(db, current_user.id, day, week_day=week_day)
    if Role.MEMBER_ACCOUNTANT in roles and current_user.member_id is not None:
        boards["member"] = member_board(
            db, current_user.member_id, today, request.args.get("du"), request.args.get("au")
        )
    return render_template(
        "main/home.html",
        boards=boards,
        day=day,
        today=today,
        this_month=this_month,
        audit_actions=AUDIT_ACTIONS,
        audit_objects=AUDIT_OBJECTS,
    )
