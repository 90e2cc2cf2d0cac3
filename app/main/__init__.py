"""The home page (each role's dashboard)."""

from app.main import routes  # noqa: F401
from app.main.blueprint import bp

__all__ = ["bp"]
