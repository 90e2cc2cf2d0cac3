"""The developer's board: their own hours this week and this month per member and on common
work, and the entries still in draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, extract, func, select
from sqlalchemy.orm import Session

from accounting.org import Member
from app.main.dashboards.common import (
    COMMON_WORK,
    Span,
    month_of,
    others_label,
    top_members,
    week_of,
)
from timesheets.models import EntryStatus, WorkEntry


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
