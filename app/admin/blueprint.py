"""The blueprint of the admin area (its routes attach themselves to it)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
