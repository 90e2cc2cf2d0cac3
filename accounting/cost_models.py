"""Costs and subsidies of the shared services: what the members share (DESIGN §4) — the
models, their rules and their queries. Recording one (and posting it) is :mod:`accounting.costs`;
the ledger reads these models and never the services.

A service's pool for a period is its costs minus its subsidies (plus its share of the
overheads). Both are dated lines with a PCG account, a label, the supplier or funder and a
reference; both are audited by the session hook (``__audited__``).

Invariants: amounts entered are positive (a subsidy lowers the pool by being a subsidy); a
credit imported from a FEC (a refund, a reversal) is a negative cost, never zero (CHECK in the
database too); each line says how it is posted (``CostNature``); nothing dated in a closed
period is added, changed or deleted (:func:`accounting.periods.ensure_open`, checked on the old
and the new date);
``import_key`` makes importing the same file twice add nothing.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from accounting.cost_counterparts import CostCounterpart
from accounting.counterpart_split import Share
from accounting.db import Base, utcnow
from accounting.money import is_cents
from accounting.org import Service
from accounting.pickling import tuple_state

#: PCG accounts: class 6 for costs (charges), class 7 for subsidies (74 « subventions
#: d'exploitation », 77 exceptional). Six to ten digits, as in most French charts.
_ACCOUNT = re.compile(r"^\d{3,10}$")
MAX_AMOUNT = Decimal("999999999999.99")


class CostError(ValueError):
    """A cost or subsidy that cannot be recorded (French message, shown as is)."""


class CostNature(enum.StrEnum):
    """What a cost is, which says how it is posted (README « Ledger », posting scheme)."""

    #: Salaries and social charges of the shared staff: journal PA, 64x against 421 / 431 / 437.
    PAYROLL = "payroll"
    #: A supplier's invoice: journal HA, 6xx against 401 + the supplier's code.
    SUPPLIER_INVOICE = "supplier_invoice"
    #: Paid straight from the bank (bank fees, card): journal BQ, 6xx against 512.
    OTHER = "other"
    #: Imported from the carrier's FEC: the file's journal and counterpart account.
    FEC = "fec"

    @property
    def label(self) -> str:
        return {
            "payroll": "Paie (salaires et charges sociales)",
            "supplier_invoice": "Facture fournisseur",
            "other": "Autre (payé directement en banque)",
            "fec": "Importée d'un FEC",
        }[self.value]


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
    #: How the line is posted (``CostNature``); a subsidy keeps the default.
    nature: Mapped[str] = mapped_column(String(20), default=CostNature.SUPPLIER_INVOICE.value)
    #: Supplier invoice: the supplier's code, its account is 401 + code (empty: 401000).
    supplier_code: Mapped[str] = mapped_column(String(16), default="")
    #: Payroll: the part owed to the employee (421); the rest goes to ``social_account``.
    net_pay: Mapped[Optional[Decimal]]
    #: Payroll: 431000 (URSSAF) or 437000 (other social bodies).
    social_account: Mapped[str] = mapped_column(String(20), default="")
    #: Paid (supplier, net pay) or received (subsidy) on this day: its bank entry (BQ).
    paid_on: Mapped[Optional[date]]
    #: Payroll: the social contributions paid on this day (BQ).
    social_paid_on: Mapped[Optional[date]]
    #: FEC import: the file's journal code and the counterpart account of the entry (when it
    #: has several: the one of the largest share, and every share in ``counterparts``).
    journal_code: Mapped[str] = mapped_column(String(10), default="")
    counterpart: Mapped[str] = mapped_column(String(20), default="")


class Cost(_ServiceLine, Base):
    """An expense of a shared service (salary, software, rent, travel)."""

    __tablename__ = "costs"
    __audited__ = True
    kind = CostKind.COST

    service: Mapped[Service] = relationship()
    #: FEC import, an entry with several counterparts: this cost's share of each.
    counterparts: Mapped[list[CostCounterpart]] = relationship(
        foreign_keys=[CostCounterpart.cost_id], order_by=CostCounterpart.position,
        cascade="all, delete-orphan", passive_deletes=True,
    )  # fmt: skip

    __table_args__ = (
        # A credit (a refund, a reversal imported from a FEC) is a negative cost: never zero.
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_costs_service_day", "service_id", "day", "amount"),
    )


class Subsidy(_ServiceLine, Base):
    """Funding that lowers a service's cost before allocation (ESF, regional contract...)."""

    __tablename__ = "subsidies"
    __audited__ = True
    kind = CostKind.SUBSIDY

    service: Mapped[Service] = relationship()
    counterparts: Mapped[list[CostCounterpart]] = relationship(
        foreign_keys=[CostCounterpart.subsidy_id], order_by=CostCounterpart.position,
        cascade="all, delete-orphan", passive_deletes=True,
    )  # fmt: skip

    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_subsidies_service_day", "service_id", "day", "amount"),
    )


MODELS: dict[CostKind, type[Cost] | type[Subsidy]] = {
    CostKind.COST: Cost,
    CostKind.SUBSIDY: Subsidy,
}

#: Default account per kind when none is given: 6xx is mandatory to know; 74 is the usual
#: « subventions d'exploitation ».
DEFAULT_ACCOUNT = {CostKind.SUBSIDY: "740000"}


@tuple_state
@dataclass(frozen=True, slots=True)
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
    nature: CostNature = CostNature.SUPPLIER_INVOICE
    supplier_code: str = ""
    net_pay: Decimal | None = None
    social_account: str = ""
    paid_on: date | None = None
    social_paid_on: date | None = None
    journal_code: str = ""
    counterpart: str = ""
    #: FEC import, an entry with several counterparts: the line's share of each (they add up
    #: to ``amount``; :mod:`accounting.cost_counterparts`). Empty: ``counterpart`` alone.
    counterparts: tuple[Share, ...] = ()


#: Where payroll contributions go: URSSAF (431) or the other social bodies (437).
SOCIAL_ACCOUNTS = {"431000": "URSSAF (431)", "437000": "Autres organismes sociaux (437)"}
_SUPPLIER_CODE = re.compile(r"^[A-Z0-9]{1,16}$")


def supplier_code_of(text: str) -> str:
    """A supplier code from a name: « Crédit Coopératif » -> ``CREDITCOOPERAT`` (16 at most)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]", "", plain.upper())[:16]


def _check_nature(data: CostInput) -> list[tuple[str, str]]:
    """The rules of the posting fields (nature, supplier, payroll split, payment dates)."""
    problems: list[tuple[str, str]] = []
    nature = data.nature
    if data.supplier_code and not _SUPPLIER_CODE.match(data.supplier_code):
        problems.append(("supplier_code", "Code fournisseur : lettres majuscules et chiffres, "
                                          "16 au plus (compte 401 + code)."))  # fmt: skip
    if nature is CostNature.PAYROLL:
        if data.kind is CostKind.COST and not data.account.strip().startswith("64"):
            problems.append(("account", "La paie se passe sur un compte 64 (641 salaires, 645 "
                                        "charges sociales)."))  # fmt: skip
        if data.net_pay is not None and isinstance(data.amount, Decimal) and (
            data.net_pay < 0 or data.net_pay > data.amount or not is_cents(data.net_pay)
        ):
            problems.append(("net_pay", "Le net à payer est compris entre 0 et le montant."))
        if data.social_account and data.social_account not in SOCIAL_ACCOUNTS:
            problems.append(("social_account", "Organisme social : 431000 ou 437000."))
    elif data.net_pay is not None or data.social_paid_on is not None:
        problems.append(("net_pay", "Net à payer et paiement des cotisations : pour la paie "
                                    "seulement."))  # fmt: skip
    if len(data.journal_code) > 10 or len(data.counterpart) > 20:
        problems.append(("journal_code", "Journal ou contrepartie trop long."))
    if data.counterparts:
        problems.extend(_check_counterparts(data))
    return problems


def _check_counterparts(data: CostInput) -> list[tuple[str, str]]:
    """The shares of an imported line: in cents, never zero, adding up to its amount."""
    shares = data.counterparts
    if data.nature is not CostNature.FEC:
        return [("counterpart", "Plusieurs contreparties : pour une écriture importée d'un "
                                "FEC seulement.")]  # fmt: skip
    if any(not share.account or len(share.account) > 20 or not share.amount
           or not is_cents(share.amount) for share in shares):  # fmt: skip
        return [("counterpart", "Contrepartie illisible (compte, montant en centimes).")]
    total = sum((share.amount for share in shares), Decimal(0))
    if isinstance(data.amount, Decimal) and total != data.amount:
        return [("counterpart", f"Les contreparties font {total} €, la ligne {data.amount} €.")]
    return []


def check_cost_input(data: CostInput) -> list[tuple[str, str]]:
    """Every problem of one line as (field, French message); empty when it is fine.

    Shared by the form, the import and the service so the rules are written once.
    """
    problems: list[tuple[str, str]] = []
    if not isinstance(data.amount, Decimal) or not data.amount.is_finite():
        problems.append(("amount", "Montant illisible."))
    else:
        if data.nature is CostNature.FEC and data.amount != 0:
            pass  # a credit in a cost account (refund, reversal) reduces the costs: kept
        elif data.amount <= 0:
            problems.append(
                ("amount", "Le montant doit être positif (une subvention se saisit en subvention).")
            )
        if abs(data.amount) > MAX_AMOUNT:
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
    return problems + _check_nature(data)


def posting_fields(data: CostInput) -> dict[str, Any]:
    """The columns that say how a line is posted (nature, supplier, payroll, payments)."""
    payroll = data.nature is CostNature.PAYROLL
    return {
        "nature": data.nature.value,
        "supplier_code": data.supplier_code.strip(),
        "net_pay": data.net_pay if payroll else None,
        "social_account": (data.social_account or "431000") if payroll else "",
        "paid_on": data.paid_on,
        "social_paid_on": data.social_paid_on if payroll else None,
        "journal_code": data.journal_code.strip(),
        "counterpart": data.counterpart.strip(),
    }


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
