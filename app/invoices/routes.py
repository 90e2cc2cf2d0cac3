"""Routes of the invoices area (each declares its access rule with app.access)."""

from app.invoices import bp  # noqa: F401
