"""The blueprint of the invoices area (its routes attach themselves to it)."""

from flask import Blueprint

bp = Blueprint("invoices", __name__, url_prefix="/factures")
