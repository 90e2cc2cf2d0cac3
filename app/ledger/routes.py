"""Routes of the ledger area (each declares its access rule with app.access)."""

from app.ledger import bp  # noqa: F401
