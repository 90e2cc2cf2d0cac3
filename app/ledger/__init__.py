"""Web layer of the ledger area: blueprint, routes, forms, CLI commands."""

from flask import Blueprint

bp = Blueprint("ledger", __name__, url_prefix="/comptabilite")

from app.ledger import routes  # noqa: E402,F401
