"""Web layer of delivery: the Factur-X PDF of each document, sending the documents of a period
and the reminders by e-mail (with their log), the addresses to complete, password reset by
e-mail. Use cases in :mod:`app.delivery.usecases`; SMTP in :mod:`app.mail`."""

from app.delivery import reset_routes, routes  # noqa: F401
from app.delivery.blueprint import bp

__all__ = ["bp"]
