"""How an API request is authenticated: by its Bearer token, and by nothing else.

Decision (CSRF and cookies): the API ignores the session cookie entirely — it is neither read
nor written for ``/api/`` paths (the request gets an empty session before anything looks at
it). A browser attaches cookies to any request, including one forged by another site, but it
never attaches an ``Authorization`` header on its own: with the token as the only credential
there is nothing for a cross-site request to ride on, so CSRF tokens do not apply to the API
(its blueprints are exempt) and a logged-in browser session alone authorises no API call,
read or write. The documentation (``/api/v1/docs``) and the OpenAPI document are public.

Runs first of the app's ``before_request`` hooks (before the session expiry and the access
rule of ``app.access``, which then sees the token's user as ``current_user``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_login import AnonymousUserMixin
from sqlalchemy import update

from app.api import tokens
from app.api.problems import API_PREFIX, ApiProblem, is_api_request
from app.database import get_db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Largest request body of the API (a bulk of 1 000 entries is about 200 kB).
MAX_BODY = 2 * 1024 * 1024


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _is_public() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "_access", None) == "public"


def authenticate() -> Any:
    if not is_api_request():
        return None
    request.max_content_length = min(
        MAX_BODY, current_app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY
    )
    g._login_user = AnonymousUserMixin()
    if request.endpoint is None or _is_public():
        return None  # unknown path (404 problem) or the documentation
    secret = _bearer()
    if secret is None:
        raise ApiProblem(401, None, headers={"WWW-Authenticate": 'Bearer realm="mutualise"'})
    db = get_db()
    token = tokens.authenticate(db, secret)
    if token is None:
        raise ApiProblem(
            401, "Jeton inconnu, expiré ou révoqué.",
            headers={"WWW-Authenticate": 'Bearer realm="mutualise", error="invalid_token"'},
        )
    if token.read_only and request.method not in SAFE_METHODS:
        raise ApiProblem(403, "Ce jeton est en lecture seule : il ne permet aucune écriture.")
    if tokens.touch(token):
        db.execute(
            update(tokens.ApiToken.__table__)
            .where(tokens.ApiToken.id == token.id)
            .values(last_used_at=token.last_used_at)
        )
        db.commit()
    g._login_user = token.user
    g.api_token_id = token.id
    return None


def rate_key() -> str:
    """The rate limits count per token (per address before authentication)."""
    token_id = g.get("api_token_id")
    return f"api-token:{token_id}" if token_id else f"api-addr:{request.remote_addr}"


class CookielessApi(SecureCookieSessionInterface):
    """The app's signed-cookie sessions, except on API paths: there the cookie is not read
    (an empty session) and never written."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def open_session(self, app: Flask, request: Any) -> SessionMixin | None:
        if request.path.startswith(API_PREFIX):
            return SecureCookieSession()
        return self.wrapped.open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if request.path.startswith(API_PREFIX):
            return
        self.wrapped.save_session(app, session, response)


def install(app: Flask) -> None:
    app.session_interface = CookielessApi(app.session_interface)

    def first(*_: Any) -> Any:
        try:
            return authenticate()
        except ApiProblem as error:
            from app.api.problems import problem

            return problem(error.status, error.detail, headers=error.headers)

    app.before_request_funcs.setdefault(None, []).insert(0, first)
