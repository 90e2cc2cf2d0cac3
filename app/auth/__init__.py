"""Login, logout and password change."""

from app.auth import routes  # noqa: F401  (routes attach themselves to bp)
from app.auth.blueprint import bp

__all__ = ["bp"]
