"""Budgets in the configuration file (DESIGN §5b): applied as a revision only when they
differ (applying twice changes nothing), exported back, a bad line named by its path, a closed
year refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounting.budgets.budgets import revisions
from accounting.org import Service
from accounting.periods import close_period, get_or_create_period
from app.configuration import ConfigRefused, apply_configuration, export_configuration

FILE = """
version: 1
services:
  - code: COMPTA
    name: Comptabilité
    budgets:
      - year: 2025
        agreed_on: 2024-12-12
        agreed_by: Assemblée générale
        lines:
          - {kind: charge, account: "641100", label: Salaires, amount: 48000.00}
          - {kind: subvention, account: "740000", label: Région, amount: 6000.00}
"""


def test_budgets_are_applied_once_and_exported(db) -> None:
    apply_configuration(db, FILE)
    assert apply_configuration(db, FILE).changes == 0
    service = db.query(Service).filter_by(code="COMPTA").one()
    [budget] = revisions(db, service.id, 2025)
    assert (budget.costs, budget.subsidies, budget.net) == (
        Decimal("48000.00"), Decimal("6000.00"), Decimal("42000.00"))
    exported = next(s for s in export_configuration(db)["services"] if s["code"] == "COMPTA")
    assert exported["budgets"][0]["lines"][1] == {
        "kind": "subvention", "account": "740000", "label": "Région",
        "amount": Decimal("6000.00")}
    apply_configuration(db, FILE.replace("48000.00", "50000.00"))
    assert [b.revision for b in revisions(db, service.id, 2025)] == [1, 2]


def test_a_bad_line_and_a_closed_year_are_refused(db) -> None:
    with pytest.raises(ConfigRefused) as refused:
        apply_configuration(db, FILE.replace('amount: 6000.00', 'amount: -1'))
    assert "services[0].budgets[0].lines[1].amount" in str(refused.value)
    close_period(db, get_or_create_period(db, "2025"))
    with pytest.raises(ConfigRefused, match="2025 est clôturé"):
        apply_configuration(db, FILE)
