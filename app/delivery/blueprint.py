"""The blueprint of the delivery area (its routes attach themselves to it)."""

from flask import Blueprint

bp = Blueprint("delivery", __name__)
