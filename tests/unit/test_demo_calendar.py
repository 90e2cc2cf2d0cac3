"""The French working calendar the demo generator uses (no database)."""

from __future__ import annotations

from datetime import date

from stdnum.fr import siret

from app.demo.synthetic import SyntheticSpec, fake_siret
from app.demo.work import easter, french_holidays, working_days


def test_easter_sundays_of_known_years() -> None:
    assert easter(2024) == date(2024, 3, 31)
    assert easter(2025) == date(2025, 4, 20)
    assert easter(2026) == date(2026, 4, 5)


def test_the_eleven_public_holidays_of_2025() -> None:
    holidays = french_holidays(2025)
    assert len(holidays) == 11
    assert {date(2025, 4, 21), date(2025, 5, 29), date(2025, 6, 9)} <= holidays


def test_2025_has_251_working_days() -> None:
    # 261 weekdays (the year starts on a Wednesday and has 365 days) minus the 10 holidays that
    # fall on a weekday (1 November 2025 is a Saturday).
    days = working_days(2025)
    assert len(days) == 251
    assert date(2025, 1, 1) not in days and date(2025, 1, 2) in days
    assert all(day.weekday() < 5 for day in days)


def test_fake_sirets_pass_the_luhn_check_and_differ() -> None:
    numbers = [fake_siret(n) for n in range(1, 1001)]
    assert all(siret.is_valid(n) for n in numbers)
    assert len(set(numbers)) == 1000


def test_a_thousand_members_default_to_fifty_staff_twenty_services_a_million_entries() -> None:
    spec = SyntheticSpec(members=1000).resolved()
    assert (spec.staff, spec.services, spec.entries) == (50, 20, 1_000_000)
    small = SyntheticSpec(members=10).resolved()
    assert (small.staff, small.services, small.entries) == (3, 3, 10_000)
