"""CLI commands of the timesheets area: ``mutualise import timesheets`` and
``mutualise export timesheets``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from accounting.org import Role, User
from app.cli_support import cli_session, fail

#: Environment variable that stands for ``--user`` (scripts, cron).
USER_ENV = "MUTUALISE_USER"


def _actor(session, email: str) -> User:  # type: ignore[no-untyped-def]
    """The user an import acts as (``--user EMAIL`` or ``$MUTUALISE_USER``): recorded as the
    author of the entries (``created_by``) and in the audit log, with that user's rights (the
    coordination imports for anyone, others only their own work)."""
    user = session.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()
    if user is None:
        raise click.BadParameter(f"no user with the e-mail {email}", param_hint="--user")
    if not user.active:
        raise click.BadParameter(f"the user {email} is deactivated", param_hint="--user")
    session.info["actor"] = lambda: (user.id, f"{user.email} (cli)")
    return user


def _reader() -> User:
    """Who an export reads as: the command line reads every member's entries (it runs with
    the database's own access), so an unsaved user with the coordination's scope."""
    return User(email="cli", name="ligne de commande", roles=Role.ADMIN.value)


def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    from imports.errors import InvalidValue
    from imports.parsing import parse_date

    try:
        return parse_date(value)
    except InvalidValue as error:
        raise click.BadParameter(error.message, param_hint=option) from None


@click.command("timesheets")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@click.option(
    "--user",
    "email",
    required=True,
    envvar=USER_ENV,
    help=f"E-mail of the user the import acts as, recorded as the entries' author and in "
    f"the audit log (or ${USER_ENV}).",
)
@with_appcontext
def import_timesheets(path: Path, dry_run: bool, email: str) -> None:
    """Import work entries from our template (CSV/XLSX) or a Kimai export."""
    from imports.errors import ImportRefused
    from imports.tabular import read_table_file
    from imports.timesheets import import_file

    session = cli_session()
    actor = _actor(session, email)
    try:
        table = read_table_file(path)
        report = import_file(session, actor, table, path.name, dry_run=dry_run)
    except ImportRefused as refused:
        fail(str(refused))
    for warning in report.warnings:
        click.echo(f"Warning: {warning}")
    if dry_run:
        session.rollback()
    else:
        session.commit()
    click.echo(f"{report.format_label}, {report.rows} line(s): {report.summary()}")

@click.command("timesheets")
@click.option("--from", "start", help="First day (2026-03-01 or 01/03/2026).")
@click.option("--to", "end", help="Last day.")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write: .xlsx or .csv (; separated, UTF-8 with BOM).",
)
@with_appcontext
def export_timesheets(start: str | None, end: str | None, output: Path) -> None:
    """Export work entries between two dates to XLSX or CSV."""
    from timesheets.export import write_entries_csv, write_entries_xlsx
    from timesheets.listing import EntryFilter, export_rows

    session = cli_session()
    entry_filter = EntryFilter(start=_parse_day(start, "--from"), end=_parse_day(end, "--to"))
    actor = _reader()
    rows = export_rows(session, actor, entry_filter)
    suffix = output.suffix.lower()
    if suffix == ".xlsx":
        count = write_entries_xlsx(rows, str(output))
    elif suffix == ".csv":
        count = 0

        def counted():  # type: ignore[no-untyped-def]
            nonlocal count
            for row in rows:
                count += 1
                yield row

        with output.open("wb") as handle:
            write_entries_csv(counted(), handle)
    else:
        raise click.BadParameter("use a .xlsx or .csv file name", param_hint="--output")
    click.echo(f"{count} entr{'y' if count == 1 else 'ies'} written to {output}.")
