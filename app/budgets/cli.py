"""CLI commands of the year's cash (DESIGN §5b).

``mutualise calls issue PERIOD [--date D] [--catch-up]`` issues the call for funds of PERIOD
(« 2025-T1 », « 2025-03 »), ``mutualise calls true-up YEAR [--date D]`` the year's true-up
once ``mutualise allocate YEAR --store --approve`` approved its allocation, ``mutualise calls
schedule YEAR --frequency quarterly|monthly [--catch-up spread|next|at_once]`` sets the
schedule, ``mutualise calls preview YEAR`` prints the three catch-up modes side by side, and
``mutualise import budget FILE --year Y --agreed-on D --agreed-by WHO [--reason R]`` records
budgets from a CSV/XLSX. Refusals (French) go to standard error, exit 1, nothing committed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from accounting.budgets.budgets import set_schedule
from accounting.budgets.errors import BudgetError
from accounting.budgets.models import CatchUp, Frequency
from accounting.budgets.revision import revision_preview
from accounting.invoicing.amounts import format_eur
from accounting.invoicing.errors import InvoicingError
from accounting.ledger.errors import LedgerError
from accounting.org import Role
from accounting.periods import PeriodError
from accounting.wording import count_en
from app.cli_support import acting_session, fail, iso_date, user_option
from imports.errors import ImportRefused

#: Who votes budgets, issues calls and trues up (as on the pages).
TREASURERS = (Role.ADMIN, Role.TREASURER)
ERRORS = (BudgetError, InvoicingError, LedgerError, PeriodError, ImportRefused)


@click.group("calls")
def calls_group() -> None:
    """Calls for funds on the voted budget, and the year's true-up."""


@calls_group.command("issue")
@click.argument("period_code", metavar="PERIOD")
@click.option("--date", "issue_date", callback=iso_date, help="Call date (default: today).")
@click.option("--catch-up", "catch_up", is_flag=True,
              help="Only the catch-up of a revision (mode « at once »).")
@user_option()
@with_appcontext
def issue_command(period_code: str, issue_date: date | None, catch_up: bool,
                  user_email: str) -> None:
    """Issue the call for funds of PERIOD: one « Appel de fonds » per member."""
    from app.budgets.usecases import issue_call

    db, user = acting_session(user_email, *TREASURERS, what="issue calls for funds")
    try:
        documents = issue_call(db, period_code, issue_date=issue_date, issued_by=user.email,
                               catch_up_only=catch_up)
    except ERRORS as error:
        fail(str(error))
    for doc in documents:
        click.echo(f"{doc.number}\t{doc.customer_code}\t{doc.kind_label}\t{doc.total_incl_tax}")
    click.echo(f"{count_en(len(documents), 'call')} issued for {period_code}.")


@calls_group.command("true-up")
@click.argument("year", type=int)
@click.option("--date", "issue_date", callback=iso_date, help="Document date (default: today).")
@user_option()
@with_appcontext
def true_up_command(year: int, issue_date: date | None, user_email: str) -> None:
    """Issue YEAR's true-up: per member an invoice (owes more than called) or a credit note."""
    from app.budgets.usecases import run_true_up

    db, user = acting_session(user_email, *TREASURERS, what="true up a year")
    try:
        result = run_true_up(db, year, issue_date=issue_date, issued_by=user.email)
    except ERRORS as error:
        fail(str(error))
    for doc in result.documents:
        click.echo(f"{doc.number}\t{doc.customer_code}\t{doc.kind_label}\t{doc.total_incl_tax}")
    notes = sum(1 for d in result.documents if d.is_credit_note)
    click.echo(f"True-up {year}: {count_en(len(result.documents) - notes, 'invoice')}, "
               f"{count_en(notes, 'credit note')}; {result.transferred} of calls moved from "
               "4191 to revenue.")


@calls_group.command("schedule")
@click.argument("year", type=int)
@click.option("--frequency", type=click.Choice([f.value for f in Frequency]), required=True)
@click.option("--catch-up", "catch_up", type=click.Choice([c.value for c in CatchUp]),
              default=CatchUp.SPREAD.value, show_default=True)
@user_option()
@with_appcontext
def schedule_command(year: int, frequency: str, catch_up: str, user_email: str) -> None:
    """Set how often YEAR's funds are called and how a revision is caught up."""
    db, _ = acting_session(user_email, *TREASURERS, what="set the call schedule")
    try:
        set_schedule(db, year, frequency=frequency, catch_up=catch_up)
    except ERRORS as error:
        fail(str(error))
    db.commit()
    click.echo(f"Calls {year}: {frequency}, revisions caught up {CatchUp(catch_up).label}.")


@calls_group.command("preview")
@click.argument("year", type=int)
@with_appcontext
def preview_command(year: int) -> None:
    """Print, per service, the remaining calls in each catch-up mode."""
    from app.cli_support import cli_session

    db = cli_session()
    try:
        rows = revision_preview(db, year)
    except ERRORS as error:
        fail(str(error))
    for row in rows:
        click.echo(f"{row.service.code} — budget {format_eur(row.net)}, called "
                   f"{format_eur(row.called)}")
        for mode, plan in row.plans.items():
            calls = " | ".join(format_eur(v) for v in plan.remaining)
            click.echo(f"  {mode.value:8} now {format_eur(plan.catch_up)}; then {calls}")
    db.rollback()


@click.command("budget")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=int, required=True)
@click.option("--agreed-on", "agreed_on", callback=iso_date, required=True)
@click.option("--agreed-by", "agreed_by", required=True, help="The body that voted it.")
@click.option("--reason", default="", help="Why (required for a revision).")
@user_option()
@with_appcontext
def import_budget_command(path: Path, year: int, agreed_on: date, agreed_by: str, reason: str,
                          user_email: str) -> None:
    """Record YEAR's budgets from a CSV/XLSX (Service, Type, Compte, Libellé, Montant)."""
    from app.budgets.usecases import vote_budgets
    from imports.budgets import read_budget_lines

    db, user = acting_session(user_email, *TREASURERS, what="vote budgets")
    try:
        lines = read_budget_lines(db, path.read_bytes(), path.name)
        saved = vote_budgets(db, year, lines, agreed_on=agreed_on, agreed_by=agreed_by,
                             reason=reason, created_by=user.email)
    except ERRORS as error:
        fail(str(error))
    for budget in saved:
        click.echo(f"{budget.service.code}\t{year}\trevision {budget.revision}\t{budget.net}")
