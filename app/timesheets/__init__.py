"""Web layer of the timesheets area: blueprint, routes, forms, CLI commands."""

from flask import Blueprint

bp = Blueprint("timesheets", __name__, url_prefix="/temps")

from app.timesheets import (  # noqa: E402,F401
    routes,
    routes_approval,
    routes_grid,
    routes_import,
    routes_settings,
)
