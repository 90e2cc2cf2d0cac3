"""Web hardening in one place: headers, login throttling and lockout, session expiry, proxies.

Design:

- **Headers** on every response: a strict Content-Security-Policy (scripts and styles from our
  own origin only, no inline code, no framing), ``nosniff``, a same-origin referrer policy,
  ``no-store`` on every page but static files (they show private figures), and HSTS in
  production.
- **Login throttling, two layers.** Per client address, Flask-Limiter refuses more than
  ``RATELIMIT_LOGIN`` attempts (429, French page). Per account, :func:`login_refusal` counts
  consecutive failures in ``users.failed_logins`` and locks the account for
  :data:`LOCKOUT_MINUTES` after :data:`MAX_FAILED_LOGINS`. Both live in the database (the
  limiter through :class:`SQLStorage`), so several app processes or machines share them:
  nothing is kept in a process.
- **Sessions** are signed cookies naming a row of ``user_sessions``, checked on every request
  and ended by logout, idle and absolute timeouts and any change of the account
  (``app/web_sessions.py``, ``accounting/sessions.py``).
- **Passwords**: :func:`password_problems` is the one rule set (length, variety, not the
  e-mail, not a common password); forms use :class:`StrongPassword`, the CLI calls it directly.
- **Behind a reverse proxy** ``PROXY_HOPS`` > 0 applies Werkzeug's ProxyFix, so the client
  address (rate limits) and the https scheme (secure cookies, redirects) are the real ones.
- **Database refusals** that reach the edge (a unique constraint hit by two people saving at
  once, a value out of range, SQLite busy) become a French 409 / 400 / 503 page after a
  rollback, never a bare 500 (a NUL character that no form check caught: PostgreSQL refuses
  it in text).

Wired by :func:`init_app`, called from ``create_app`` once the blueprints are registered.
"""

from __future__ import annotations

import contextlib
import math
import random
import re
import time
from datetime import timedelta
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits.storage import Storage
from sqlalchemy import (
    BigInteger,
    Engine,
    Float,
    String,
    case,
    delete,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import BadRequest, TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms import Field, ValidationError
from wtforms.form import BaseForm

from accounting.audit import record_audit
from accounting.db import Base, utcnow
from accounting.org import User
from app import web_sessions

# ---------------------------------------------------------------- headers

#: No 'unsafe-inline' anywhere: every script and stylesheet is a file under app/static, and no
#: template may carry a ``style=`` or ``on...=`` attribute (tests/security checks every page).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

HSTS = "max-age=31536000; includeSubDomains"


def _set_headers(response: Any) -> Any:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        # Pages and downloads hold private figures: no shared or browser cache keeps them.
        response.headers["Cache-Control"] = "no-store"
    if _is_production():
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _is_production() -> bool:
    from flask import current_app

    return current_app.config.get("MUTUALISE_ENV") == "production"


# ---------------------------------------------------------------- passwords

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
MIN_DISTINCT_CHARACTERS = 5
#: The most common passwords and their French favourites, compared once letters are lowered
#: and digits and punctuation removed ("Azerty123!" is "azerty").
COMMON_PASSWORDS = frozenset(
    {
        "password", "motdepasse", "azerty", "azertyuiop", "qwerty", "qwertyuiop", "soleil",
        "bonjour", "doudou", "chouchou", "marseille", "loulou", "jetaime", "nicolas",
        "admin", "administrateur", "utilisateur", "mutualise", "letmein", "welcome",
        "iloveyou", "football", "monkey", "dragon", "princesse", "abc", "abcdef", "",
    }
)
_NOT_LETTER = re.compile(r"[^a-zà-ÿ]+")
#: "P@ssw0rd" is "password": undo the usual substitutions before comparing.
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "3": "e", "$": "s", "5": "s"})


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """What is wrong with a new password, in French (empty list: acceptable).

    Length and a blocklist rather than composition rules (NIST SP 800-63B): long passphrases
    pass, "Azerty123!" does not.
    """
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            f"Le mot de passe doit comporter au moins {MIN_PASSWORD_LENGTH} caractères."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"Le mot de passe ne doit pas dépasser {MAX_PASSWORD_LENGTH} caractères.")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        problems.append(
            f"Le mot de passe doit contenir au moins {MIN_DISTINCT_CHARACTERS} "
            "caractères différents."
        )
    lowered = password.lower()
    letters = {_NOT_LETTER.sub("", lowered), _NOT_LETTER.sub("", lowered.translate(_LEET))}
    if letters & COMMON_PASSWORDS:
        problems.append("Ce mot de passe est trop courant : choisissez-en un autre.")
    local = email.split("@", 1)[0].lower()
    personal = [part for part in [local, *name.lower().split()] if len(part) >= 4]
    if any(part in lowered for part in personal):
        problems.append("Le mot de passe ne doit pas contenir votre nom ni votre e-mail.")
    return problems


class StrongPassword:
    """WTForms validator applying :func:`password_problems`.

    ``email_field`` names a field of the same form holding the e-mail; otherwise the logged-in
    user's e-mail and name are used.
    """

    def __init__(self, email_field: str | None = None) -> None:
        self.email_field = email_field

    def __call__(self, form: BaseForm, field: Field) -> None:
        email, name = "", ""
        if self.email_field is not None:
            email = form[self.email_field].data or ""
        elif current_user and current_user.is_authenticated:
            email, name = current_user.email, current_user.name
        problems = password_problems(field.data or "", email=email, name=name)
        if problems:
            raise ValidationError(" ".join(problems))


# ---------------------------------------------------------------- account lockout

MAX_FAILED_LOGINS = 5
LOCKOUT_MINUTES = 15
BAD_CREDENTIALS = "E-mail ou mot de passe incorrect."


def login_refusal(session: Any, user: User | None, password: str) -> str | None:
    """Check a login attempt; None when it may log in, else the French message to show.

    Counts consecutive failures on the user row and locks the account for
    :data:`LOCKOUT_MINUTES` at the :data:`MAX_FAILED_LOGINS`-th; a locked account is refused
    without even checking the password, so guessing on is useless. Changes are flushed, not
    committed: the view commits, also when it refuses (the count must survive).
    """
    now = utcnow()
    if user is None or not user.active:
        _burn_a_hash(password)  # same time as a real check: no hint that the account exists
        return BAD_CREDENTIALS
    if user.locked_until is not None and user.locked_until > now:
        return _locked_message(user.locked_until - now)
    if not user.check_password(password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
            user.failed_logins = 0
            record_audit(session, "lock", "users", user.id, after={"minutes": LOCKOUT_MINUTES})
            session.flush()
            return _locked_message(timedelta(minutes=LOCKOUT_MINUTES))
        session.flush()
        return BAD_CREDENTIALS
    if user.failed_logins or user.locked_until is not None:
        user.failed_logins = 0
        user.locked_until = None
    return None


def _locked_message(remaining: timedelta) -> str:
    minutes = max(1, math.ceil(remaining.total_seconds() / 60))
    return (
        "Trop de tentatives de connexion : ce compte est verrouillé. "
        f"Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."
    )


def _burn_a_hash(password: str) -> None:
    import accounting.org  # read at call time: the tests swap in a cheaper hasher

    hasher = accounting.org.PASSWORD_HASHER
    dummy = _DUMMY_HASHES.get(id(hasher))
    if dummy is None:
        dummy = _DUMMY_HASHES[id(hasher)] = hasher.hash("mutualise-dummy-password")
    with contextlib.suppress(VerificationError, InvalidHashError):
        hasher.verify(dummy, password)


_DUMMY_HASHES: dict[int, str] = {}


# ---------------------------------------------------------------- rate-limit storage


class RateLimitCounter(Base):
    """Fixed-window counters of Flask-Limiter, shared by every app process through the database."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    #: Unix time (seconds) when the window ends.
    expires_at: Mapped[float] = mapped_column(Float)


class SQLStorage(Storage):
    """A ``limits`` storage in the application's database (``mutualise+sql://``).

    The in-memory storage would give every gunicorn worker its own counters (so N workers
    allow N times the limit) and forget them at each restart; Redis would be one more service
    to run. The counters are few (one per client address and window), so SQL is enough.
    Each operation is its own short transaction on the app's engine.
    """

    STORAGE_SCHEME = ["mutualise+sql"]
    #: Probability that an increment also purges windows that ended an hour ago.
    PURGE_PROBABILITY = 0.01

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any
    ) -> None:
        engine = options.pop("engine", None)
        if not isinstance(engine, Engine):
            raise ValueError("SQLStorage needs engine=<the app's SQLAlchemy engine>")
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.engine = engine
        self.table = RateLimitCounter.__table__

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def _insert(self) -> Any:
        module = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return module.insert(self.table)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        t = self.table
        expired = t.c.expires_at <= now
        stmt = self._insert().values(key=key, count=amount, expires_at=now + expiry)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={
                "count": case((expired, amount), else_=t.c.count + amount),
                "expires_at": case((expired, now + expiry), else_=t.c.expires_at),
            },
        ).returning(t.c.count)
        with self.engine.begin() as conn:
            count = conn.execute(stmt).scalar_one()
            if random.random() < self.PURGE_PROBABILITY:
                conn.execute(delete(t).where(t.c.expires_at < now - 3600))
        return int(count)

    def get(self, key: str) -> int:
        t = self.table
        with self.engine.connect() as conn:
            count = conn.execute(
                select(t.c.count).where(t.c.key == key, t.c.expires_at > time.time())
            ).scalar_one_or_none()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        t = self.table
        with self.engine.connect() as conn:
            at = conn.execute(select(t.c.expires_at).where(t.c.key == key)).scalar_one_or_none()
        return float(at) if at is not None else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(delete(self.table)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.key == key))


def _init_limiter(app: Flask) -> Limiter:
    """A limiter for this app (never a module global: tests build many apps).

    The storage is the app's database unless RATELIMIT_STORAGE_URI names another (redis://...).
    """
    app.config.setdefault("RATELIMIT_LOGIN", "10 per minute;60 per hour")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    engine = app.extensions.get("mutualise.engine")
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        if engine is not None:
            app.config["RATELIMIT_STORAGE_URI"] = "mutualise+sql://"
            app.config["RATELIMIT_STORAGE_OPTIONS"] = {"engine": engine}
        else:  # the tests' shared-connection app: nothing to share with
            app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    limiter = Limiter(get_remote_address, app=app)
    app.extensions["mutualise.limiter"] = limiter
    login_view = app.view_functions.get("auth.login")
    if login_view is not None:
        app.view_functions["auth.login"] = limiter.limit(
            lambda: app.config["RATELIMIT_LOGIN"],
            methods=["POST"],
            error_message="Trop de tentatives de connexion depuis votre adresse.",
        )(login_view)
    return limiter


def _too_many_requests(error: TooManyRequests) -> ResponseReturnValue:
    return (
        render_template(
            "errors/error.html",
            code=429,
            title="Trop de tentatives",
            message=(
                "Trop de tentatives depuis votre adresse en peu de temps : "
                "patientez quelques minutes avant de réessayer."
            ),
        ),
        429,
        {"Retry-After": "60"},
    )


# ---------------------------------------------------------------- database conflicts


def _integrity_error(error: IntegrityError) -> ResponseReturnValue:
    """A constraint refused the write: two people saving the same thing at once (the second
    one), or a check the form missed. Never a bare 500: nothing was saved, say so."""
    from flask import current_app

    from app.database import get_db

    get_db().rollback()
    current_app.logger.error("integrity error on %s %s: %s", request.method, request.path, error)
    return (
        render_template(
            "errors/error.html",
            code=409,
            title="Enregistrement refusé",
            message=(
                "La base de données a refusé l'enregistrement (une donnée en double ou "
                "incohérente, peut-être enregistrée au même moment par quelqu'un d'autre) : "
                "rien n'a été enregistré. Rechargez la page et vérifiez avant de recommencer."
            ),
        ),
        409,
    )


def _data_error(error: DataError | OverflowError) -> ResponseReturnValue:
    """A value the database cannot hold (a number out of range...) that no check caught
    (PostgreSQL says DataError; SQLite's driver raises OverflowError for a huge integer)."""
    from flask import current_app

    from app.database import get_db

    get_db().rollback()
    current_app.logger.error("data error on %s %s: %s", request.method, request.path, error)
    return _error_page(
        400, "Valeur refusée",
        "Une valeur saisie est invalide ou hors limites : rien n'a été enregistré. "
        "Vérifiez le formulaire et recommencez.",
    )


def _bad_request(error: BadRequest) -> ResponseReturnValue:
    message = error.description if error.description != BadRequest.description else (
        "La requête n'est pas valide : rechargez la page et recommencez."
    )
    return _error_page(400, "Requête invalide", message)


def _error_page(code: int, title: str, message: str) -> ResponseReturnValue:
    return render_template("errors/error.html", code=code, title=title, message=message), code


def _database_busy(error: OperationalError) -> ResponseReturnValue:
    """SQLite's single writer was busy past the timeout, or PostgreSQL is unreachable."""
    from flask import current_app

    from app.database import get_db

    get_db().rollback()
    current_app.logger.error("database unavailable on %s %s: %s", request.method, request.path,
                             error)
    return (
        render_template(
            "errors/error.html",
            code=503,
            title="Base de données occupée",
            message=(
                "La base de données n'a pas pu répondre à temps : rien n'a été enregistré. "
                "Réessayez dans un instant."
            ),
        ),
        503,
        {"Retry-After": "5"},
    )


# ---------------------------------------------------------------- production checks


class InsecureConfiguration(RuntimeError):
    """The production profile was asked for with a setting that would be unsafe."""


def check_production(config: dict[str, Any]) -> None:
    """Refuse to start in production without the settings several processes need."""
    if config.get("MUTUALISE_ENV") != "production":
        return
    problems = []
    if config.get("SECRET_KEY_SOURCE", "environment") != "environment":
        problems.append(
            "SECRET_KEY must come from the environment: every process and machine needs the same "
            "key, and a key generated into instance/ exists on one machine only"
        )
    if len(str(config.get("SECRET_KEY", ""))) < 32:
        problems.append("SECRET_KEY must be at least 32 characters")
    if not config.get("SESSION_COOKIE_SECURE") or not config.get("REMEMBER_COOKIE_SECURE"):
        problems.append("cookies must be Secure in production")
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory"):
        problems.append("the rate-limit storage must be shared (the database or redis://)")
    if problems:
        raise InsecureConfiguration("Unsafe production configuration: " + "; ".join(problems))


# ---------------------------------------------------------------- wiring


def init_app(app: Flask) -> None:
    """Install every protection of this module on ``app`` (after the blueprints)."""
    hops = int(app.config.get("PROXY_HOPS", 0) or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    app.after_request(_set_headers)
    web_sessions.init_app(app)
    _init_limiter(app)
    app.register_error_handler(TooManyRequests, _too_many_requests)
    app.register_error_handler(IntegrityError, _integrity_error)
    app.register_error_handler(DataError, _data_error)
    app.register_error_handler(OverflowError, _data_error)
    app.register_error_handler(BadRequest, _bad_request)
    app.register_error_handler(OperationalError, _database_busy)
    check_production(app.config)

