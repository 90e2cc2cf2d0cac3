"""The figures of the home dashboards, one function per role, each answering its first question.

Design: every board is a handful of aggregate queries (``GROUP BY`` in SQL, ``LIMIT`` on the
lists), so a board issues the same number of statements with ten members or a thousand, with a
year of entries or ten (tests/test_page_queries.py counts them). Boards are plain dataclasses of
numbers and labels: the templates format them (Babel filters) and draw the charts from their
tables. Nothing here writes.

- developer: their own hours this week and this month per member and on common work, and the
  entries still in draft (``developer_board``);
- accountant: hours and weighted work units per member this month, the active members with no
  activity, the draft invoices (``accountant_board``);
- treasurer: a period's allocation per member and service, invoiced vs paid for it, the
  overdue invoices, the runs waiting for approval (``treasurer_board``);
- member accountant: their member's allocation over the last twelve months, their invoices and
  what is due (``member_board``);
- admin: period states, missing member figures, keys in force, recent audit events
  (``admin_board``).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import and_, case, exists, extract, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from accounting.allocation.keys import BasisName, describe_key_fr, parse_key
from accounting.allocation.models import (
    AllocationKey,
    AllocationLine,
    AllocationRun,
    AllocationRunService,
    RunStatus,
)
from accounting.audit import AuditEvent
from accounting.invoicing.amounts import InvoiceKind, InvoiceStatus
from accounting.invoicing.models import Invoice, money_sum
from accounting.money import ZERO
from accounting.org import Member, MemberFigures, Service
from accounting.periods import MONTHS_FR, Period, PeriodStatus
from timesheets.models import EntryStatus, WorkEntry
from timesheets.summaries import monthly_summary

#: Lists on a dashboard are short: the full lists are one click away.
LIST_LIMIT = 10
#: Per-member tables and charts show the heaviest members, the others merged into one row:
#: a glance must stay a glance with a thousand members.
TOP_MEMBERS = 15
#: Unpaid statuses of an issued invoice.
UNPAID = (InvoiceStatus.ISSUED.value, InvoiceStatus.PARTLY_PAID.value)
COMMON_WORK = "Travail commun"
R = TypeVar("R")
OVERHEADS_WORDS = {
    "costs": "frais de structure, répartis sur les autres services au prorata de leurs charges",
    "hours": "frais de structure, répartis sur les autres services au prorata des heures",
}


#: The audit log in words (actions and tables); an unknown one shows as it is stored.
AUDIT_ACTIONS = {
    "create": "Création", "update": "Modification", "delete": "Suppression",
    "approve": "Approbation", "issue": "Émission", "close": "Clôture", "reopen": "Réouverture",
    "login": "Connexion", "import": "Import", "generate": "Génération", "lock": "Verrouillage",
    "password_change": "Changement de mot de passe", "store": "Enregistrement",
    "submit": "Soumission", "send_back": "Renvoi", "payment": "Paiement", "credit": "Avoir",
}
AUDIT_OBJECTS = {
    "members": "Adhérent", "member_figures": "Chiffres d'adhérent", "users": "Utilisateur",
    "services": "Service", "carriers": "Structure porteuse", "periods": "Période",
    "work_entries": "Saisie des temps", "activities": "Activité", "unit_types": "Unité d'œuvre",
    "allocation_keys": "Clé de répartition", "allocation_runs": "Répartition",
    "costs": "Charge", "subsidies": "Subvention", "invoices": "Facture",
    "payments": "Paiement", "journal_entries": "Écriture", "import_mappings": "Correspondance",
}


def top_members(rows: list[R], weight: Callable[[R], Any], merge: Callable[[list[R]], R]
                ) -> list[R]:
    """The :data:`TOP_MEMBERS` heaviest rows in their order, then the rest merged into one
    row (totals over the rows stay exact)."""
    if len(rows) <= TOP_MEMBERS + 1:
        return rows
    kept = set(map(id, sorted(rows, key=weight, reverse=True)[:TOP_MEMBERS]))
    return [r for r in rows if id(r) in kept] + [merge([r for r in rows if id(r) not in kept])]


def others_label(count: int) -> str:
    return f"Autres adhérents ({count})"


# ----------------------------------------------------------------------------- dates


@dataclass(frozen=True)
class Span:
    """A range of days, both inclusive."""

    start: date
    end: date

    @property
    def code(self) -> str:
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def month_label(self) -> str:
        """« novembre 2026 »."""
        return f"{MONTHS_FR[self.start.month - 1]} {self.start.year}"


def month_of(day: date) -> Span:
    return Span(day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1]))


def week_of(day: date) -> Span:
    monday = day - timedelta(days=day.weekday())
    return Span(monday, monday + timedelta(days=6))


def months_back(day: date, count: int) -> date:
    """The first day of the month ``count`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def period_label(kind: str, start: date) -> str:
    """« mars 2026 », « T1 2026 », « 2026 » without loading the Period row."""
    return Period(kind=kind, start=start, end=start).label


# ----------------------------------------------------------------------------- developer


@dataclass(frozen=True)
class MemberHours:
    member_id: int | None
    code: str
    name: str
    week_minutes: int
    month_minutes: int
    #: > 0 on the row that merges the members beyond the top ones.
    others: int = 0


@dataclass(frozen=True)
class DraftMonth:
    month: Span
    entries: int
    minutes: int
    #: Entries sent back by a reviewer (a comment to read).
    sent_back: int


@dataclass
class DeveloperBoard:
    week: Span
    month: Span
    rows: list[MemberHours]
    drafts: list[DraftMonth]

    @property
    def week_minutes(self) -> int:
        return sum(r.week_minutes for r in self.rows)

    @property
    def month_minutes(self) -> int:
        return sum(r.month_minutes for r in self.rows)

    @property
    def common_month_minutes(self) -> int:
        return sum(r.month_minutes for r in self.rows if r.member_id is None and not r.others)

    @property
    def draft_entries(self) -> int:
        return sum(d.entries for d in self.drafts)

    @property
    def sent_back(self) -> int:
        return sum(d.sent_back for d in self.drafts)


def developer_board(
    db: Session, staff_id: int, day: date, week_day: date | None = None
) -> DeveloperBoard:
    """A staff member's own hours of the week of ``week_day`` (default ``day``) and of the
    month of ``day``, per member (common work last), and their drafts. Two queries."""
    month = month_of(day)
    week = week_of(week_day or day)
    in_week = case((WorkEntry.day.between(week.start, week.end), WorkEntry.minutes), else_=0)
    in_month = case((WorkEntry.day.between(month.start, month.end), WorkEntry.minutes), else_=0)
    grouped = db.execute(
        select(
            WorkEntry.member_id, Member.code, Member.name, func.sum(in_week), func.sum(in_month)
        )
        .outerjoin(Member, Member.id == WorkEntry.member_id)
        .where(
            WorkEntry.staff_id == staff_id,
            WorkEntry.day.between(min(week.start, month.start), max(week.end, month.end)),
        )
        .group_by(WorkEntry.member_id, Member.code, Member.name)
    ).all()
    rows = [
        MemberHours(m_id, code or "", name or COMMON_WORK, int(w or 0), int(mo or 0))
        for m_id, code, name, w, mo in grouped
    ]
    rows.sort(key=lambda r: (r.member_id is None, -r.month_minutes, r.code))
    common = [r for r in rows if r.member_id is None]
    rows = top_members(
        [r for r in rows if r.member_id is not None],
        lambda r: r.month_minutes,
        lambda rest: MemberHours(None, "", others_label(len(rest)),
                                 sum(r.week_minutes for r in rest),
                                 sum(r.month_minutes for r in rest), len(rest)),
    ) + common

    year = extract("year", WorkEntry.day)
    month_no = extract("month", WorkEntry.day)
    sent_back = func.sum(case((WorkEntry.review_comment != "", 1), else_=0))
    draft_rows = db.execute(
        select(year, month_no, func.count(), func.sum(WorkEntry.minutes), sent_back)
        .where(WorkEntry.staff_id == staff_id, WorkEntry.status == EntryStatus.DRAFT.value)
        .group_by(year, month_no)
        .order_by(year, month_no)
    ).all()
    drafts = [
        DraftMonth(month_of(date(int(y), int(m), 1)), int(n), int(minutes or 0), int(back or 0))
        for y, m, n, minutes, back in draft_rows
    ]
    return DeveloperBoard(week=week, month=month, rows=rows, drafts=drafts)


# ----------------------------------------------------------------------------- accountant


@dataclass(frozen=True)
class MemberActivity:
    member_id: int | None
    code: str
    name: str
    #: Minutes per service code.
    minutes: dict[str, int]
    units: Decimal
    #: > 0 on the row that merges the members beyond the top ones.
    others: int = 0

    @property
    def total_minutes(self) -> int:
        return sum(self.minutes.values())


def _merge_activity(rest: list[MemberActivity]) -> MemberActivity:
    minutes: dict[str, int] = {}
    for r in rest:
        for code, value in r.minutes.items():
            minutes[code] = minutes.get(code, 0) + value
    return MemberActivity(None, "", others_label(len(rest)), minutes,
                          sum((r.units for r in rest), Decimal(0)), len(rest))


@dataclass(frozen=True)
class DraftInvoices:
    period_code: str
    period_label: str
    count: int
    total: Decimal


@dataclass
class AccountantBoard:
    month: Span
    services: list[tuple[str, str]]  # (code, name) of the services with activity
    rows: list[MemberActivity]
    idle_members: list[tuple[str, str]]  # (code, name)
    idle_count: int
    draft_invoices: list[DraftInvoices]

    @property
    def total_minutes(self) -> int:
        return sum(r.total_minutes for r in self.rows)

    @property
    def total_units(self) -> Decimal:
        return sum((r.units for r in self.rows), Decimal("0"))

    def service_minutes(self, code: str) -> int:
        return sum(r.minutes.get(code, 0) for r in self.rows)

    @property
    def draft_count(self) -> int:
        return sum(d.count for d in self.draft_invoices)

    @property
    def draft_total(self) -> Decimal:
        return sum((d.total for d in self.draft_invoices), ZERO)


def _active_in(span: Span) -> list:
    return [
        Member.joined_on <= span.end,
        or_(Member.left_on.is_(None), Member.left_on >= span.start),
    ]


def accountant_board(db: Session, day: date) -> AccountantBoard:
    """Everybody's work of the month of ``day`` per member and service (the timesheets
    summary), the active members with no entry that month, and the draft invoices."""
    month = month_of(day)
    summary = monthly_summary(db, month.start, month.end)
    by_member: dict[int | None, dict] = {}
    services: dict[str, str] = {}
    for row in summary.rows:
        services[row.service_code] = row.service_name
        acc = by_member.setdefault(
            row.member_id,
            {"code": row.member_code, "name": row.member_name, "minutes": {}, "units": Decimal(0)},
        )
        acc["minutes"][row.service_code] = acc["minutes"].get(row.service_code, 0) + row.minutes
        acc["units"] += row.units
    rows = [
        MemberActivity(m_id, a["code"], a["name"], a["minutes"], a["units"])
        for m_id, a in by_member.items()
    ]
    rows.sort(key=lambda r: (r.member_id is None, r.code))
    rows = top_members(
        [r for r in rows if r.member_id is not None], lambda r: r.total_minutes, _merge_activity
    ) + [r for r in rows if r.member_id is None]

    no_entry = ~exists(
        select(literal(1)).where(
            WorkEntry.member_id == Member.id, WorkEntry.day.between(month.start, month.end)
        )
    )
    idle_query = select(Member.code, Member.name).where(*_active_in(month), no_entry)
    idle = db.execute(idle_query.order_by(Member.code).limit(LIST_LIMIT * 3)).all()
    idle_count = db.scalar(select(func.count()).select_from(idle_query.subquery())) or 0

    drafts = db.execute(
        select(Period.kind, Period.start, func.count(Invoice.id), func.sum(Invoice.total_incl_tax))
        .join(Period, Period.id == Invoice.period_id)
        .where(Invoice.status == InvoiceStatus.DRAFT.value)
        .group_by(Period.kind, Period.start)
        .order_by(Period.start)
    ).all()
    draft_invoices = [
        DraftInvoices(
            Period(kind=kind, start=start, end=start).code, period_label(kind, start),
            int(n), total or ZERO,
        )
        for kind, start, n, total in drafts
    ]
    return AccountantBoard(
        month=month,
        services=sorted(services.items()),
        rows=rows,
        idle_members=[(c, n) for c, n in idle],
        idle_count=int(idle_count),
        draft_invoices=draft_invoices,
    )


# ----------------------------------------------------------------------------- treasurer


@dataclass(frozen=True)
class MemberAmounts:
    code: str
    name: str
    #: Amount per service code.
    amounts: dict[str, Decimal]
    #: > 0 on the row that merges the members beyond the top ones.
    others: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)


def _merge_amounts(rest: list[MemberAmounts]) -> MemberAmounts:
    amounts: dict[str, Decimal] = {}
    for r in rest:
        for code, value in r.amounts.items():
            amounts[code] = amounts.get(code, ZERO) + value
    return MemberAmounts("", others_label(len(rest)), amounts, len(rest))


@dataclass(frozen=True)
class Settlement:
    code: str
    name: str
    invoiced: Decimal
    paid: Decimal
    credited: Decimal
    #: > 0 on the row that merges the members beyond the top ones.
    others: int = 0

    @property
    def outstanding(self) -> Decimal:
        return self.invoiced - self.paid - self.credited


@dataclass(frozen=True)
class WaitingRun:
    id: int
    period_code: str
    period_label: str
    total: Decimal
    created_at: object


@dataclass
class TreasurerBoard:
    today: date
    #: The period shown (None: no allocation stored yet).
    period: Period | None
    #: "approved" when the allocation shown is approved, "stored" when it waits.
    allocation_status: str | None
    services: list[tuple[str, str]]
    allocation: list[MemberAmounts]
    settlements: list[Settlement]
    overdue: list[Invoice]
    overdue_count: int
    overdue_total: Decimal
    waiting_runs: list[WaitingRun]
    periods: list[tuple[str, str]] = field(default_factory=list)  # (code, label) to choose from

    @property
    def allocation_total(self) -> Decimal:
        return sum((m.total for m in self.allocation), ZERO)

    def service_total(self, code: str) -> Decimal:
        return sum((m.amounts.get(code, ZERO) for m in self.allocation), ZERO)

    @property
    def invoiced(self) -> Decimal:
        return sum((s.invoiced for s in self.settlements), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((s.paid for s in self.settlements), ZERO)

    @property
    def credited(self) -> Decimal:
        return sum((s.credited for s in self.settlements), ZERO)

    @property
    def outstanding(self) -> Decimal:
        return sum((s.outstanding for s in self.settlements), ZERO)


def _allocation_by_member(
    db: Session, run_ids: list[int], member_id: int | None = None
) -> tuple[list[tuple[str, str]], list[MemberAmounts]]:
    """Σ of the lines of the given runs per member and service, in one query."""
    if not run_ids:
        return [], []
    query = (
        select(
            Member.code, Member.name, Service.code, Service.name, func.sum(AllocationLine.amount)
        )
        .join(Member, Member.id == AllocationLine.member_id)
        .join(Service, Service.id == AllocationLine.service_id)
        .where(AllocationLine.run_id.in_(run_ids))
        .group_by(Member.code, Member.name, Service.code, Service.name)
    )
    if member_id is not None:
        query = query.where(AllocationLine.member_id == member_id)
    services: dict[str, str] = {}
    members: dict[str, MemberAmounts] = {}
    for m_code, m_name, s_code, s_name, amount in db.execute(query):
        services[s_code] = s_name
        members.setdefault(m_code, MemberAmounts(m_code, m_name, {})).amounts[s_code] = (
            amount or ZERO
        )
    return sorted(services.items()), sorted(members.values(), key=lambda m: m.code)


def treasurer_board(db: Session, today: date, period_code: str | None = None) -> TreasurerBoard:
    """The allocation of a period (the one asked for, else the one of the latest run): the
    approved runs of that period, or while none is approved its latest stored run; what was
    invoiced for that period and paid, per member; the overdue invoices of every period and
    the runs awaiting approval."""
    run_periods = db.execute(
        select(Period.id, Period.kind, Period.start, func.max(AllocationRun.created_at))
        .join(AllocationRun, AllocationRun.period_id == Period.id)
        .group_by(Period.id, Period.kind, Period.start)
        .order_by(func.max(AllocationRun.created_at).desc())
        .limit(24)
    ).all()
    choices = [
        (Period(kind=kind, start=start, end=start).code, period_label(kind, start), p_id)
        for p_id, kind, start, _ in run_periods
    ]
    chosen = next((c for c in choices if c[0] == period_code), choices[0] if choices else None)
    period = db.get(Period, chosen[2]) if chosen else None

    status = None
    services: list[tuple[str, str]] = []
    allocation: list[MemberAmounts] = []
    if period is not None:
        runs = db.execute(
            select(AllocationRun.id, AllocationRun.status)
            .where(AllocationRun.period_id == period.id)
            .order_by(AllocationRun.created_at.desc(), AllocationRun.id.desc())
        ).all()
        approved = [r.id for r in runs if r.status == RunStatus.APPROVED.value]
        run_ids = approved or [runs[0].id]
        status = RunStatus.APPROVED.value if approved else RunStatus.STORED.value
        services, allocation = _allocation_by_member(db, run_ids)
        allocation = top_members(allocation, lambda m: m.total, _merge_amounts)

    settlements: list[Settlement] = []
    if period is not None:
        settled = db.execute(
            select(
                Member.code,
                Member.name,
                money_sum(Invoice.total_incl_tax),
                money_sum(Invoice.amount_paid),
                money_sum(Invoice.amount_credited),
            )
            .join(Member, Member.id == Invoice.member_id)
            .where(
                Invoice.kind == InvoiceKind.INVOICE.value,
                Invoice.status != InvoiceStatus.DRAFT.value,
                Invoice.period_id == period.id,
            )
            .group_by(Member.code, Member.name)
            .order_by(Member.code)
        ).all()
        settlements = top_members(
            [Settlement(*row) for row in settled],
            lambda s: s.invoiced - s.paid - s.credited,
            lambda rest: Settlement(
                "", others_label(len(rest)), sum((r.invoiced for r in rest), ZERO),
                sum((r.paid for r in rest), ZERO), sum((r.credited for r in rest), ZERO),
                len(rest),
            ),
        )

    overdue_filter = and_(
        Invoice.kind == InvoiceKind.INVOICE.value,
        Invoice.status.in_(UNPAID),
        Invoice.due_date < today,
    )
    overdue = list(
        db.scalars(
            select(Invoice).where(overdue_filter).order_by(Invoice.due_date, Invoice.number)
            .limit(LIST_LIMIT)
        )
    )
    count, total = db.execute(
        select(
            func.count(Invoice.id),
            money_sum(Invoice.total_incl_tax - Invoice.amount_paid - Invoice.amount_credited),
        ).where(overdue_filter)
    ).one()

    return TreasurerBoard(
        today=today,
        period=period,
        allocation_status=status,
        services=services,
        allocation=allocation,
        settlements=settlements,
        overdue=overdue,
        overdue_count=int(count or 0),
        overdue_total=total or ZERO,
        waiting_runs=waiting_runs(db),
        periods=[(code, label) for code, label, _ in choices],
    )


def waiting_runs(db: Session, limit: int = LIST_LIMIT) -> list[WaitingRun]:
    """Stored runs that still cover a (period, service) with no approved run: the ones a
    treasurer has to look at. A stored run made obsolete by a later approval is left out."""
    mine = aliased(AllocationRunService)
    approved = aliased(AllocationRunService)
    still_open = exists(
        select(literal(1)).where(
            mine.run_id == AllocationRun.id,
            ~exists(
                select(literal(1)).where(
                    approved.period_id == mine.period_id,
                    approved.service_id == mine.service_id,
                    approved.approved.is_(True),
                )
            ),
        )
    )
    rows = db.execute(
        select(AllocationRun.id, Period.kind, Period.start, AllocationRun.total,
               AllocationRun.created_at)
        .join(Period, Period.id == AllocationRun.period_id)
        .where(AllocationRun.status == RunStatus.STORED.value, still_open)
        .order_by(AllocationRun.created_at.desc())
        .limit(limit)
    ).all()
    return [
        WaitingRun(run_id, Period(kind=kind, start=start, end=start).code,
                   period_label(kind, start), total, created)
        for run_id, kind, start, total, created in rows
    ]


# ----------------------------------------------------------------------------- member


@dataclass
class MemberBoard:
    member: Member
    since: date
    services: list[tuple[str, str]]
    #: (period label, amounts per service code), oldest first.
    months: list[tuple[str, dict[str, Decimal]]]
    invoices: list[Invoice]
    due: Decimal
    overdue: Decimal
    next_due: date | None

    @property
    def allocated(self) -> Decimal:
        return sum((sum(a.values(), ZERO) for _, a in self.months), ZERO)


def member_board(db: Session, member_id: int, today: date) -> MemberBoard:
    """One member's approved allocations over the last twelve months (by period and service),
    their latest issued invoices and credit notes, and what they owe."""
    member = db.get(Member, member_id)
    assert member is not None
    since = months_back(today, 11)
    rows = db.execute(
        select(Period.kind, Period.start, Service.code, Service.name,
               func.sum(AllocationLine.amount))
        .join(AllocationRun, AllocationRun.id == AllocationLine.run_id)
        .join(Period, Period.id == AllocationRun.period_id)
        .join(Service, Service.id == AllocationLine.service_id)
        .where(
            AllocationLine.member_id == member_id,
            AllocationRun.status == RunStatus.APPROVED.value,
            Period.start >= since,
            Period.start <= today,
        )
        .group_by(Period.kind, Period.start, Service.code, Service.name)
        .order_by(Period.start, Period.kind)
    ).all()
    services: dict[str, str] = {}
    months: dict[tuple[date, str], dict[str, Decimal]] = {}
    labels: dict[tuple[date, str], str] = {}
    for kind, start, s_code, s_name, amount in rows:
        services[s_code] = s_name
        months.setdefault((start, kind), {})[s_code] = amount or ZERO
        labels[(start, kind)] = period_label(kind, start)

    invoices = list(
        db.scalars(
            select(Invoice)
            .where(Invoice.member_id == member_id, Invoice.status != InvoiceStatus.DRAFT.value)
            .order_by(Invoice.issue_date.desc(), Invoice.number.desc())
            .limit(LIST_LIMIT)
        )
    )
    outstanding = Invoice.total_incl_tax - Invoice.amount_paid - Invoice.amount_credited
    due, overdue, next_due = db.execute(
        select(
            func.sum(outstanding),
            func.sum(case((Invoice.due_date < today, outstanding), else_=0)),
            func.min(case((Invoice.due_date >= today, Invoice.due_date), else_=None)),
        ).where(
            Invoice.member_id == member_id,
            Invoice.kind == InvoiceKind.INVOICE.value,
            Invoice.status.in_(UNPAID),
        )
    ).one()
    return MemberBoard(
        member=member,
        since=since,
        services=sorted(services.items()),
        months=[(labels[k], months[k]) for k in sorted(months)],
        invoices=invoices,
        due=due or ZERO,
        overdue=overdue or ZERO,
        next_due=next_due,
    )


# ----------------------------------------------------------------------------- admin


@dataclass(frozen=True)
class KeyInForce:
    service_code: str
    service_name: str
    #: None for the overheads service, which has no key of its own.
    valid_from: date | None
    text: str
    description: str
    bases: frozenset[str]


@dataclass(frozen=True)
class MissingFigures:
    code: str
    name: str
    revenue: bool
    headcount: bool


@dataclass
class AdminBoard:
    today: date
    year: int
    periods: list[Period]
    open_past_periods: int
    keys: list[KeyInForce]
    services_without_key: list[str]
    missing: list[MissingFigures]
    missing_count: int
    figures_needed: frozenset[str]
    events: list[AuditEvent]


def admin_board(db: Session, today: date) -> AdminBoard:
    """Recent periods and their state, the keys in force today, the members whose figures of
    the year are missing (the ones a revenue or headcount key would need), the audit log."""
    periods = list(db.scalars(select(Period).order_by(Period.start.desc(), Period.kind).limit(12)))
    open_past = db.scalar(
        select(func.count(Period.id)).where(
            Period.status == PeriodStatus.OPEN.value, Period.end < month_of(today).start
        )
    )

    latest = (
        select(AllocationKey.service_id, func.max(AllocationKey.valid_from).label("valid_from"))
        .where(AllocationKey.valid_from <= today)
        .group_by(AllocationKey.service_id)
        .subquery()
    )
    key_rows = db.execute(
        select(Service.code, Service.name, Service.overheads_by, AllocationKey.valid_from,
               AllocationKey.text)
        .select_from(Service)
        .outerjoin(latest, latest.c.service_id == Service.id)
        .outerjoin(
            AllocationKey,
            and_(
                AllocationKey.service_id == Service.id,
                AllocationKey.valid_from == latest.c.valid_from,
            ),
        )
        .where(Service.active.is_(True))
        .order_by(Service.code)
    ).all()
    keys: list[KeyInForce] = []
    without: list[str] = []
    needed: set[str] = set()
    for code, name, overheads_by, valid_from, text in key_rows:
        if overheads_by is not None:  # stepped down onto the other services: needs no key
            keys.append(KeyInForce(code, name, None, "", OVERHEADS_WORDS[overheads_by],
                                   frozenset()))
            continue
        if text is None:
            without.append(name)
            continue
        try:
            key = parse_key(text)
            description = describe_key_fr(key)
            bases = {part.basis.name.value for part in key.parts}
            if key.common_by is not None:
                bases.add(key.common_by.name.value)
        except ValueError:  # a stored key is canonical; never let one break the home page
            description, bases = text, set()
        needed |= bases & {BasisName.REVENUE.value, BasisName.HEADCOUNT.value}
        keys.append(KeyInForce(code, name, valid_from, text, description, frozenset(bases)))

    year = today.year
    figures = aliased(MemberFigures)
    lacking = or_(figures.id.is_(None), figures.revenue.is_(None), figures.headcount.is_(None))
    missing_query = (
        select(Member.code, Member.name, figures.revenue.is_(None) | figures.id.is_(None),
               figures.headcount.is_(None) | figures.id.is_(None))
        .outerjoin(figures, and_(figures.member_id == Member.id, figures.year == year))
        .where(*_active_in(Span(today, today)), lacking)
    )
    missing_rows = db.execute(missing_query.order_by(Member.code).limit(LIST_LIMIT * 3)).all()
    missing_count = db.scalar(select(func.count()).select_from(missing_query.subquery())) or 0

    events = list(
        db.scalars(select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                   .limit(LIST_LIMIT))
    )
    return AdminBoard(
        today=today,
        year=year,
        periods=periods,
        open_past_periods=int(open_past or 0),
        keys=keys,
        services_without_key=without,
        missing=[MissingFigures(c, n, bool(r), bool(h)) for c, n, r, h in missing_rows],
        missing_count=int(missing_count),
        figures_needed=frozenset(needed),
        events=events,
    )
