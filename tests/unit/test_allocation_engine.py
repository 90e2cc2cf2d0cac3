"""Worked examples of the allocation engine, every figure computed by hand (DESIGN §4)."""

import gc
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from accounting.allocation import (
    InvalidFigure,
    InvalidFixedPercentages,
    InvalidPool,
    MemberBasis,
    MemberShare,
    MissingFigures,
    NoBasis,
    ServiceBasis,
    active_days_between,
    allocate,
    describe_key_fr,
    largest_remainder,
    parse_key,
    step_down,
)
from accounting.collector import collector_paused


def D(text: str) -> Decimal:
    return Decimal(text)


def full(code: str, days: int = 30, **figures) -> MemberBasis:
    return MemberBasis(code, days, **figures)


def test_the_worked_example_of_the_design_gives_a_the_last_cent():
    # Pool 16 000 ; 25 % equal + 75 % hours ; 10 h, 20 h, 30 h.
    result = allocate(
        D("16000.00"),
        parse_key("25% equal + 75% hours"),
        [full("A", minutes=600), full("B", minutes=1200), full("C", minutes=1800)],
        period_days=30,
    )
    assert result.amounts == {"A": D("3333.34"), "B": D("5333.33"), "C": D("7333.33")}
    a = result["A"]
    assert a.exact == Fraction(10000, 3)
    assert (a.floored, a.adjustment) == (D("3333.33"), D("0.01"))
    assert result["C"].adjustment == D("0.00")
    equal, hours = a.parts
    assert (equal.pool, equal.value, equal.total, equal.exact) == (4000, 1, 3, Fraction(4000, 3))
    assert (hours.pool, hours.value, hours.total, hours.exact) == (12000, 600, 3600, 2000)
    assert hours.share_percent == D("16.6667")
    assert result.total == D("16000.00")


def test_the_explanation_of_a_member_reads_like_an_invoice_designation():
    result = allocate(
        D("16000.00"),
        parse_key("25% equal + 75% hours"),
        [full("A", minutes=600), full("B", minutes=1200), full("C", minutes=1800)],
        period_days=30,
    )
    assert result.describe_fr("B") == (
        "25 % part égale (1 part sur 3) + 75 % au prorata des heures (20 h sur 60 h)"
    )
    assert describe_key_fr(result.key, result["B"].parts) == result.describe_fr("B")
    assert result["B"].parts[1].describe_fr() == (
        "au prorata des heures : 20 h sur 60 h (33,3333 %) × 12\u00a0000,00 € = 4\u00a0000,0000 €"
    )


def test_equal_shares_are_prorated_by_days_of_membership():
    # 3 650 € over a year; B joined for 73 days = 1/5: weights 1 and 0,2.
    # A = 3650 / 1,2 = 3 041,666…, B = 608,333… ; the spare cent goes to A (larger remainder).
    result = allocate(
        D("3650.00"), parse_key("equal"), [full("A", 365), full("B", 73)], period_days=365
    )
    assert result.amounts == {"A": D("3041.67"), "B": D("608.33")}
    assert result["B"].active_fraction == Fraction(1, 5)


def test_revenue_and_headcount_are_prorated_but_hours_are_not():
    # Revenue 100 000 each, B present half the period -> weights 100 000 and 50 000.
    # Hours 60 min each -> hours part is split evenly whatever the presence.
    result = allocate(
        D("1200.00"),
        parse_key("50% revenue + 50% hours"),
        [
            full("A", 30, revenue=D("100000"), minutes=60),
            full("B", 15, revenue=D("100000"), minutes=60),
        ],
        period_days=30,
    )
    # revenue part 600: A 400, B 200 ; hours part 600: 300 each.
    assert result.amounts == {"A": D("700.00"), "B": D("500.00")}


def test_a_fixed_key_renormalises_over_the_members_present():
    key = parse_key("fixed(A=50%, B=30%, C=20%)")
    result = allocate(
        D("1000.00"), key, [full("A"), full("B"), full("C", 0)], period_days=30
    )
    assert result.amounts == {"A": D("625.00"), "B": D("375.00")}
    assert result.excluded == ("C",)
    # B half the period: weights 50 and 15 -> 769,230… and 230,769…
    half = allocate(D("1000.00"), key, [full("A"), full("B", 15), full("C", 0)], 30)
    assert half.amounts == {"A": D("769.23"), "B": D("230.77")}


def test_common_work_is_shared_by_common_by_inside_the_hours_part():
    # Direct A 1 h, B 3 h, common 1 h: 1/5 of the pool (200) by revenue (equal revenues),
    # the rest by direct hours: A 1000 × 60/300 = 200, B 600.
    members = [
        full("A", revenue=D("200000"), minutes=60),
        full("B", revenue=D("200000"), minutes=180),
    ]
    result = allocate(
        D("1000.00"), parse_key("hours, common_by=revenue"), members, 30, common_minutes=60
    )
    assert result.amounts == {"A": D("300.00"), "B": D("700.00")}
    direct, common = result["A"].parts
    assert (direct.value, direct.total, direct.exact) == (60, 300, 200)
    assert (common.common, common.pool, common.value, common.total) == (True, 200, 200000, 400000)
    assert result.describe_fr("A") == (
        "au prorata des heures, travail commun au prorata du chiffre d'affaires "
        "(1 h sur 5 h, dont 1 h de travail commun partagé : "
        "200\u00a0000,00 € sur 400\u00a0000,00 €)"
    )


def test_without_common_by_common_work_is_ignored_and_hours_go_by_direct_minutes():
    members = [full("A", minutes=60), full("B", minutes=180)]
    result = allocate(D("1000.00"), parse_key("hours"), members, 30, common_minutes=60)
    assert result.amounts == {"A": D("250.00"), "B": D("750.00")}


def test_a_composite_key_with_common_work_adds_its_parts_before_rounding():
    # 30 % equal (300: 150 each) + 70 % hours (700): direct A 700×60/300 = 140, B 420;
    # common 700×60/300 = 140 by revenue 1:3 -> A 35, B 105.
    members = [
        full("A", revenue=D("100000"), minutes=60),
        full("B", revenue=D("300000"), minutes=180),
    ]
    result = allocate(
        D("1000.00"),
        parse_key("30% equal + 70% hours, common_by=revenue"),
        members,
        30,
        common_minutes=60,
    )
    assert result.amounts == {"A": D("325.00"), "B": D("675.00")}
    assert [p.exact for p in result["A"].parts] == [150, 140, 35]


def test_units_common_work_and_units_bases():
    # Units A 2,5, B 7,5, common 10 by equal: common half of 100 = 50 -> 25 each;
    # direct A 100 × 2,5/20 = 12,5, B 37,5.
    members = [full("A", units=D("2.5")), full("B", units=D("7.5"))]
    result = allocate(
        D("100.00"), parse_key("units, common_by=equal"), members, 30, common_units=D("10")
    )
    assert result.amounts == {"A": D("37.50"), "B": D("62.50")}


def test_a_negative_pool_is_allocated_as_credits_with_the_same_rounding():
    # -100 / 3 = -33,333… floored to -33,34 each (-100,02): two cents back to A and B.
    result = allocate(D("-100.00"), parse_key("equal"), [full("C"), full("A"), full("B")], 30)
    assert result.amounts == {"A": D("-33.33"), "B": D("-33.33"), "C": D("-33.34")}
    assert result["A"].floored == D("-33.34")
    assert result["A"].adjustment == D("0.01")


def test_the_member_total_is_rounded_not_each_part():
    # Each part would round to 0,33 (0,333…), but the total 0,666… is rounded once.
    result = allocate(
        D("2.00"),
        parse_key("50% equal + 50% headcount"),
        [full("A", headcount=D("1")), full("B", headcount=D("1")), full("C", headcount=D("1"))],
        30,
    )
    assert sorted(result.amounts.values()) == [D("0.66"), D("0.67"), D("0.67")]
    assert result.amounts == {"A": D("0.67"), "B": D("0.67"), "C": D("0.66")}


def test_missing_revenue_is_refused_naming_the_members_and_the_year():
    members = [
        full("A", revenue=D("1000")),
        full("B"),
        full("C"),
        full("Z", 0),  # not active: its missing revenue does not matter
    ]
    with pytest.raises(MissingFigures) as caught:
        allocate(D("100.00"), parse_key("50% equal + 50% revenue"), members, 30, year=2026)
    error = caught.value
    assert error.codes == ("B", "C")
    assert error.year == 2026
    assert "Chiffre d'affaires 2026 manquant pour : B, C" in str(error)


def test_missing_headcount_and_revenue_are_named_together():
    with pytest.raises(MissingFigures) as caught:
        allocate(
            D("100.00"),
            parse_key("50% headcount + 50% revenue"),
            [full("A", revenue=D("1")), full("B", headcount=D("2"))],
            30,
        )
    assert caught.value.missing == (("A", "Effectif (ETP)"), ("B", "Chiffre d'affaires"))


def test_common_by_figures_are_only_needed_when_there_is_common_work():
    members = [full("A", minutes=60), full("B", minutes=60)]
    key = parse_key("hours, common_by=revenue")
    assert allocate(D("10.00"), key, members, 30).amounts == {"A": D("5.00"), "B": D("5.00")}
    with pytest.raises(MissingFigures):
        allocate(D("10.00"), key, members, 30, common_minutes=30)


def test_no_hours_at_all_is_refused_not_divided_by_zero():
    with pytest.raises(NoBasis, match="aucune heure saisie") as caught:
        allocate(D("100.00"), parse_key("hours"), [full("A"), full("B")], 30)
    assert caught.value.basis == "hours"


def test_only_common_work_without_common_by_says_to_add_it():
    with pytest.raises(NoBasis, match="common_by"):
        allocate(D("100.00"), parse_key("hours"), [full("A")], 30, common_minutes=120)


def test_only_common_work_with_common_by_goes_wholly_by_it():
    result = allocate(
        D("90.00"), parse_key("hours, common_by=equal"), [full("A"), full("B", 15)], 30,
        common_minutes=120,
    )
    assert result.amounts == {"A": D("60.00"), "B": D("30.00")}


def test_a_zero_pool_with_nothing_to_share_by_gives_zeros():
    result = allocate(D("0.00"), parse_key("hours"), [full("A"), full("B")], 30)
    assert result.amounts == {"A": D("0.00"), "B": D("0.00")}


def test_no_active_member_is_refused_unless_the_pool_is_zero():
    with pytest.raises(NoBasis, match="Aucun adhérent actif"):
        allocate(D("5.00"), parse_key("equal"), [full("A", 0)], 30)
    assert allocate(D("0.00"), parse_key("equal"), [full("A", 0)], 30).shares == ()


def test_fixed_percentages_must_name_every_active_member_and_only_known_ones():
    with pytest.raises(InvalidFixedPercentages, match="Pas de pourcentage convenu") as caught:
        allocate(D("10.00"), parse_key("fixed(A=100%)"), [full("A"), full("B")], 30)
    assert caught.value.codes == ("B",)
    with pytest.raises(InvalidFixedPercentages, match="inconnus") as caught:
        allocate(D("10.00"), parse_key("fixed(A=50%, X=50%)"), [full("A")], 30)
    assert caught.value.codes == ("X",)


def test_fixed_all_zero_for_the_members_present_is_refused():
    with pytest.raises(NoBasis, match="0 %"):
        allocate(
            D("10.00"), parse_key("fixed(A=0%, B=100%)"), [full("A"), full("B", 0)], 30
        )


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ([full("A", 31)], "31 jours d'adhésion sur une période de 30"),
        ([full("A"), full("A")], "présent deux fois"),
        ([full("A", minutes=-5)], "minutes négatives"),
        ([full("A", 0, minutes=60)], "pas adhérent sur la période"),
        ([full("A", revenue=D("-1"))], "chiffre d'affaires négatif"),
    ],
)
def test_impossible_figures_are_refused(members, words):
    with pytest.raises(InvalidFigure, match=words):
        allocate(D("10.00"), parse_key("equal"), members, 30)


def test_a_pool_in_fractions_of_a_cent_is_refused():
    with pytest.raises(InvalidPool):
        allocate(D("10.001"), parse_key("equal"), [full("A")], 30)
    with pytest.raises(TypeError):
        allocate(10.0, parse_key("equal"), [full("A")], 30)  # type: ignore[arg-type]


def test_step_down_by_costs_gives_overheads_to_services_with_exact_rounding():
    shares = step_down(
        D("1000.00"),
        [ServiceBasis("DEV", costs=D("10000")), ServiceBasis("COMPTA", costs=D("20000"))],
        by="costs",
    )
    assert {c: s.amount for c, s in shares.items()} == {
        "COMPTA": D("666.67"), "DEV": D("333.33"),
    }
    assert shares["COMPTA"].share_percent == D("66.6667")
    assert shares["COMPTA"].adjustment == D("0.01")


def test_step_down_by_hours_breaks_ties_by_service_code():
    shares = step_down(
        D("0.01"), [ServiceBasis("DEV", minutes=100), ServiceBasis("COMPTA", minutes=100)], "hours"
    )
    assert {c: s.amount for c, s in shares.items()} == {"COMPTA": D("0.01"), "DEV": D("0.00")}


def test_step_down_with_nothing_to_share_by_is_refused():
    with pytest.raises(NoBasis, match="aucune heure"):
        step_down(D("50.00"), [ServiceBasis("DEV"), ServiceBasis("COMPTA")], "hours")
    assert step_down(D("0.00"), [ServiceBasis("DEV")], "costs")["DEV"].amount == D("0.00")


def test_largest_remainder_splits_any_total_to_the_cent():
    assert largest_remainder(D("10.00"), {"a": 1, "b": 1, "c": 1}) == {
        "a": D("3.34"), "b": D("3.33"), "c": D("3.33"),
    }
    assert largest_remainder(D("-0.02"), {"x": 1, "y": 2}) == {"x": D("-0.01"), "y": D("-0.01")}
    with pytest.raises(NoBasis):
        largest_remainder(D("1.00"), {"a": 0})


def test_active_days_count_joining_and_leaving_days_as_membership():
    jan = (date(2026, 1, 1), date(2026, 1, 31))
    assert active_days_between(*jan, None, None) == 31
    assert active_days_between(*jan, date(2026, 1, 31), None) == 1
    assert active_days_between(*jan, date(2025, 6, 1), date(2026, 1, 10)) == 10
    assert active_days_between(*jan, date(2026, 2, 1), None) == 0
    assert active_days_between(*jan, None, date(2025, 12, 31)) == 0


def test_the_explanation_is_json_safe_and_exact():
    import json

    result = allocate(
        D("16000.00"),
        parse_key("25% equal + 75% hours"),
        [full("A", minutes=600), full("B", minutes=1200), full("C", minutes=1800)],
        30,
    )
    data = json.loads(json.dumps(result.to_dict()))
    a = data["shares"][0]
    assert a["exact"] == "10000/3"
    assert a["exact_decimal"] == "3333.333333"
    assert (a["floored"], a["adjustment"], a["amount"]) == ("3333.33", "0.01", "3333.34")
    assert a["parts"][1]["share_percent"] == "16.6667"
    assert data["key"] == "25% equal + 75% hours"


def test_shares_kept_as_integers_read_the_same_as_shares_built_by_hand():
    # Pool 100 ; equal over 3 members of 30 days: 33,333… each; the cent left goes to A.
    result = allocate(D("100.00"), parse_key("equal"), [full("A"), full("B"), full("C")], 30)
    assert result.amounts == {"A": D("33.34"), "B": D("33.33"), "C": D("33.33")}
    assert result.total == D("100.00")
    assert [s.amount for s in result.shares] == [D("33.34"), D("33.33"), D("33.33")]
    a = result["A"]
    assert (a.exact, a.floored, a.adjustment) == (Fraction(100, 3), D("33.33"), D("0.01"))
    assert a.active_fraction == 1 and a.exact_decimal == D("33.333333")
    (part,) = a.parts
    assert (part.value, part.total, part.exact) == (1, 3, Fraction(100, 3))
    again = MemberShare.from_dict(a.to_dict())
    assert again == a and again.to_dict() == a.to_dict()


def test_the_collector_is_paused_during_a_computation_and_restored_after():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer computation is still running
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # disabled by someone else: left alone
    finally:
        gc.enable()
