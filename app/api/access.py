"""The API's one place for access rules: every endpoint calls these, never ``app.access``.

An API request is authenticated by its Bearer token only (see :mod:`app.api.auth`); from
then on it is the token's user, and the same rules as the pages apply: the roles each page
declares (mirrored below, checked against the pages by ``tests/api/test_access_matrix.py``)
and the member scope (a member accountant sees their own member only; another member's object
is a 404, as on the pages). When the one authorisation function of issue 13 lands, these
functions call it instead.
"""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from accounting.org import Role, User
from app.access import ensure_member, member_scope, roles_required

A, C, M, D, T = (
    Role.ADMIN,
    Role.ACCOUNTANT,
    Role.MEMBER_ACCOUNTANT,
    Role.DEVELOPER,
    Role.TREASURER,
)

#: Anyone with a role: the members and services in their scope (``/temps/adherents.json``).
EVERYONE = (A, C, M, D, T)
#: The allocation keys (``/repartition/cles``).
KEY_READERS = (A, T)
#: Work entries: read (``/temps/saisies``), log and change (``/temps/saisies/nouvelle``).
WORK_READERS = (A, C, M, D, T)
WORK_LOGGERS = (A, C, M, D)
#: Allocation runs (``/repartition/``): a member accountant sees approved runs, own row only.
RUN_READERS = (A, C, T, M)
#: Invoices and credit notes (``/factures/``): a member accountant sees their own, issued.
INVOICE_READERS = (A, C, T, M)
#: Payments (``/factures/paiements``, ``/factures/paiements/nouveau``).
CASHIERS = (A, C, T)
#: The journal (``/comptabilite/``): a member accountant sees the entries naming their member.
LEDGER_READERS = (A, C, T, M)
#: The trial balance (``/comptabilite/balance``).
BOOKKEEPERS = (A, C, T)

#: Each rule and the page whose rule it mirrors (checked by the tests).
MIRRORS = (
    (EVERYONE, "timesheets.member_choices"),
    (KEY_READERS, "allocation.keys"),
    (WORK_READERS, "timesheets.entries"),
    (WORK_LOGGERS, "timesheets.new_entry"),
    (RUN_READERS, "allocation.runs"),
    (INVOICE_READERS, "invoices.index"),
    (INVOICE_READERS, "delivery.pdf"),  # the PDF download of the invoice page
    (CASHIERS, "invoices.payments"),
    (CASHIERS, "invoices.new_payment"),
    (LEDGER_READERS, "ledger.journal"),
    (BOOKKEEPERS, "ledger.balance"),
)

allow = roles_required


def user() -> User:
    """The token's user."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def scope() -> int | None:
    """The only member the user may see, or None for every member (``app.access``)."""
    return member_scope()


def ensure(member_id: int | None) -> None:
    """404 when ``member_id`` is outside the user's scope (common work included)."""
    ensure_member(member_id)


def has_role(*roles: Role) -> bool:
    return bool(current_user.has_role(*roles))


def scoped(query: Any, member_column: Any) -> Any:
    """``query`` restricted to the user's member (unchanged for who sees every member)."""
    member = scope()
    return query if member is None else query.where(member_column == member)
