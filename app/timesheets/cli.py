"""CLI commands of the timesheets area: ``mutualise import timesheets`` and
``mutualise export timesheets``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from accounting.org import Role, User
from accounting.wording import count_en
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


def _customer_mappings(session, mappings: tuple[str, ...]) -> list[tuple[str, int | None]]:  # type: ignore[no-untyped-def]
    """``NAME=CODE`` options as (customer name, member id or None for common work)."""
    from accounting.org import Member

    result: list[tuple[str, int | None]] = []
    for option in mappings:
        name, equals, code = option.rpartition("=")
        name, code = name.strip(), code.strip()
        if not equals or not name:
            raise click.BadParameter(f"expected NAME=CODE, got {option!r}", param_hint="--map")
        if not code:
            result.append((name, None))
            continue
        member = session.scalars(select(Member).where(Member.code == code.upper())).one_or_none()
        if member is None:
            raise click.BadParameter(f"no member with the code {code!r}", param_hint="--map")
        result.append((name, member.id))
    return result


def save_mapping_cli(session, name: str, member_id: int | None) -> None:  # type: ignore[no-untyped-def]
    """Remember that the customer ``name`` is this member (None: common work)."""
    from imports.timesheets import save_mapping
    from timesheets.models import MappingKind

    save_mapping(session, MappingKind.CUSTOMER, name, member_id)


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
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="NAME=CODE",
    help="Map a customer (client) name of a Kimai, Toggl, Clockify or Harvest export to a "
    "member code, saved for later imports; NAME= (no code) maps it to common work. "
    "Repeatable.",
)
@with_appcontext
def import_timesheets(path: Path, dry_run: bool, email: str, mappings: tuple[str, ...]) -> None:
    """Import work entries from our template (CSV/XLSX) or a Kimai, Toggl Track, Clockify or
    Harvest export."""
    from imports.errors import ImportRefused
    from imports.tabular import read_table_file
    from imports.timesheets import import_file

    session = cli_session()
    actor = _actor(session, email)
    try:
        for name, member_id in _customer_mappings(session, mappings):
            save_mapping_cli(session, name, member_id)
        table = read_table_file(path)
        report = import_file(
            session,
            actor,
            table,
            path.name,
            dry_run=dry_run,
            hint='add --map "{name}=CODE" (CODE: a member code; nothing after = for common work)',
        )
    except ImportRefused as refused:
        session.rollback()
        fail(str(refused))
    for warning in report.warnings:
        click.echo(f"Warning: {warning}")
    if dry_run:
        session.rollback()
    else:
        session.commit()
    click.echo(f"{report.format_label}, {count_en(report.rows, 'line')}: {report.summary()}")

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
