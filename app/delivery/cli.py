"""CLI commands of delivery, declared at module level (``app/cli.py`` adds them):
``mutualise invoices send PERIOD [--resend]``, ``mutualise invoices remind [--date D]`` (both
in the ``invoices`` group) and ``mutualise addresses`` (the addresses to complete)."""

from __future__ import annotations

from datetime import date
from typing import Any

import click
from flask.cli import with_appcontext

from accounting.wording import count_en
from app.cli_support import cli_session, fail, iso_date, period_by_code


def _settings() -> Any:
    from app.mail import settings_from_env

    try:
        settings = settings_from_env()
    except ValueError as error:
        fail(str(error))
    if settings is None:
        fail("E-mail is not configured: set MUTUALISE_SMTP_URL and MUTUALISE_MAIL_FROM.")
    return settings


def _print(report: Any) -> None:
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)


@click.command("send")
@click.argument("period_code", metavar="PERIOD")
@click.option("--resend", is_flag=True, help="Send again documents already sent.")
@with_appcontext
def send_command(period_code: str, resend: bool) -> None:
    """E-mail each member its documents of PERIOD (Factur-X PDF attached) at its billing
    address. Already sent documents are skipped unless --resend; failures are retried.
    Exit status 1 when something was not sent (listed)."""
    from app.delivery.usecases import period_documents, send_documents

    settings = _settings()
    db = cli_session()
    period = period_by_code(db, period_code)
    documents = period_documents(db, period)
    if not documents:
        fail(f"Aucune facture émise pour {period.label}.")
    report = send_documents(db, settings, documents, sent_by="cli", resend=resend)
    click.echo(f"{count_en(len(report.sent), 'document')} sent for {period.code}.")
    _print(report)


@click.command("remind")
@click.option("--date", "on", callback=iso_date,
              help="Reminder day, YYYY-MM-DD (default: today).")  # fmt: skip
@with_appcontext
def remind_command(on: date | None) -> None:
    """Send the first or second reminder of each overdue invoice whose time has come (the
    carrier's schedule), with the late-payment penalties and the 40 € indemnity."""
    from accounting.invoicing.errors import InvoicingError
    from app.delivery.usecases import send_reminders

    settings = _settings()
    db = cli_session()
    try:
        report = send_reminders(db, settings, on=on or date.today(), sent_by="cli")
    except InvoicingError as error:
        fail(str(error))
    click.echo(f"{count_en(len(report.sent), 'reminder')} sent.")
    _print(report)


@click.command("addresses")
@with_appcontext
def addresses_command() -> None:
    """List the carrier and members whose address lacks a postcode or a city (addresses that
    migration 0009 could not split); exit status 1 when there are some."""
    from app.delivery.routes import incomplete_addresses

    rows = incomplete_addresses(cli_session())
    for kind, code, name in rows:
        click.echo(f"{kind}\t{code}\t{name}")
    if rows:
        raise SystemExit(1)
    click.echo("Every address has its postcode and city.")
