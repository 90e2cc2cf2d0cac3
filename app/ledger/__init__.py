"""Web layer of the ledger area: blueprint, routes, forms, CLI commands."""

from app.ledger import closing, mappings, routes  # noqa: F401
from app.ledger.blueprint import bp

__all__ = ["bp"]
