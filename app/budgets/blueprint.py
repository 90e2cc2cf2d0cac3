"""The blueprint of the budgets area (its routes attach themselves to it)."""

from flask import Blueprint

bp = Blueprint("budgets", __name__, url_prefix="/budgets")
