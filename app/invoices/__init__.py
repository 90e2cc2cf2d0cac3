"""Web layer of the invoices area: blueprint, routes, forms, CLI commands."""

from app.invoices import routes  # noqa: F401
from app.invoices.blueprint import bp

__all__ = ["bp"]
