"""The blueprint of the timesheets area (its routes attach themselves to it)."""

from flask import Blueprint

bp = Blueprint("timesheets", __name__, url_prefix="/temps")
