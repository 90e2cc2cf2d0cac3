"""Fixtures of the allocation area's database and web tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounting.allocation.runs import set_key
from accounting.costs import CostInput, CostKind, add_cost
from accounting.periods import get_or_create_period
from timesheets.models import EntryStatus, WorkEntry


def D(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture
def cluster(db, make_member, make_service, make_user):
    """Three members, the accounting service with 16 000 € net in January 2026 and
    10 h / 20 h / 30 h logged: the worked example of DESIGN §4."""
    members = {code: make_member(code) for code in ("A", "B", "C")}
    compta = make_service("COMPTA", name="Comptabilité / gestion")
    staff = make_user()
    add_cost(db, CostInput(CostKind.COST, compta.id, date(2026, 1, 31), D("20000.00"),
                           "641100", "Salaires janvier"))
    add_cost(db, CostInput(CostKind.SUBSIDY, compta.id, date(2026, 1, 15), D("4000.00"),
                           "740000", "FSE", party="Région"))
    for code, days in (("A", 1), ("B", 2), ("C", 3)):
        for day in range(1, days + 1):  # 10 h a day
            db.add(WorkEntry(staff_id=staff.id, day=date(2026, 1, 10 + day), minutes=600,
                             member_id=members[code].id, service_id=compta.id,
                             status=EntryStatus.APPROVED.value))
    set_key(db, compta, "25% equal + 75% hours", date(2026, 1, 1),
            agreed_on=date(2025, 12, 15), agreed_by="Réunion mensuelle")
    db.flush()
    return {"members": members, "compta": compta, "staff": staff,
            "period": get_or_create_period(db, "2026-01")}


