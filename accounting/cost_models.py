"""Costs and subsidies of the shared services: what the members share (DESIGN §4) — the
models, their rules and their queries. Recording one (and posting it) is :mod:`accounting.costs`;
the ledger reads these models and never the services.

A service's pool for a period is its costs minus its subsidies (plus its share of the
overheads). Both are dated lines with a PCG account, a label, the supplier or funder and a
reference; both are audited by the session hook (``__audited__``).

Invariants: amounts are positive (a subsidy lowers the pool by being a subsidy, not by a
negative cost; CHECK in the database too); nothing dated in a closed period is added, changed
or deleted (:func:`accounting.periods.ensure_open`, checked on the old and the new date);
``import_key`` makes importing the same file twice add nothing.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from accounting.db import Base, utcnow
from accounting.money import is_cents
from accounting.org import Service

#: PCG accounts: class 6 for costs (charges), class 7 for subsidies (74 « subventions
#: d'exploitation », 77 exceptional). Six to ten digits, as in most French charts.
_ACCOUNT = re.compile(r"^\d{3,10}$")
MAX_AMOUNT = Decimal("999999999999.99")


class CostError(ValueError):
    """A cost or subsidy that cannot be recorded (French message, shown as is)."""


class CostKind(enum.StrEnum):
    COST = "cost"
    SUBSIDY = "subsidy"

    @property
    def label(self) -> str:
        return {"cost": "Charge", "subsidy": "Subvention"}[self.value]


class _ServiceLine:
    """Columns shared by costs and subsidies (a mixin, two tables: the two never mix)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    #: The date the cost or subsidy belongs to (invoice date, period of the grant).
    day: Mapped[date]
    amount: Mapped[Decimal]
    #: PCG account number (6xxxxx for costs, 74xxxx for subsidies).
    account: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(300))
    #: Supplier (costs) or funder (subsidies).
    party: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(100), default="")
    #: Name of the supporting document (the file itself is kept elsewhere).
    attachment_name: Mapped[str] = mapped_column(String(200), default="")
    #: Fingerprint of the imported line, so that importing the same file twice adds nothing.
    import_key: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


class Cost(_ServiceLine, Base):
    """An expense of a shared service (salary, software, rent, travel)."""

    __tablename__ = "costs"
    __audited__ = True
    kind = CostKind.COST

    service: Mapped[Service] = relationship()

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_costs_service_day", "service_id", "day", "amount"),
    )


class Subsidy(_ServiceLine, Base):
    """Funding that lowers a service's cost before allocation (ESF, regional contract...)."""

    __tablename__ = "subsidies"
    __audited__ = True
    kind = CostKind.SUBSIDY

    service: Mapped[Service] = relationship()

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_subsidies_service_day", "service_id", "day", "amount"),
    )


MODELS: dict[CostKind, type[Cost] | type[Subsidy]] = {
    CostKind.COST: Cost,
    CostKind.SUBSIDY: Subsidy,
}

#: Default account per kind when none is given: 6xx is mandatory to know; 74 is the usual
#: « subventions d'exploitation ».
DEFAULT_ACCOUNT = {CostKind.SUBSIDY: "740000"}


@dataclass(frozen=True)
class CostInput:
    """What a person enters (screen or file) for one cost or subsidy."""

    kind: CostKind
    service_id: int
    day: date
    amount: Decimal
    account: str
    label: str
    party: str = ""
    reference: str = ""
    attachment_name: str = ""


def check_cost_input(data: CostInput) -> list[tuple[str, str]]:
    """Every problem of one line as (field, French message); empty when it is fine.

    Shared by the form, the import and the service so the rules are written once.
    """
    problems: list[tuple[str, str]] = []
    if not isinstance(data.amount, Decimal) or not data.amount.is_finite():
        problems.append(("amount", "Montant illisible."))
    else:
        if data.amount <= 0:
            problems.append(
                ("amount", "Le montant doit être positif (une subvention se saisit en subvention).")
            )
        elif data.amount > MAX_AMOUNT:
            problems.append(("amount", "Montant trop grand."))
        if not is_cents(data.amount):
            problems.append(("amount", "Au plus deux décimales (centimes)."))
    account = data.account.strip()
    if not _ACCOUNT.match(account):
        problems.append(("account", "Compte du plan comptable attendu (chiffres, par ex. 641100)."))
    elif data.kind is CostKind.COST and not account.startswith("6"):
        problems.append(("account", "Une charge se passe sur un compte de classe 6 (6xxxxx)."))
    elif data.kind is CostKind.SUBSIDY and not account.startswith("7"):
        problems.append(("account", "Une subvention se passe sur un compte de classe 7 (74xxxx)."))
    if not data.label.strip():
        problems.append(("label", "Libellé obligatoire."))
    elif len(data.label) > 300:
        problems.append(("label", "Libellé trop long (300 caractères au plus)."))
    for name, limit in (("party", 200), ("reference", 100), ("attachment_name", 200)):
        if len(getattr(data, name)) > limit:
            problems.append((name, f"Trop long ({limit} caractères au plus)."))
    return problems


def get_line(session: Session, kind: CostKind | str, line_id: int) -> Cost | Subsidy | None:
    return session.get(MODELS[CostKind(kind)], line_id)


def totals_by_service(
    session: Session, kind: CostKind, start: date, end: date
) -> dict[int, Decimal]:
    """Σ amount per service id over [start, end], in SQL (GROUP BY, no row loading)."""
    model = MODELS[kind]
    rows = session.execute(
        select(model.service_id, func.sum(model.amount))
        .where(model.day >= start, model.day <= end)
        .group_by(model.service_id)
    )
    return {service_id: Decimal(total) for service_id, total in rows}


def lines_between(
    session: Session, start: date, end: date, service_id: int | None = None
) -> list[Any]:
    """Costs then subsidies of the period, by date (for the workbook's "Charges" sheet)."""
    result: list[Any] = []
    for model in (Cost, Subsidy):
        query = select(model).where(model.day >= start, model.day <= end)
        if service_id is not None:
            query = query.where(model.service_id == service_id)
        result.extend(session.scalars(query.order_by(model.day, model.id)))
    return result
