"""CLI commands of the timesheets area: ``mutualise import timesheets`` and
``mutualise export timesheets``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from accounting.org import Role, User


def _actor(session, email: str | None) -> User:  # type: ignore[no-untyped-def]
    """The user the command acts as: ``--user EMAIL``, or the command line itself with the
    rights of the coordination (imports for any staff; ``created_by`` left empty)."""
    if email:
        user = session.scalars(select(User).where(User.email == email.lower())).one_or_none()
        if user is None:
            raise click.ClickException(f"Unknown user: {email}")
        return user
    cli_user = User(email="cli", name="ligne de commande", roles=Role.ADMIN.value)
    return cli_user


def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    from imports.errors import InvalidValue
    from imports.parsing import parse_date

    try:
        return parse_date(value)
    except InvalidValue as error:
        raise click.BadParameter(error.message, param_hint=option) from None


def register(cli: click.Group) -> None:
    """Attach this area's commands to the `mutualise` group (and its import/export groups)."""
    import_group = cli.commands["import"]
    export_group = cli.commands["export"]

    @import_group.command("timesheets")  # type: ignore[attr-defined]
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
    @click.option("--user", "email", help="Act as this user (default: the coordination).")
    @with_appcontext
    def import_timesheets(path: Path, dry_run: bool, email: str | None) -> None:
        """Import work entries from our template (CSV/XLSX) or a Kimai export."""
        from app.cli import cli_session, fail
        from imports.errors import ImportRefused
        from imports.tabular import read_table_file
        from imports.timesheets import import_file

        session = cli_session()
        actor = _actor(session, email)
        try:
            table = read_table_file(path)
            report = import_file(session, actor, table, path.name, dry_run=dry_run)
        except ImportRefused as refused:
            session.rollback()
            fail(str(refused))
            return
        for warning in report.warnings:
            click.echo(f"Warning: {warning}")
        if dry_run:
            session.rollback()
        else:
            session.commit()
        click.echo(f"{report.format_label}, {report.rows} line(s): {report.summary()}")

    @export_group.command("timesheets")  # type: ignore[attr-defined]
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
        from app.cli import cli_session
        from timesheets.export import write_entries_csv, write_entries_xlsx
        from timesheets.listing import EntryFilter, export_rows

        session = cli_session()
        entry_filter = EntryFilter(start=_parse_day(start, "--from"), end=_parse_day(end, "--to"))
        actor = _actor(session, None)
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
