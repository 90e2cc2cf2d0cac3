"""E-mail notices that must not stop what the user did: when e-mail is not configured or the
server refuses, the notice is logged as not sent and the action stands."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import User
from app.formatting import plural
from app.mail import MailError, new_message, send, settings_from_env


def mail_quietly(to: str, subject: str, body: str) -> bool:
    """Send a notice; False (logged) when e-mail is not configured or the server refuses:
    what the user did stands either way."""
    try:
        settings = settings_from_env()
        if settings is None:
            current_app.logger.warning("e-mail not configured: notice to %s not sent", to)
            return False
        send(settings, new_message(settings, to, subject, body))
    except (MailError, ValueError) as error:
        current_app.logger.warning("notice to %s not sent: %s", to, error)
        return False
    return True


def notify_sent_back(db: Session, entry_ids: Iterable[int], comment: str, by: str) -> int:
    """Tell each author whose entries were just sent back (with the comment); how many
    notices went out."""
    from timesheets.models import WorkEntry

    rows = db.execute(
        select(User.email, User.name, WorkEntry.day)
        .join(User, User.id == WorkEntry.staff_id)
        .where(WorkEntry.id.in_(list(entry_ids)), WorkEntry.status == "draft")
        .order_by(User.email, WorkEntry.day)
    ).all()
    days: dict[tuple[str, str], list[str]] = {}
    for email, name, day in rows:
        days.setdefault((email, name), []).append(f"{day:%d/%m/%Y}")
    sent = 0
    for (email, name), dates in days.items():
        body = "\n".join([
            f"Bonjour {name},",
            "",
            f"{by} vous a renvoyé {plural(len(dates), 'saisie')} de temps ({', '.join(dates)}) "
            "pour correction, avec ce commentaire :",
            "",
            comment,
            "",
            "Elles sont redevenues des brouillons : corrigez-les puis soumettez-les à nouveau."
            if len(dates) > 1 else
            "Elle est redevenue un brouillon : corrigez-la puis soumettez-la à nouveau.",
        ])
        subject = ("Saisies de temps renvoyées" if len(dates) > 1
                   else "Saisie de temps renvoyée") + " pour correction"
        sent += mail_quietly(email, subject, body)
    return sent
