"""CLI commands of the ledger area.

``mutualise check-fec FILE`` (every issue, line by line; exit 1 when the file has errors),
``mutualise export fec YEAR -o DIR``, ``mutualise export ledger --from D --to D -o FILE.xlsx``,
``mutualise export member-entries CODE --from D --to D -o FILE.xlsx|FILE.txt``,
``mutualise import fec FILE [--map 64*=DEV ...] [--accept-unmapped] [--dry-run]`` (the
carrier's costs), ``mutualise ledger post-missing | letter | cut-off YEAR``. Domain refusals
(French) go to standard error with exit status 1, and nothing is committed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from accounting.costs import CostError
from accounting.fec import FecError
from accounting.ledger.errors import LedgerError
from accounting.org import Member, Role
from accounting.periods import PeriodError
from accounting.wording import count_en
from app.cli_support import acting_session, cli_session, euros, fail, iso_date, user_option
from imports.errors import ImportRefused

DOMAIN_ERRORS = (LedgerError, FecError, PeriodError, CostError, ImportRefused)


@click.command("check-fec")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--start", callback=iso_date, help="First day of the fiscal year (YYYY-MM-DD).")
@click.option("--end", callback=iso_date, help="Closing day (default: from the file name).")
@click.option("--cash-basis", is_flag=True, default=None,
              help="A BNC / cash-basis file (ValidDate may be empty); by default, a header "
                   "with DateRglt, ModeRglt, NatOp or IdClient says so.")  # fmt: skip
def check_fec_command(path: Path, start: date | None, end: date | None,
                      cash_basis: bool | None) -> None:  # fmt: skip
    """Check a FEC against the norm: every issue, line by line (exit 1 on errors). Any mix
    of CR / LF line ends is read."""
    from accounting.fec_check import scan_fec

    scan = scan_fec(path, start=start, end=end, cash_basis=cash_basis or None)
    for issue in scan.issues:
        click.echo(str(issue))
    errors, warnings = len(scan.errors), len(scan.warnings)
    click.echo(
        f"{path.name}: {count_en(scan.line_count, 'line')}, "
        f"{count_en(scan.entry_count, 'entry', 'entries')}, debit "
        f"{euros(scan.total_debit)}, credit {euros(scan.total_credit)} — "
        f"{count_en(errors, 'error')}, {count_en(warnings, 'warning')}."
    )
    if errors:
        raise SystemExit(1)

@click.command("fec")
@click.argument("year", type=int)
@click.option("-o", "--output", "directory", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The directory to write <SIREN>FEC<closing date>.txt into.")  # fmt: skip
@with_appcontext
def export_fec_command(year: int, directory: Path) -> None:
    """Write the FEC of fiscal YEAR, named by the year it closes in: with the carrier's
    fiscal year starting in September, 2026 is 1 September 2025 to 31 August 2026 (by
    default, January: 1 January to 31 December)."""
    from accounting.ledger.fec_export import export_fec

    try:
        path, count = export_fec(cli_session(), year, directory)
    except DOMAIN_ERRORS as error:
        fail(str(error))
    click.echo(f"{count_en(count, 'line')} written to {path}.")

@click.command("ledger")
@click.option("--from", "start", callback=iso_date, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", callback=iso_date, help="Last day (YYYY-MM-DD).")
@click.option("-o", "--output", required=True, help="The .xlsx to write.",
              type=click.Path(dir_okay=False, path_type=Path))  # fmt: skip
@with_appcontext
def export_ledger_command(start: date | None, end: date | None, output: Path) -> None:
    """Write the ledger workbook (Journal, Grand livre, Balance) of a date range."""
    from accounting.workbooks.ledger import write_ledger_workbook

    summary = write_ledger_workbook(cli_session(), start, end, output)
    click.echo(
        f"{count_en(summary.lines, 'line')}, {count_en(summary.accounts, 'account')}, debit "
        f"{euros(summary.total_debit)} = credit {euros(summary.total_credit)}: {output}."
    )

@click.command("member-entries")
@click.argument("member_code")
@click.option("--from", "start", callback=iso_date, required=True, help="YYYY-MM-DD.")
@click.option("--to", "end", callback=iso_date, required=True, help="YYYY-MM-DD.")
@click.option("-o", "--output", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.xlsx (workbook) or FILE.txt (FEC format).")  # fmt: skip
@with_appcontext
def export_member_entries(member_code: str, start: date, end: date, output: Path) -> None:
    """Write the entries a member books in its own books for the period."""
    from accounting.fec import write_fec
    from accounting.ledger.member_side import member_entries
    from accounting.workbooks.ledger import write_member_workbook

    db = cli_session()
    member = db.scalars(select(Member).where(Member.code == member_code)).one_or_none()
    if member is None:
        fail(f"Unknown member code: {member_code}")
    lines = member_entries(db, member, start, end)
    if output.suffix.lower() == ".xlsx":
        count = write_member_workbook(lines, output)
    else:
        with open(output, "wb") as handle:
            count = write_fec(lines, handle)
    click.echo(f"{count_en(count, 'line')} for {member.code} written to {output}.")

def _print_fec_preview(preview: Any) -> None:
    """Per service: the file's debits and credits imported and the net change of its pool;
    then the lines left aside per account, with their total."""
    click.echo("service: debit / credit imported -> net (costs - subsidies)")
    for code, found in preview.totals_by_service().items():
        click.echo(f"  {code}: debit {euros(found['debit'])} / credit {euros(found['credit'])}"
                   f" -> net {euros(found['net'])}")  # fmt: skip
    for item in preview.left_aside:
        why = "not mapped" if item.reason == "unmapped" else "balance sheet"
        click.echo(f"  left aside ({why}): {item.account} {item.label} — "
                   f"{count_en(item.lines, 'line')} from line {item.first_line}, "
                   f"debit {euros(item.debit)}, credit "
                   f"{euros(item.credit)}")  # fmt: skip
    if preview.left_aside:
        click.echo(f"Left aside in total: debit {euros(preview.left_aside_debit)}, credit "
                   f"{euros(preview.left_aside_credit)}.")  # fmt: skip


@click.command("fec")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "rules", multiple=True, metavar="RULE",
              help="64*=SERVICE or analytique:CODE=SERVICE; may be repeated; saved for "
                   "next time (without --map: the saved rules).")  # fmt: skip
@click.option("--analytic-column", help="The extra column holding analytic codes.")
@click.option("--accept-unmapped", is_flag=True,
              help="Import even though lines are left aside (listed with their total).")
@click.option("--dry-run", is_flag=True,
              help="Print the per-service totals that would be imported; change nothing.")
@user_option()
@with_appcontext
def import_fec_command(path: Path, rules: tuple[str, ...], analytic_column: str | None,
                       accept_unmapped: bool, dry_run: bool, user_email: str) -> None:  # fmt: skip
    """Import the carrier's costs from its FEC: every line imported, used as a counterpart,
    or listed as left aside (all-or-nothing; the same file twice is refused)."""
    from imports.fec_costs import import_fec_costs, parse_rule, preview_fec_costs

    db, _ = acting_session(user_email, Role.ADMIN, Role.ACCOUNTANT, what="import costs")
    try:
        parsed = [parse_rule(db, text) for text in rules] or None
        if dry_run:
            preview = preview_fec_costs(db, path, parsed, analytic_column=analytic_column)
        else:
            result, preview = import_fec_costs(
                db, path, parsed, analytic_column=analytic_column,
                accept_unmapped=accept_unmapped,
            )  # fmt: skip
    except DOMAIN_ERRORS as error:
        fail(str(error))
    _print_fec_preview(preview)
    if dry_run:
        db.rollback()
        click.echo(f"Dry run: {count_en(len(preview.new), 'cost')} would be added, "
                   f"{len(preview.costs) - len(preview.new)} already imported.")  # fmt: skip
        return
    db.commit()
    click.echo(f"{count_en(result.created, 'cost')} added, {result.unchanged} already imported.")


@click.group("ledger")
def ledger_group() -> None:
    """The carrier's books."""

@ledger_group.command("post-missing")
@user_option()
@with_appcontext
def post_missing_command(user_email: str) -> None:
    """Post the entries of final documents that have none yet."""
    from accounting.ledger.catchup import post_missing

    db, _ = acting_session(user_email, Role.ADMIN, Role.ACCOUNTANT, what="post entries")
    try:
        count = post_missing(db)
    except DOMAIN_ERRORS as error:
        fail(str(error))
    db.commit()
    click.echo(f"{count_en(count, 'entry', 'entries')} posted.")


@ledger_group.command("letter")
@user_option()
@with_appcontext
def letter_command(user_email: str) -> None:
    """Letter the members' 411 lines of every settled invoice (its payments and credit
    notes): EcritureLet and DateLet of the FEC."""
    from accounting.ledger.lettering import letter_accounts

    db, _ = acting_session(user_email, Role.ADMIN, Role.ACCOUNTANT, what="letter the books")
    count = letter_accounts(db)
    db.commit()
    click.echo(f"{count_en(count, 'line')} lettered.")


@ledger_group.command("cut-off")
@click.argument("year", type=int)
@user_option()
@with_appcontext
def cutoff_command(year: int, user_email: str) -> None:
    """Year-end cut-off of fiscal YEAR: accrue (4181 + member / 706x, 445870; 4198 for a
    credit note to come) the services of the year not invoiced by its closing day and move its
    calls for funds from 4191 to revenue, reversed on the next day."""
    from accounting.ledger.cutoff import post_cutoff

    db, user = acting_session(user_email, Role.ADMIN, Role.ACCOUNTANT, what="post the cut-off")
    try:
        report = post_cutoff(db, year, user=user.email)
    except DOMAIN_ERRORS as error:
        fail(str(error))
    db.commit()
    for (member, service), amount in report.accrued.items():
        what = "to invoice" if amount > 0 else "to credit (credit note)"
        click.echo(f"  {member} / {service}: {euros(abs(amount))} {what}")
    for service, amount in report.transferred.items():
        click.echo(f"  {service}: {euros(amount)} of calls for funds moved from 4191 to revenue")
    for name in report.unapproved:
        click.echo(f"  not accrued: {name} is called but its year's allocation is not approved")
    for label in report.straddling:
        click.echo(f"  not accrued: the period {label} straddles the closing day")
    click.echo(f"Cut-off {year} at {report.end:%Y-%m-%d}: {euros(report.total)} excl. tax "
               f"accrued in total, {count_en(len(report.entries), 'entry', 'entries')} posted.")


@ledger_group.command("reconcile")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tolerance", type=click.IntRange(0, 31), default=5, show_default=True,
              help="Days between the statement's date and the entry's.")
@with_appcontext
def reconcile_command(path: Path, tolerance: int) -> None:
    """Reconcile a bank statement (CSV/XLSX: Date, Montant or Débit/Crédit, Libellé) with the
    bank journal (512): matched lines counted, the others listed (exit 1 when any is left)."""
    from accounting.ledger.bank import reconcile
    from imports.bank_statement import read_statement

    db = cli_session()
    try:
        found = reconcile(db, read_statement(path), tolerance=tolerance)
    except DOMAIN_ERRORS as error:
        fail(str(error))
    for line in found.statement_only:
        click.echo(f"  on the statement only: {line.day:%Y-%m-%d} {euros(line.amount)} "
                   f"{line.label} ({line.ref})")  # fmt: skip
    for line in found.books_only:
        click.echo(f"  in the books only: {line.day:%Y-%m-%d} {euros(line.amount)} {line.label}"
                   f" ({line.ref})")  # fmt: skip
    click.echo(f"{count_en(len(found.matched), 'line')} matched, "
               f"{len(found.statement_only)} on the statement only, "
               f"{len(found.books_only)} in the books only; difference "
               f"{euros(found.difference)}.")  # fmt: skip
    if not found.reconciled:
        raise SystemExit(1)
