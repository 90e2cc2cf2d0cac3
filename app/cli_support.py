"""What every area's CLI commands share: the session, failing, a period by its code, a date.

A module of its own because ``app/cli.py`` imports the areas' ``cli.py`` to register them: the
areas import these helpers from here instead of importing ``app.cli`` back lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import IO, Any, NoReturn

import click
from flask import has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import Role, User
from accounting.periods import Period, PeriodError, get_or_create_period, parse_period_code


class CommandRefused(click.ClickException):
    """A refusal printed as it is on standard error (the domain's French message, without
    click's ``Error:`` prefix), exit status 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.format_message(), file=file, err=file is None)


def cli_session() -> Session:
    """The command's session, its changes attributed to the command line in the audit log."""
    from app.database import get_db

    session = get_db()
    session.info["actor"] = lambda: (None, "cli")
    return session


#: Environment variable that stands for ``--user`` (scripts, cron).
USER_ENV = "MUTUALISE_USER"


def user_option(required: bool = True) -> Callable[[Any], Any]:
    """``--user EMAIL`` (or ``$MUTUALISE_USER``): the user an acting command acts as. Nothing
    that changes money is authored by « cli » (DESIGN §4): without it the command refuses."""
    return click.option(
        "--user", "user_email", required=required, envvar=USER_ENV,
        help=f"E-mail of the user the command acts as, recorded in the audit log and on what "
        f"it approves or issues (or ${USER_ENV}).",
    )


def acting_session(email: str | None, *roles: Role, what: str = "do this") -> tuple[Session, User]:
    """The command's session acting as the active user ``email``, who must hold one of
    ``roles`` (the same as on the pages); the audit log records them as the author."""
    session = cli_session()
    if not email or not email.strip():
        raise click.UsageError(f"--user EMAIL (or ${USER_ENV}) is required to {what}.")
    user = session.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()
    if user is None:
        raise click.BadParameter(f"no user with the e-mail {email}", param_hint="--user")
    if not user.active:
        raise click.BadParameter(f"the user {email} is deactivated", param_hint="--user")
    if roles and not user.has_role(*roles):
        fail(f"{user.email} may not {what}: it needs the role "
             + " or ".join(r.value for r in roles) + ".")
    session.info["actor"] = lambda: (user.id, f"{user.email} (cli)")
    return session, user


def fail(message: str) -> NoReturn:
    """Stop the command with ``message``: what it wrote is rolled back, nothing is committed."""
    if has_app_context():
        from app.database import get_db

        get_db().rollback()
    raise CommandRefused(message)


def period_by_code(session: Session, code: str, *, create: bool = False) -> Period:
    """The period of ``code`` (2026-01, 2026-T1, 2026); with ``create``, opened if it does not
    exist yet, else an unknown period stops the command."""
    try:
        if create:
            return get_or_create_period(session, code)
        kind, start, _ = parse_period_code(code)
    except PeriodError as error:
        fail(str(error))
    period = session.scalars(
        select(Period).where(Period.kind == kind.value, Period.start == start)
    ).one_or_none()
    if period is None:
        fail(f"Unknown period: {code} (nothing allocated or invoiced for it yet).")
    return period


def parse_iso_date(value: str | None) -> date | None:
    """``YYYY-MM-DD`` (or nothing) as a date; anything else is a usage error (exit status 2)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def iso_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """:func:`parse_iso_date` as a click option's ``callback`` (the error names the option)."""
    return parse_iso_date(value)


def euros(value: Any) -> str:
    """An amount for a terminal table: ``1 234,50`` (a plain space groups thousands: the
    narrow no-break space of French typography misaligns columns in most terminals)."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


def cli_authorize(user: Any, action: Any, obj: Any = None) -> None:
    """:func:`accounting.authz.authorize` for a command acting as ``user`` (``--user``): a
    refusal stops the command with its message and nothing is committed. A command run with
    no ``--user`` acts as the operator of the machine, who holds every right already."""
    from accounting.authz import Denied, authorize

    if user is None:
        return
    try:
        authorize(user, action, obj)
    except Denied as denied:
        fail(f"Refused for {user.email}: {denied}")
