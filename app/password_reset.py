"""Password reset by e-mail (« mot de passe oublié »): the token table and its rules.

Design. A request for an address creates a token only when an active user has that address;
the page answers the same either way (nothing tells whether the address exists). The token is
32 random bytes sent in the link; only its SHA-256 is stored, so a copy of the database cannot
be used to reset anyone's password. A token is single-use (``used_at``), expires after
``TOKEN_LIFETIME``, and dies when a newer one is issued or the password changes. At most
``MAX_PER_HOUR`` tokens per user and per hour (more requests are answered the same and send
nothing); the request page is also rate-limited per client address (Flask-Limiter, as login).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from accounting.db import Base, utcnow
from accounting.org import User

TOKEN_LIFETIME = timedelta(hours=1)
MAX_PER_HOUR = 3


class PasswordReset(Base):
    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[Optional[datetime]]

    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_password_resets_user", "user_id", "created_at"),)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_reset(
    session: Session, email: str, now: datetime | None = None
) -> tuple[User, str] | None:
    """(user, token to send) for an active user with this e-mail under the hourly limit;
    None otherwise (the caller answers the same in both cases). Older tokens die."""
    now = now or utcnow()
    user = session.scalars(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).one_or_none()
    if user is None or not user.active:
        return None
    recent = session.scalar(
        select(func.count()).select_from(PasswordReset).where(
            PasswordReset.user_id == user.id,
            PasswordReset.created_at > now - timedelta(hours=1),
        )
    )
    if recent >= MAX_PER_HOUR:
        return None
    for old in session.scalars(
        select(PasswordReset).where(
            PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None)
        )
    ):
        old.used_at = now
    token = secrets.token_urlsafe(32)
    session.add(PasswordReset(
        user_id=user.id, token_hash=_hash(token), created_at=now,
        expires_at=now + TOKEN_LIFETIME,
    ))
    session.flush()
    return user, token


def valid_token(
    session: Session, token: str, now: datetime | None = None
) -> PasswordReset | None:
    now = now or utcnow()
    reset = session.scalars(
        select(PasswordReset).where(PasswordReset.token_hash == _hash(token))
    ).one_or_none()
    if reset is None or reset.used_at is not None or reset.expires_at < now:
        return None
    if not reset.user.active:
        return None
    return reset


def use_token(session: Session, reset: PasswordReset, password: str,
              now: datetime | None = None) -> User:
    """Set the new password and spend the token (and any other of the user's)."""
    now = now or utcnow()
    user = reset.user
    user.set_password(password)
    user.failed_logins = 0
    user.locked_until = None
    for other in session.scalars(
        select(PasswordReset).where(
            PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None)
        )
    ):
        other.used_at = now
    session.flush()
    return user
