"""Web layer of the allocation area: blueprint, routes, forms, CLI commands."""

from flask import Blueprint

bp = Blueprint("allocation", __name__, url_prefix="/repartition")

from app.allocation import routes, routes_costs, routes_keys  # noqa: E402,F401
