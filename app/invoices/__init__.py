"""Web layer of the invoices area: blueprint, routes, forms, CLI commands."""

from flask import Blueprint

bp = Blueprint("invoices", __name__, url_prefix="/factures")

from app.invoices import routes  # noqa: E402,F401
