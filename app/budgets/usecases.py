"""Use cases of the year's cash: each does one act through the domain and commits; a refusal
rolls back (nothing written). Pages and commands call these."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy.orm import Session

from accounting.budgets.budgets import LineInput, save_budget
from accounting.budgets.calls import issue_calls
from accounting.budgets.models import Budget
from accounting.budgets.trueup import TrueUpResult, true_up
from accounting.invoicing.models import Invoice
from accounting.org import Service


def vote_budgets(
    session: Session, year: int, lines: Mapping[int, list[LineInput]], *, agreed_on: date,
    agreed_by: str, reason: str = "", call_key: str = "", created_by: str = "",
) -> list[Budget]:
    """Record the budgets (or revisions) of several services voted together; all or none."""
    try:
        saved = [
            save_budget(session, session.get_one(Service, service_id), year,
                        agreed_on=agreed_on, agreed_by=agreed_by, lines=service_lines,
                        reason=reason, call_key=call_key, created_by=created_by)
            for service_id, service_lines in lines.items()
        ]  # fmt: skip
    except Exception:
        session.rollback()
        raise
    session.commit()
    return saved


def issue_call(
    session: Session, period_code: str, *, issue_date: date | None = None, issued_by: str = "",
    catch_up_only: bool = False,
) -> list[Invoice]:
    try:
        documents = issue_calls(session, period_code, issue_date=issue_date,
                                issued_by=issued_by, catch_up_only=catch_up_only)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return documents


def run_true_up(
    session: Session, year: int, *, issue_date: date | None = None, issued_by: str = ""
) -> TrueUpResult:
    """The year's true-up (its documents, then the calls moved from 4191 to revenue)."""
    try:
        result = true_up(session, year, issue_date=issue_date, issued_by=issued_by)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return result
