"""accounting.authz: the one function of (user, action, object), without the web."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest

from accounting.authz import (
    Action,
    NotAllowed,
    OutOfScope,
    allowed,
    authorize,
    is_scoped,
    member_scope,
    of_member,
)
from accounting.org import Member, Role, User

A, C, M, D, T = Role.ADMIN, Role.ACCOUNTANT, Role.MEMBER_ACCOUNTANT, Role.DEVELOPER, Role.TREASURER
OWN, OTHER = 7, 8

INVOICES = Action.of("invoices.view", [A, C, T, M])  # the accountants and the member's
FIGURES = Action.of("admin.member_figures", [A, M])  # the admin, and the member's own
TIMESHEETS = Action.of("timesheets.view", list(Role))


def user(*roles: Role, member_id: int | None = None, active: bool = True) -> User:
    person = User(email="x@y.fr", name="X", member_id=member_id, active=active)
    person.role_set = set(roles)
    return person


def invoice(member_id: int | None) -> SimpleNamespace:
    return SimpleNamespace(member_id=member_id)


@pytest.mark.parametrize("pair", list(itertools.combinations(list(Role), 2)),
                         ids=lambda p: "+".join(r.value for r in p))  # fmt: skip
def test_every_pair_of_roles_with_another_member_s_object(pair: tuple[Role, Role]) -> None:
    """Worked out by hand: the scope applies when the pair holds M and no cluster-wide role of
    the pair (A, C, T) grants the action by itself."""
    person = user(*pair, member_id=OWN if M in pair else None)
    expected_scoped = {
        # (pair) -> {action: scoped?}
        (A, M): {INVOICES: False, FIGURES: False, TIMESHEETS: False},
        (C, M): {INVOICES: False, FIGURES: True, TIMESHEETS: False},
        (M, D): {INVOICES: True, FIGURES: True, TIMESHEETS: True},
        (M, T): {INVOICES: False, FIGURES: True, TIMESHEETS: False},
    }.get(pair, {INVOICES: False, FIGURES: False, TIMESHEETS: False})
    for action, scoped in expected_scoped.items():
        granted = bool(set(pair) & action.roles)
        if not granted:
            with pytest.raises(NotAllowed):
                authorize(person, action, invoice(OTHER))
            continue
        authorize(person, action, invoice(OWN if M in pair else OTHER))
        if scoped:
            with pytest.raises(OutOfScope):
                authorize(person, action, invoice(OTHER))
            with pytest.raises(OutOfScope):
                authorize(person, action, invoice(None))  # common work
            assert member_scope(person, action) == OWN
        else:
            authorize(person, action, invoice(OTHER))
            assert member_scope(person, action) is None


def test_objects_may_be_members_ids_or_anything_with_a_member_id() -> None:
    person = user(M, member_id=OWN)
    authorize(person, INVOICES, Member(id=OWN, code="A", name="A"))
    authorize(person, INVOICES, of_member(OWN))
    assert not allowed(person, INVOICES, Member(id=OTHER, code="B", name="B"))
    assert not allowed(person, INVOICES, of_member(OTHER))
    assert allowed(person, INVOICES)  # no object: the role alone


def test_a_member_accountant_of_no_member_sees_nothing_and_inactive_users_nothing_at_all(
) -> None:  # fmt: skip
    with pytest.raises(NotAllowed, match="aucun adhérent"):
        authorize(user(M), INVOICES, invoice(OWN))
    with pytest.raises(NotAllowed):
        authorize(user(A, active=False), INVOICES)
    with pytest.raises(NotAllowed):
        authorize(None, INVOICES)


def test_sees_all_members_follows_the_cluster_wide_mark() -> None:
    assert user(D).sees_all_members and user(A, M, member_id=OWN).sees_all_members
    assert not user(D, M, member_id=OWN).sees_all_members
    assert not user(M, member_id=OWN).sees_all_members
    assert {r for r in Role if r.cluster_wide} == {A, C, T}
    assert is_scoped(user(D, M, member_id=OWN)) and not is_scoped(user(T, M, member_id=OWN))
