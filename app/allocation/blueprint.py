"""The blueprint of the allocation area (its routes attach themselves to it)."""

from flask import Blueprint

bp = Blueprint("allocation", __name__, url_prefix="/repartition")
