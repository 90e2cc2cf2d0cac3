"""``mutualise demo --cash-cycle`` (DESIGN §5b): the shared premises' 2025 budget voted in
December 2024, four quarterly calls (Sol'Tiss, joining on 1 April, from the second), the June
revision spread over the last two calls, the 2025 allocation approved and the true-up issued in
January 2026 — each member's documents for the year adding up to its allocation; running it
twice duplicates nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from accounting.budgets.models import Budget, TrueUp
from accounting.budgets.trueup import year_allocation, year_documents
from accounting.invoicing.models import Invoice
from accounting.org import Member, Service
from accounting.periods import get_or_create_period
from app.cli import cli


def test_the_demo_walks_through_a_year_of_cash(runner, db) -> None:
    result = runner.invoke(cli, ["demo", "--cash-cycle"])
    assert result.exit_code == 0, result.output
    service = db.scalars(select(Service).where(Service.code == "LOCAUX")).one()
    budgets = db.scalars(select(Budget).where(Budget.service_id == service.id)
                         .order_by(Budget.revision)).all()
    assert [(b.revision, b.agreed_on, b.net) for b in budgets] == [
        (1, date(2024, 12, 12), Decimal("37000.00")), (2, date(2025, 6, 16), Decimal("38200.00"))]
    calls = db.execute(
        select(Invoice.service_start, func.count(Invoice.id), func.sum(Invoice.total_excl_tax))
        .where(Invoice.role == "call").group_by(Invoice.service_start)
        .order_by(Invoice.service_start)).all()
    # 37 000 / 4 = 9 250 for T1 and T2; revised to 38 200: (38 200 − 18 500) / 2 = 9 850 for
    # T3 and T4. Equal shares among the members there: 9 in T1 (1 027,78 × 7 + 1 027,77 for
    # the 8 invoiced, the carrier's own share is not), 10 from T2 (925, then 985 each).
    assert [(d.month, n, Decimal(t)) for d, n, t in calls] == [
        (1, 8, Decimal("8222.23")), (4, 9, Decimal("8325.00")),
        (7, 9, Decimal("8865.00")), (10, 9, Decimal("8865.00"))]
    solstiss = db.scalars(select(Member).where(Member.code == "SOLSTISS")).one()
    first = db.scalars(select(Invoice).where(Invoice.role == "call",
                                             Invoice.member_id == solstiss.id)
                       .order_by(Invoice.issue_date)).first()
    assert first is not None and first.service_start == date(2025, 4, 1)
    assert db.scalar(select(func.count(TrueUp.id))) == 1
    _, target = year_allocation(db, get_or_create_period(db, "2025"))
    documented = year_documents(db, 2025)
    carrier_member = db.scalars(select(Member).where(Member.code == "VALHORIZON")).one()
    for (member_id, service_id), amount in target.items():
        if member_id != carrier_member.id:
            assert documented.get((member_id, service_id), Decimal(0)) == amount
    again = runner.invoke(cli, ["demo", "--cash-cycle"])
    assert again.exit_code == 0, again.output
    assert db.scalar(select(func.count(TrueUp.id))) == 1
    assert db.scalar(select(func.count(Budget.id))) == 2
