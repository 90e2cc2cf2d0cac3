"""Routes of the timesheets area (each declares its access rule with app.access)."""

from app.timesheets import bp  # noqa: F401
