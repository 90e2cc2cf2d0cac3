"""The timesheets domain's rules, checked on every format's valid lines once they are read:
closed periods, members' dates, the actor's scope and rights, inactive services, and 24 h / 12 h
a day (counting what the database already holds). Set-wise: each distinct day, member and
service is checked once, and the minutes already stored come from one query."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy.orm import Session

from accounting import authz
from accounting.org import User
from accounting.periods import locked_message
from imports.errors import RowError
from imports.timesheets.lines import Lines, lines_text
from imports.timesheets.references import References
from imports.timesheets.report import Candidate
from timesheets.services import (
    DAY_LIMIT_MINUTES,
    DAY_WARNING_MINUTES,
    LOG_WORK,
    WORK_FOR_ANYONE,
    member_scope,
    staff_day_minutes,
)


def check_rules(
    session: Session, actor: User, refs: References, candidates: list[Candidate], out: Lines
) -> None:
    """Closed periods, members' dates, the actor's scope and rights, 24 h / 12 h a day."""
    _line_rules(actor, refs, candidates, out)
    _day_totals(session, refs, candidates, out)


def _line_rules(actor: User, refs: References, candidates: list[Candidate], out: Lines) -> None:
    """The rules each line meets on its own."""
    scope = member_scope(actor, LOG_WORK)
    is_admin = authz.allowed(actor, WORK_FOR_ANYONE)
    actor_id = actor.id
    date_label, staff_label, member_label = (
        out.label("date"),
        out.label("staff"),
        out.label("member"),
    )
    closed_days = (
        {d for d in {c.day for c in candidates} if refs.closed_on(d)} if refs.closed else set()
    )
    inactive_services = {sid for sid, (_code, _name, active) in refs.services.items() if not active}
    for c in candidates:
        if c.day in closed_days:
            out.error(
                c.line,
                date_label,
                f"Le {c.day:%d/%m/%Y} est dans une période clôturée : lecture seule.",
            )
        else:
            for start, end, period_label in refs.locked:
                if start <= c.day <= end:
                    out.error(c.line, date_label, locked_message(c.day, period_label))
                    break
        if not is_admin and c.staff_id != actor_id:
            out.error(
                c.line,
                staff_label,
                "Vous ne pouvez importer que vos propres temps (seule la coordination importe "
                "pour les autres).",
            )
        if scope is not None and c.member_id != scope:
            out.error(
                c.line,
                member_label,
                "Un comptable d'adhérent n'importe que le travail fait pour son adhérent.",
            )
        if c.member_id is not None:
            _member_dates(refs, c, member_label, out)
        if c.service_id in inactive_services:
            name = refs.services[c.service_id][1]
            out.error(c.line, out.label("service"), f"Le service « {name} » est désactivé.")


def _member_dates(refs: References, c: Candidate, member_label: str, out: Lines) -> None:
    """The line's day falls within its member's membership."""
    member = refs.members[c.member_id]
    if c.day < member.joined_on:
        out.error(
            c.line,
            member_label,
            f"{member.name} ({member.code}) n'était pas encore adhérent le {c.day:%d/%m/%Y}.",
        )
    elif member.left_on is not None and c.day > member.left_on:
        out.error(
            c.line,
            member_label,
            f"{member.name} ({member.code}) n'était plus adhérent le {c.day:%d/%m/%Y} "
            f"(départ le {member.left_on:%d/%m/%Y}).",
        )


def _day_totals(
    session: Session, refs: References, candidates: list[Candidate], out: Lines
) -> None:
    """Over 24 h a day for one person (with what is stored) is refused, over 12 h warned."""
    added: dict[tuple[int, date], int] = defaultdict(int)
    for c in candidates:
        if not c.already:
            added[(c.staff_id, c.day)] += c.minutes
    stored = staff_day_minutes(session, added)
    over = [
        (key, total)
        for key, minutes in added.items()
        if (total := stored.get(key, 0) + minutes) > DAY_WARNING_MINUTES
    ]
    if not over:
        return
    lines: dict[tuple[int, date], list[int]] = {key: [] for key, _total in over}
    for c in candidates:
        if not c.already and (c.staff_id, c.day) in lines:
            lines[(c.staff_id, c.day)].append(c.line)
    for (staff_id, day), total in sorted(over, key=lambda item: (item[0][1], item[0][0])):
        where = lines_text(lines[(staff_id, day)])
        first = lines[(staff_id, day)][0]
        who = refs.user_names.get(staff_id, "")
        if total > DAY_LIMIT_MINUTES:
            out.error(
                first,
                out.label("duration"),
                f"Plus de 24 h le {day:%d/%m/%Y} pour {who} ({_hours(total)} au total avec "
                f"ce qui est déjà saisi ; {where}) : refusé.",
            )
        else:
            out.warnings.append(
                RowError(
                    first,
                    out.label("duration"),
                    f"Attention : {_hours(total)} le {day:%d/%m/%Y} pour {who} (plus de 12 "
                    f"h ; {where}).",
                )
            )


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"
