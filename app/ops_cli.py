"""Operator commands: ``mutualise verify [--anchor FILE]``, ``rebuild-totals``,
``seal-backfill``, ``backup -o FILE`` and ``restore FILE``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from accounting.wording import count_en


def _warn_unanchored(configured: str | None) -> None:
    """Loudly: without an anchor, a chain cut short or rebuilt with SQL looks intact."""
    where = (
        f"the anchor file {configured} does not exist (first run, or removed?)"
        if configured else "no anchor file is configured (MUTUALISE_SEAL_ANCHOR is empty)"
    )
    click.echo(
        f"WARNING: {where}. Without an anchor this check cannot see links removed at the end "
        "of the chain nor a chain rebuilt with SQL: it only proves the chain is consistent. "
        "Keep the anchor off the database host (see README, Security: anchor) and compare the "
        "head above with the one written down last time.",
        err=True,
    )


@click.command("verify")
@click.option(
    "--anchor", "anchor", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Anchor file to check the chain against (default: SEAL_ANCHOR, if it exists).",
)
@with_appcontext
def verify(anchor: Path | None) -> None:
    """Recompute the hash chain of issued invoices, credit notes, journal entries and closed
    periods, and check it against the anchor file kept outside the database.

    Exits 1 and names the first record altered when something was changed behind the
    application's back, or the first anchored link the chain no longer has (a chain rebuilt
    with SQL). A clean run appends the head to the anchor file; write the head hash down
    elsewhere too (e.g. in the minutes of the board).
    """
    from accounting.seal import append_anchor, verify_chain
    from app.cli_support import cli_session

    configured = current_app.config.get("SEAL_ANCHOR") or None
    if anchor is None and configured and Path(configured).is_file():
        anchor = Path(configured)
    session = cli_session()
    report = verify_chain(session, anchor=anchor)
    totals_ok = _check_totals(session)
    checked = (
        f"{count_en(report.anchored, 'anchored link')} in {anchor} still in the chain"
        if anchor is not None
        else "no anchor file checked"
    )
    if report.ok:
        click.echo(
            f"Hash chain intact: {report.seals} seals over {report.records} records; "
            f"{checked}; head #{report.head_seq} {report.head}."
        )
        if anchor is None and report.seals:
            _warn_unanchored(configured)
        target = anchor or configured
        if target and report.seals:
            append_anchor(target, report.head_seq, report.head)
        if not totals_ok:
            sys.exit(1)
        return
    first = report.first
    assert first is not None
    click.echo(f"ALTERED: first problem at {first}", err=True)
    for problem in report.problems[1:]:
        click.echo(f"  also {problem}", err=True)
    click.echo(
        f"{count_en(len(report.problems), 'problem')} in {report.seals} seals; head {report.head}.",
        err=True,
    )
    if any(p.seq is None and p.object_type == "journal_entries" for p in report.problems):
        click.echo(
            "Journal entries posted before sealing existed: `mutualise seal-backfill` seals "
            "them once, after upgrading.",
            err=True,
        )
    sys.exit(1)


def _check_totals(session: Any) -> bool:
    """The per-account daily totals equal the sums of the journal lines (the trial balance
    reads them); the rows apart named, at most five, on stderr."""
    from accounting.ledger.account_days import drift

    apart = drift(session)
    if not apart:
        click.echo("Daily account totals: equal to the journal lines.")
        return True
    click.echo(
        f"DAILY TOTALS DIFFER from the journal lines on {count_en(len(apart), 'account day')} "
        "(the trial balance reads them): lines were written without the trigger.",
        err=True,
    )
    for account, day, debit, credit in apart[:5]:
        click.echo(f"  {account} on {day:%Y-%m-%d}: debit {debit:+}, credit {credit:+} "
                   "(totals minus lines)", err=True)  # fmt: skip
    click.echo("Rebuild them from the lines: `mutualise rebuild-totals`.", err=True)
    return False


@click.command("rebuild-totals")
@with_appcontext
def rebuild_totals_command() -> None:
    """Rebuild the per-account daily totals from the journal lines (when `verify` finds them
    apart). Postings wait until it is done."""
    from accounting.ledger.account_days import drift, rebuild
    from app.cli_support import cli_session

    session = cli_session()
    rows = rebuild(session)
    left = drift(session)
    if left:  # pragma: no cover - the table was just filled from the lines
        session.rollback()
        raise click.ClickException(f"{len(left)} account days still differ; nothing changed.")
    session.commit()
    click.echo(f"Daily account totals rebuilt: {count_en(rows, 'account day')}.")


@click.command("seal-backfill")
@with_appcontext
def seal_backfill_command() -> None:
    """Seal the journal entries posted before entries were sealed (once, after upgrading).

    Only entries older than the first sealed one: an unsealed entry posted since was written
    behind the application's back, and stays reported by ``mutualise verify``.
    """
    from accounting.ledger.models import JournalEntry
    from accounting.seal import seal_backfill
    from app.cli_support import cli_session

    session = cli_session()
    count = seal_backfill(session, JournalEntry.__tablename__)
    session.commit()
    click.echo(f"{count} journal entr{'y' if count == 1 else 'ies'} sealed.")


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
