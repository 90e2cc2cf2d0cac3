"""Operator commands: ``mutualise verify``, ``backup -o FILE`` and ``restore FILE``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


def register(cli: click.Group) -> None:
    """Attach the operator commands to the ``mutualise`` group."""
    cli.add_command(verify)
    cli.add_command(backup_command)
    cli.add_command(restore_command)


@click.command("verify")
@with_appcontext
def verify() -> None:
    """Recompute the hash chain of issued invoices, credit notes and closed periods.

    Exits 1 and names the first record altered when something was changed behind the
    application's back. Write the printed head hash down outside the database (e.g. in the
    minutes of the board): it anchors the chain.
    """
    from accounting.seal import verify_chain
    from app.cli_support import cli_session

    report = verify_chain(cli_session())
    if report.ok:
        click.echo(
            f"Hash chain intact: {report.seals} seals over {report.records} records; "
            f"head {report.head}."
        )
        return
    first = report.first
    assert first is not None
    click.echo(f"ALTERED: first problem at {first}", err=True)
    for problem in report.problems[1:]:
        click.echo(f"  also {problem}", err=True)
    click.echo(
        f"{len(report.problems)} problem(s) in {report.seals} seals; head {report.head}.",
        err=True,
    )
    sys.exit(1)


@click.command("backup")
@click.option(
    "-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (SQLite: a database file; PostgreSQL: a pg_dump custom archive).",
)
@with_appcontext
def backup_command(output: Path) -> None:
    """Back up the whole database while the application runs."""
    from app.backup import BackupError, backup

    try:
        result = backup(current_app.config["DATABASE_URL"], output)
    except BackupError as error:
        click.echo(f"Backup failed: {error}", err=True)
        sys.exit(1)
    click.echo(f"Backup written: {result.path} ({result.size} bytes, {result.kind}).")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(source: Path, yes: bool) -> None:
    """Replace the whole database with a backup (the current one is saved beside it first)."""
    from app.backup import BackupError, restore
    from app.migrate import upgrade

    url = current_app.config["DATABASE_URL"]
    if not yes:
        if not sys.stdin.isatty():
            click.echo("Refusing to restore without --yes (no terminal to confirm).", err=True)
            sys.exit(1)
        click.confirm(
            f"Replace the whole database with {source}? Stop the application first.", abort=True
        )
    try:
        before = restore(url, source)
    except BackupError as error:
        click.echo(f"Restore failed: {error}", err=True)
        sys.exit(1)
    upgrade(url)
    click.echo(
        f"Database restored from {source} and upgraded to the latest migration; "
        f"the database as it was before is saved in {before}."
    )
