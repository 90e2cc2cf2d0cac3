"""Routes of the admin area (each declares its access rule with app.access)."""

from app.admin import bp  # noqa: F401
