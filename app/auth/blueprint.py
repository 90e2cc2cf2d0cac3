"""The blueprint of the auth area (its routes attach themselves to it)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
