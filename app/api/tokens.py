"""Personal access tokens of the JSON API: created and revoked by their user, shown once.

Design:

- A token is ``mtl_`` + 43 URL-safe characters (32 random bytes). Only its SHA-256 is stored
  (``token_hash``, unique): a token has 256 bits of entropy, so a fast hash is enough (argon2
  exists to slow down guessing of low-entropy passwords) and one indexed lookup finds it. The
  first characters (``prefix``) stay readable to tell the tokens apart on the page.
- Every token expires (at most :data:`MAX_DAYS` days); a revoked or expired token, or one of a
  deactivated user, authenticates nobody. ``read_only`` tokens may only read (GET).
- The token carries no rights of its own: a request made with it has exactly its user's roles
  and member scope (the same access rules as the pages).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from accounting.audit import record_audit
from accounting.db import Base, utcnow
from accounting.org import User

PREFIX = "mtl_"
#: Characters shown on the page to recognise a token (the prefix and 8 of its random part).
SHOWN = len(PREFIX) + 8
MAX_DAYS = 365
DEFAULT_DAYS = 90
MAX_NAME = 100
#: At most this many live tokens per user (a leak-prone habit otherwise: one per script run).
MAX_LIVE = 20
#: ``last_used_at`` is written at most this often (not one UPDATE per request).
TOUCH_EVERY = timedelta(minutes=5)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __audited__ = True
    #: The hash is not secret-equivalent, but it has no business in the audit log either.
    __audit_exclude__ = frozenset({"token_hash", "last_used_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(20))
    read_only: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[Optional[datetime]]
    revoked_at: Mapped[Optional[datetime]]

    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_api_tokens_user", "user_id"),)

    def is_live(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.revoked_at is None and self.expires_at > now


class TokenRefused(ValueError):
    """A token that cannot be created (French message)."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    #: The secret itself: shown once, never stored.
    secret: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(
    session: Session, user: User, *, name: str, days: int = DEFAULT_DAYS, read_only: bool = False
) -> NewToken:
    name = " ".join((name or "").split())
    if not name:
        raise TokenRefused(
            "Donnez un nom au jeton (par exemple le script ou l'outil qui l'utilise)."
        )
    if len(name) > MAX_NAME:
        raise TokenRefused(f"Le nom du jeton ne doit pas dépasser {MAX_NAME} caractères.")
    if not 1 <= days <= MAX_DAYS:
        raise TokenRefused(f"La durée de validité va de 1 à {MAX_DAYS} jours.")
    now = utcnow()
    live = [t for t in tokens_of(session, user) if t.is_live(now)]
    if len(live) >= MAX_LIVE:
        raise TokenRefused(
            f"Vous avez déjà {MAX_LIVE} jetons valides : révoquez-en un avant d'en créer un autre."
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name, token_hash=digest(secret), prefix=secret[:SHOWN],
        read_only=read_only, created_at=now, expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    return NewToken(token, secret)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken | None:
    """Revoke one of ``user``'s tokens; None when it is not theirs (or does not exist)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        return None
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_audit(session, "revoke", "api_tokens", token.id)
        session.flush()
    return token


def authenticate(session: Session, secret: str) -> ApiToken | None:
    """The live token of an active user matching ``secret``, or None."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == digest(secret))
    ).one_or_none()
    now = utcnow()
    if token is None or not token.is_live(now) or not token.user.active:
        return None
    return token


def touch(token: ApiToken) -> bool:
    """Mark the token used now (at most every :data:`TOUCH_EVERY`); True when it changed."""
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
        return True
    return False
