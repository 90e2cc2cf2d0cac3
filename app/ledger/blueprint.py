"""The blueprint of the ledger area (its routes attach themselves to it)."""

from flask import Blueprint

bp = Blueprint("ledger", __name__, url_prefix="/comptabilite")
