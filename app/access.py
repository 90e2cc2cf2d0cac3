"""Access control, checked in one place: the web side of :mod:`accounting.authz`.

Every view declares who may call it with :func:`roles_required` (or :func:`public`): that
declaration is an :class:`~accounting.authz.Action` named after the endpoint, checked by
:func:`accounting.authz.authorize` in a ``before_request`` hook that refuses any endpoint that
declares nothing, so a new route cannot be left open by mistake. Inside a view,
:func:`member_scope` gives the member id to filter on (``None`` = all members) and
:func:`ensure_member` turns another member's object into a 404 — both for the request's action,
so that a member accountant's scope narrows what their other roles grant (see
``accounting/authz.py`` for the rules). :func:`authorize` is the same check for any action
and object, raising the matching HTTP error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, request
from flask_login import current_user

from accounting import authz
from accounting.authz import Action, Denied
from accounting.org import Role

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
ANY_ROLE: frozenset[Role] = frozenset()

ALL_ROLES = frozenset(Role)
STAFF = frozenset({Role.ADMIN, Role.ACCOUNTANT, Role.DEVELOPER, Role.TREASURER})


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Allow users holding at least one of ``roles`` (no roles: any logged-in user)."""

    def mark(view: F) -> F:
        view._access = frozenset(roles)  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    view._access = PUBLIC  # type: ignore[attr-defined]
    return view


def current_action() -> Action:
    """The action of this request: its endpoint and the roles its view declares."""
    action = g.get("mutualise_action")
    if action is None:
        view = current_app.view_functions.get(request.endpoint or "")
        access = getattr(view, "_access", None)
        roles = access if isinstance(access, frozenset) else frozenset()
        action = g.mutualise_action = Action(request.endpoint or "?", roles)
    return action


def authorize(action: Action | None = None, obj: Any = None) -> None:
    """:func:`accounting.authz.authorize` for the logged-in user (``action`` None: this
    request's); a refusal aborts with its status (403, or 404 for another member's object)."""
    if not current_user.is_authenticated:
        abort(401)
    try:
        authz.authorize(current_user, action or current_action(), obj)
    except Denied as denied:
        abort(denied.status)


def member_scope() -> int | None:
    """The only member the current user may see in this request, or None for every member."""
    if not current_user.is_authenticated:
        abort(401)
    try:
        return authz.member_scope(current_user, current_action())
    except Denied as denied:
        abort(denied.status)


def ensure_member(member_id: int | None) -> None:
    """404 when the object belongs to a member outside the user's scope.

    Common work (member None) is hidden from member accountants too.
    """
    authorize(obj=authz.of_member(member_id))


def _check_access() -> Any:
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None
    view = current_app.view_functions.get(endpoint)
    access = getattr(view, "_access", None)
    if access is None:
        current_app.logger.error("endpoint %s declares no access rule: refused", endpoint)
        abort(403)
    if access == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    authorize(current_action())
    return None


def init_app(app: Flask) -> None:
    app.before_request(_check_access)
