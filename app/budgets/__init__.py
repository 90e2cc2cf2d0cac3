"""The year's cash area (DESIGN §5b): budgets, calls for funds, revisions, true-up."""

from app.budgets import routes as routes
from app.budgets.blueprint import bp

__all__ = ["bp"]
