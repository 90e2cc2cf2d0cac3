"""Web layer of the allocation area: blueprint, routes, forms, CLI commands."""

from app.allocation import routes, routes_costs, routes_keys  # noqa: F401
from app.allocation.blueprint import bp

__all__ = ["bp"]
