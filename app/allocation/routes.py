"""Routes of the allocation area (each declares its access rule with app.access)."""

from app.allocation import bp  # noqa: F401
