"""Server-side sessions on the web: started at login, checked on every request, ended at
logout (see ``accounting/sessions.py`` for the rows and what ends them).

- **Login** (:func:`begin`): the cookie is emptied first — nothing of the anonymous visit
  survives, in particular Flask-WTF's CSRF secret (``session["csrf_token"]``), so a token read
  before login is refused after it — then the user is logged in and a new ``user_sessions``
  row is created; the cookie carries its random token (``_sid``).
- **Every request** (:func:`_check_session`, the first ``before_request`` hook): a cookie whose
  row is missing, ended (logout, « se déconnecter partout », new password, new roles,
  deactivation), idle for ``SESSION_IDLE_MINUTES`` or older than
  ``PERMANENT_SESSION_LIFETIME`` is logged out and sent to the login page with the reason in
  French; the check is on the server, so a copy of the cookie dies with its session.
- **Logout** (:func:`end`): the row is ended and the cookie emptied (a new CSRF secret too).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from accounting import sessions
from accounting.org import User

SESSION_TOKEN = "_sid"
SESSION_SEEN = "_seen"
SESSION_SINCE = "_since"
#: The row's last_seen_at is written at most this often (one UPDATE a minute per user).
TOUCH_SECONDS = 60

MESSAGES = {
    sessions.LOGOUT: "Votre session a pris fin : reconnectez-vous.",
    sessions.EVERYWHERE: "Cette session a été fermée (déconnexion de tous les appareils) : "
    "reconnectez-vous.",
    sessions.PASSWORD: "Le mot de passe de ce compte a changé : reconnectez-vous.",
    sessions.ROLES: "Les droits de ce compte ont changé : reconnectez-vous.",
    sessions.DEACTIVATED: "Ce compte a été désactivé.",
    sessions.IDLE: "Votre session a expiré : reconnectez-vous.",
    sessions.LIFETIME: "Votre session a expiré : reconnectez-vous.",
}


def _db() -> Any:
    from app.database import get_db

    return get_db()


def begin(user: User) -> None:
    """Log ``user`` in on a fresh cookie and a new server-side session (committed)."""
    session.clear()
    db = _db()
    token = sessions.start_session(db, user)
    db.commit()
    login_user(user)
    now = int(time.time())
    session.permanent = True
    session[SESSION_TOKEN] = token
    session[SESSION_SINCE] = now
    session[SESSION_SEEN] = now


def end(*, everywhere: bool = False) -> None:
    """End this session (``everywhere``: every session of the user), then empty the cookie."""
    db = _db()
    if everywhere and current_user.is_authenticated:
        sessions.end_all_sessions(db, current_user.id, sessions.EVERYWHERE)
    else:
        row = sessions.find_session(db, session.get(SESSION_TOKEN))
        if row is not None:
            sessions.end_session(db, row, sessions.LOGOUT)
    db.commit()
    logout_user()
    session.clear()


def _limits() -> tuple[int, timedelta, timedelta]:
    idle_minutes = int(current_app.config.get("SESSION_IDLE_MINUTES", 60))
    lifetime = current_app.permanent_session_lifetime
    return idle_minutes * 60, timedelta(minutes=idle_minutes), lifetime


def _check_session() -> ResponseReturnValue | None:
    """Refuse a cookie whose server-side session is over (see the module docstring)."""
    if request.endpoint == "static" or "_user_id" not in session:
        return None
    now = int(time.time())
    idle_seconds, idle, lifetime = _limits()
    seen, since = session.get(SESSION_SEEN), session.get(SESSION_SINCE)
    db = _db()
    row, user = sessions.find_session_and_user(db, session.get(SESSION_TOKEN))
    reason = sessions.refusal(row, session.get("_user_id"), idle=idle, lifetime=lifetime)
    if reason is None and (
        not isinstance(seen, int) or not isinstance(since, int) or now - seen > idle_seconds
    ):
        reason = sessions.IDLE
    elif reason is None and now - since > lifetime.total_seconds():
        reason = sessions.LIFETIME
    if reason is not None:
        if row is not None and row.ended_at is None:
            db.commit()  # end the read first (see sessions.touch_session)
            sessions.end_session(db, row, reason)
            db.commit()
        logout_user()
        session.clear()
        flash(MESSAGES.get(reason, MESSAGES[sessions.LOGOUT]), "info")
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))
    assert row is not None
    if user is not None:
        g.session_user = user  # for the user loader: no second statement (see session_user)
    if (sessions.utcnow() - sessions.aware(row.last_seen_at)).total_seconds() >= TOUCH_SECONDS:
        sessions.touch_session(db, row)
    if now - seen >= 30:  # re-sign the cookie at most every 30 s
        session[SESSION_SEEN] = now
    return None


def session_user(user_id: int) -> User | None:
    """The active user of this request's session row, when :func:`_check_session` read it
    with the row and it is ``user_id`` (else None: the loader asks the database)."""
    user = g.get("session_user")
    return user if user is not None and user.id == user_id else None


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_IDLE_MINUTES", 60)
    # First of the before_request hooks: an ended session is anonymous for the access rule.
    app.before_request_funcs.setdefault(None, []).insert(0, _check_session)
