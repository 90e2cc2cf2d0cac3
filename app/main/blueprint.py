"""The blueprint of the main area (its routes attach themselves to it)."""

from flask import Blueprint

bp = Blueprint("main", __name__)
