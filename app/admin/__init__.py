"""Web layer of the admin area: blueprint, routes, forms, CLI commands."""

from app.admin import routes, routes_config  # noqa: F401
from app.admin.blueprint import bp

__all__ = ["bp"]
