"""CLI commands of the invoices area.

``mutualise invoices issue PERIOD [--date D]`` (prepares the drafts from the approved
allocation when there are none, issues them and prints the numbers), ``mutualise invoices credit
NUMBER [--amount A] --reason TEXT [--date D]``, ``mutualise export invoices PERIOD -o FILE.zip``
(workbooks and Factur-X PDFs) and ``mutualise import payments FILE [--dry-run]``. There is
no command to edit or delete an issued document. Domain refusals (French) go to standard
error with exit status 1, and nothing is committed then.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from accounting.invoicing.dating import DateNeedsConfirmation
from accounting.invoicing.errors import InvoicingError
from accounting.invoicing.services import draft_invoices, invoice_by_number, prepare_invoices
from accounting.money import MoneyError, parse_amount
from accounting.org import Role
from accounting.periods import PeriodError
from accounting.wording import count_en
from app.cli_support import acting_session, cli_session, fail, iso_date, period_by_code, user_option
from imports.errors import ImportRefused

#: Who issues, credits and records payments (as on the pages).
ISSUERS = (Role.ADMIN, Role.ACCOUNTANT, Role.TREASURER)

DOMAIN_ERRORS = (InvoicingError, PeriodError, ImportRefused, MoneyError)


@click.group("invoices")
def invoices_group() -> None:
    """Issue invoices and credit notes (numbered, final)."""

@invoices_group.command("issue")
@click.argument("period_code", metavar="PERIOD")
@click.option("--date", "issue_date", callback=iso_date,
              help="Invoice date, YYYY-MM-DD (default: today).")  # fmt: skip
@click.option("--confirm-year", is_flag=True,
              help="Confirm a date in a later fiscal year than the period (its revenue is "
              "then brought back by the cut-off accrual).")  # fmt: skip
@user_option()
@with_appcontext
def issue_command(
    period_code: str, issue_date: date | None, confirm_year: bool, user_email: str
) -> None:
    """Issue the documents of PERIOD from its approved allocation: the first invoices, or
    after a correction the differences (supplementary invoices, credit notes); prints the
    numbers."""
    from app.invoices.usecases import issue_period

    db, user = acting_session(user_email, *ISSUERS, what="issue invoices")
    period = period_by_code(db, period_code)
    try:
        if not draft_invoices(db, period):
            prepare_invoices(db, period)
        issued = issue_period(db, period, issue_date=issue_date, issued_by=user.email,
                              confirm_year=confirm_year)
    except DateNeedsConfirmation as error:
        fail(f"{error}\n(--confirm-year confirms the date.)")
    except DOMAIN_ERRORS as error:
        fail(str(error))
    db.commit()
    for invoice in issued:
        kind = "credit note" if invoice.is_credit_note else "invoice"
        click.echo(f"{invoice.number}\t{invoice.customer_code}\t{kind}\t"
                   f"{invoice.total_incl_tax}")
    notes = sum(1 for i in issued if i.is_credit_note)
    click.echo(f"{count_en(len(issued) - notes, 'invoice')} and {count_en(notes, 'credit note')} "
               "issued for "
               f"{period.code}.")

@invoices_group.command("credit")
@click.argument("number")
@click.option("--amount", help="Amount excluding tax (default: all that is left).")
@click.option("--reason", required=True, help="Printed on the credit note.")
@click.option("--date", "issue_date", callback=iso_date,
              help="Credit note date, YYYY-MM-DD (default: today).")  # fmt: skip
@user_option()
@with_appcontext
def credit_command(
    number: str, amount: str | None, reason: str, issue_date: date | None, user_email: str
) -> None:
    """Issue a credit note on invoice NUMBER (full, or partial with --amount)."""
    from app.invoices.usecases import credit_invoice

    db, user = acting_session(user_email, *ISSUERS, what="issue a credit note")
    try:
        invoice = invoice_by_number(db, number)
        note = credit_invoice(
            db, invoice, reason=reason,
            amount=parse_amount(amount) if amount is not None else None,
            issue_date=issue_date, issued_by=user.email,
        )
    except DOMAIN_ERRORS as error:
        fail(str(error))
    db.commit()
    click.echo(f"{note.number}\tcredit note on {invoice.number}\t{note.total_incl_tax}")


@click.command("invoices")
@click.argument("period_code", metavar="PERIOD")
@click.option("-o", "--output", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The .zip to write.")
@with_appcontext
def export_invoices(period_code: str, output: Path) -> None:
    """Write every issued invoice and credit note of PERIOD into one ZIP: each as its workbook
    (.xlsx) and its Factur-X PDF (.pdf, PDF/A-3 with the EN 16931 XML)."""
    from app.invoices.usecases import period_documents, write_period_zip

    db = cli_session()
    period = period_by_code(db, period_code)
    documents = period_documents(db, period)
    if not documents:
        fail(f"Aucune facture émise pour {period.label}.")
    with output.open("wb") as out:
        count = write_period_zip(documents, out)
    db.rollback()
    click.echo(f"{output} written ({count_en(count, 'document')}).")

@click.command("payments")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would be added.")
@user_option()
@with_appcontext
def import_payments_command(path: Path, dry_run: bool, user_email: str) -> None:
    """Import a bank statement of payments (CSV or XLSX: date, member code or invoice
    number, amount, reference). All-or-nothing; the same file twice adds nothing."""
    from app.invoices.usecases import import_statement
    from imports.payments import analyse_payments
    from imports.tabular import DEFAULT_MAX_BYTES

    db, _ = acting_session(user_email, *ISSUERS, what="import payments")
    if path.stat().st_size > DEFAULT_MAX_BYTES:
        fail(f"{path} est trop volumineux.")
    data = path.read_bytes()
    try:
        if dry_run:
            preview = analyse_payments(db, data, path.name)
            if preview.errors:
                raise ImportRefused(preview.errors)
        else:
            preview = import_statement(db, data, path.name)
    except DOMAIN_ERRORS as error:
        fail(str(error))
    if dry_run:
        db.rollback()
        click.echo(f"Dry run, nothing written: {preview.summary()}")
        return
    db.commit()
    click.echo(preview.summary())
