"""Access control, checked in one place.

Every view declares who may call it with :func:`roles_required` (or :func:`public`); a
``before_request`` hook refuses any endpoint that declares nothing, so a new route cannot be
left open by mistake. Member scope: a member accountant sees only their own member;
:func:`member_scope` gives the member id to filter on (``None`` = all members) and
:func:`ensure_member` turns another member's object into a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request
from flask_login import current_user

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


def member_scope() -> int | None:
    """The only member the current user may see, or None when they see every member."""
    if not current_user.is_authenticated:
        abort(401)
    if current_user.sees_all_members:
        return None
    if current_user.member_id is None:  # a member accountant attached to no member sees nothing
        abort(403)
    return current_user.member_id


def ensure_member(member_id: int | None) -> None:
    """404 when the object belongs to a member outside the user's scope.

    Common work (member None) is hidden from member accountants too.
    """
    scope = member_scope()
    if scope is not None and member_id != scope:
        abort(404)


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
    if access and not current_user.has_role(*access):
        abort(403)
    return None


def init_app(app: Flask) -> None:
    app.before_request(_check_access)
