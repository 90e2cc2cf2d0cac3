"""The arithmetic of calls for funds (DESIGN §5b), without a database: worked examples by hand
and properties (hypothesis) — whatever the mode, called + catch-up + remaining calls = the
revised budget; a call's shares add up to its pool; members absent get nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounting.allocation.keys import parse_key
from accounting.budgets.errors import BudgetError
from accounting.budgets.models import CatchUp
from accounting.budgets.plan import CallMember, call_pools, call_shares, preview, regular_calls

D = Decimal


def test_regular_calls_give_the_extra_cents_to_the_first_calls() -> None:
    assert regular_calls(D("100.00"), 3) == [D("33.34"), D("33.33"), D("33.33")]


def test_a_june_revision_previewed_in_the_three_modes() -> None:
    # 12 000 € voted, two quarters called (3 000 each), revised to 15 000 €.
    plans = preview(D("15000.00"), 4, [D("3000.00"), D("3000.00")])
    assert plans[CatchUp.SPREAD].remaining == (D("4500.00"), D("4500.00"))
    assert plans[CatchUp.NEXT].remaining == (D("5250.00"), D("3750.00"))
    assert plans[CatchUp.AT_ONCE].catch_up == D("1500.00")
    assert plans[CatchUp.AT_ONCE].remaining == (D("3750.00"), D("3750.00"))


def test_every_call_issued_leaves_the_rest_to_the_true_up() -> None:
    plan = call_pools(D("10.00"), 2, [D("3.00"), D("3.00")])
    assert (plan.catch_up, plan.remaining) == (D("0"), ())


def test_the_call_key_replaces_hours_by_last_years_shares_and_prorates() -> None:
    key = parse_key("50% equal + 50% hours")
    members = [
        CallMember("A", 90, last_year=D("1000.00")),
        CallMember("B", 90, last_year=D("3000.00")),
        CallMember("C", 45, last_year=None),  # joined mid-quarter: half the equal part
    ]
    # Equal part 500: weights 1, 1, 0.5 → 200, 200, 100. Hours part 500: last year 1:3:0 with
    # the active fraction → 125, 375, 0.
    assert call_shares(D("1000.00"), key, members, 90) == {
        "A": D("325.00"), "B": D("575.00"), "C": D("100.00")}


def test_a_first_year_shares_measured_bases_equally() -> None:
    shares = call_shares(D("90.00"), parse_key("hours"),
                         [CallMember(c, 30) for c in "ABC"], 30)
    assert shares == {"A": D("30.00"), "B": D("30.00"), "C": D("30.00")}


def test_a_missing_revenue_is_named() -> None:
    with pytest.raises(BudgetError, match="chiffre d'affaires manquant pour B"):
        call_shares(D("10.00"), parse_key("revenue"),
                    [CallMember("A", 30, revenue=D("5")), CallMember("B", 30)], 30)


cents = st.integers(-10_000_000, 10_000_000).map(lambda c: D(c) / 100)


@given(net=cents, count=st.sampled_from([4, 12]), data=st.data())
def test_whatever_the_mode_the_year_calls_the_revised_budget(net, count, data) -> None:
    called = data.draw(st.lists(cents, max_size=count - 1))
    for mode in CatchUp:
        plan = call_pools(net, count, called, mode)
        assert sum(called, D(0)) + plan.total == net
        assert len(plan.remaining) == count - len(called)


@given(pool=cents, days=st.lists(st.integers(0, 90), min_size=1, max_size=8),
       last=st.lists(st.integers(0, 10_000), min_size=8, max_size=8))
def test_a_calls_shares_add_up_to_its_pool(pool, days, last) -> None:
    members = [CallMember(f"M{i}", d, revenue=D(i + 1), last_year=D(last[i]))
               for i, d in enumerate(days)]
    key = parse_key("20% equal + 30% revenue + 50% hours")
    if not any(days):
        return
    shares = call_shares(pool, key, members, 90)
    assert sum(shares.values(), D(0)) == pool
    assert set(shares) == {m.code for m in members if m.active_days}


def test_the_readmes_june_revision_of_the_shared_premises() -> None:
    plans = preview(D("38200.00"), 4, [D("9250.00"), D("9250.00")])
    assert plans[CatchUp.SPREAD].remaining == (D("9850.00"), D("9850.00"))
    assert plans[CatchUp.NEXT].remaining == (D("10150.00"), D("9550.00"))
    assert (plans[CatchUp.AT_ONCE].catch_up, plans[CatchUp.AT_ONCE].remaining) == (
        D("600.00"), (D("9550.00"), D("9550.00")))
