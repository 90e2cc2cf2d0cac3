"""Authorisation: one function of (user, action, object), for every route, CLI command and API.

:func:`authorize` answers « may ``user`` do ``action`` on ``obj`` ? » by raising
:class:`NotAllowed` (the role does not grant the action: HTTP 403) or :class:`OutOfScope` (the
object belongs to a member outside the user's scope: HTTP 404, so that ids leak nothing), and
returns None when it may. :func:`allowed` is the same answer as a boolean, :func:`member_scope`
the member filter of a listing. Nothing here imports Flask: the web layer
(``app/access.py``) maps the two refusals to 403 and 404 and the command line to an error
message; the JSON API will do the same.

The rules:

- **Roles** combine: an :class:`Action` names the roles that grant it (none: any active user);
  holding one of them is enough.
- **Member scope**: a member accountant (``Role.MEMBER_ACCOUNTANT``) works for one member.
  That scope *narrows whatever the user's other roles grant*: a person who is both member
  accountant of AIDVS and developer sees AIDVS only, everywhere. Only a role of
  :data:`CLUSTER_WIDE_ROLES` lifts it, and only for an action that role grants by itself: a
  member accountant who is also the shared accountant sees every member's invoices (the
  accountant's role grants them), yet edits only their own member's figures (that page is
  granted by the member accountant role alone).
- **Objects**: anything with a ``member_id`` (invoice, work entry, figures...), a
  :class:`~accounting.org.Member`, or :func:`of_member` for a bare id. An object of no member
  (common work, ``member_id`` None) is outside every member scope.

Every view declares its action with ``app.access.roles_required`` (checked before the view
runs) and passes its objects through ``app.access.ensure_member`` / ``member_scope``, which call
this module with the request's action; the timesheets use cases call it with their own actions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from accounting.org import CLUSTER_WIDE_ROLES, Member, Role, User

__all__ = [
    "ANY_USER", "CLUSTER_WIDE_ROLES", "Action", "Denied", "MemberRef", "NotAllowed",
    "OutOfScope", "allowed", "authorize", "is_scoped", "member_scope", "of_member",
]
#: The role that carries a member scope.
SCOPED_ROLE = Role.MEMBER_ACCOUNTANT


@dataclass(frozen=True)
class Action:
    """Something a user does: its name (for messages and logs) and the roles that grant it
    (empty: any logged-in, active user)."""

    name: str
    roles: frozenset[Role] = frozenset()

    @classmethod
    def of(cls, name: str, roles: Iterable[Role]) -> Action:
        return cls(name, frozenset(roles))


@dataclass(frozen=True)
class MemberRef:
    """An object known only by its member's id (a URL parameter, a filter)."""

    member_id: int | None


def of_member(member_id: int | None) -> MemberRef:
    return MemberRef(member_id)


class Denied(Exception):
    """The user may not do this. ``status`` is the HTTP answer (403 or 404)."""

    status = 403

    def __init__(self, message: str = "Accès refusé.") -> None:
        super().__init__(message)


class NotAllowed(Denied):
    """No role of the user grants the action."""

    status = 403


class OutOfScope(Denied):
    """The object belongs to a member the user may not see (answered as « not found »)."""

    status = 404

    def __init__(self, message: str = "Introuvable.") -> None:
        super().__init__(message)


#: Any logged-in user; the member scope still applies.
ANY_USER = Action("any")


def _grants(user: User, action: Action | None) -> frozenset[Role]:
    held = user.role_set
    if action is None or not action.roles:
        return held
    return held & action.roles


def is_scoped(user: User, action: Action | None = None) -> bool:
    """Whether a member scope applies to ``user`` doing ``action`` (None: any action).

    Scoped when the user is a member accountant and no cluster-wide role they hold grants the
    action by itself.
    """
    held = user.role_set
    if SCOPED_ROLE not in held:
        return False
    return not (_grants(user, action) & CLUSTER_WIDE_ROLES)


def member_scope(user: User, action: Action | None = None) -> int | None:
    """The only member ``user`` may see while doing ``action``; None when every member.

    Raises :class:`NotAllowed` for a member accountant attached to no member.
    """
    if not is_scoped(user, action):
        return None
    if user.member_id is None:
        raise NotAllowed("Ce compte n'est rattaché à aucun adhérent.")
    return user.member_id


def object_member(obj: Any) -> int | None:
    """The member an object belongs to (None: common, or no member)."""
    if isinstance(obj, Member):
        return obj.id
    return getattr(obj, "member_id", None)


def authorize(user: User | None, action: Action, obj: Any = None) -> None:
    """Refuse (raise :class:`Denied`) unless ``user`` may do ``action`` on ``obj``.

    ``obj`` None checks the roles only; otherwise the object's member must be within the
    user's scope for this action (a member accountant attached to no member sees nothing).
    """
    if user is None or not getattr(user, "is_authenticated", False) or user.active is False:
        raise NotAllowed("Connexion requise.")
    if action.roles and not user.has_role(*action.roles):
        raise NotAllowed(f"Votre rôle ne permet pas cette action ({action.name}).")
    if obj is None:
        return
    scope = member_scope(user, action)
    if scope is not None and object_member(obj) != scope:
        raise OutOfScope()


def allowed(user: User | None, action: Action, obj: Any = None) -> bool:
    """:func:`authorize` as a boolean (for showing or hiding a button)."""
    try:
        authorize(user, action, obj)
    except Denied:
        return False
    return True
