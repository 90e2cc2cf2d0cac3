"""Web layer of the timesheets area: blueprint, routes, forms, CLI commands."""

from app.timesheets import (  # noqa: F401
    routes,
    routes_approval,
    routes_grid,
    routes_import,
    routes_settings,
)
from app.timesheets.blueprint import bp

__all__ = ["bp"]
