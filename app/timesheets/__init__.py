"""Web layer of the timesheets area: blueprint, routes, forms, CLI commands."""

from flask import Blueprint

bp = Blueprint("timesheets", __name__, url_prefix="/temps")

from app.timesheets import routes  # noqa: E402,F401
