"""CLI commands of the allocation area.

``mutualise allocate PERIOD [--service CODE] [--store] [--approve [--reason TEXT]
[--override-unvalidated TEXT]] --user EMAIL``, ``mutualise keys set|delete|list``,
``mutualise period close|reopen``, ``mutualise import costs FILE`` and ``mutualise export
allocation PERIOD -o FILE.xlsx``. Domain refusals (French) are printed as they are, on standard
error, with exit status 1; nothing is committed then.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from accounting.allocation.approval import negative_totals
from accounting.allocation.errors import AllocationError
from accounting.allocation.keys import describe_key_fr
from accounting.allocation.models import AllocationRun
from accounting.allocation.runs import PeriodAllocation, keys_of_service, set_key
from accounting.allocation.runs.key_versions import delete_key, key_version
from accounting.costs import CostError
from accounting.org import Role, Service
from accounting.periods import PeriodError, close_period, reopen_period
from accounting.wording import count_en
from app.cli_support import (
    acting_session,
    cli_session,
    euros,
    fail,
    iso_date,
    period_by_code,
    user_option,
)
from imports.errors import ImportRefused

DOMAIN_ERRORS = (AllocationError, PeriodError, CostError, ImportRefused)


def format_matrix(result: PeriodAllocation) -> str:
    """The member × service matrix as aligned text, with totals."""
    services = [s for s in result.services if s.allocation is not None]
    codes = [s.service.code for s in services]
    amounts = result.amounts()
    header = ["Member", *codes, "Total"]
    rows = [
        [code, *[euros(row.get(c, Decimal("0.00"))) for c in codes],
         euros(sum(row.values(), Decimal("0.00")))]
        for code, row in amounts.items()
    ]
    totals = result.service_totals()
    rows.append(["TOTAL", *[euros(totals[c]) for c in codes], euros(result.total)])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(
        (cell.ljust(w) if i == 0 else cell.rjust(w)) for i, (cell, w) in enumerate(zip(
            header, widths, strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        if r[0] == "TOTAL":
            lines.append("  ".join("-" * w for w in widths))
        lines.append("  ".join(
            (cell.ljust(w) if i == 0 else cell.rjust(w))
            for i, (cell, w) in enumerate(zip(r, widths, strict=True))
        ))
    return "\n".join(lines)


@click.command("allocate")
@click.argument("period_code", metavar="PERIOD")
@click.option("--service", "service_code", help="Only this service (its code).")
@click.option("--store", is_flag=True, help="Keep the run (inputs and explanations).")
@click.option("--approve", is_flag=True, help="Store and approve the run (freezes it).")
@click.option("--reason", default="", help="Why this run replaces the period's approved run "
              "(required then; kept on the run and in the audit log).")
@click.option("--override-unvalidated", "work_override", default="",
              help="Why approve although work of the period is not validated (audited).")
@user_option(required=False)
@with_appcontext
def allocate_command(
    period_code: str, service_code: str | None, store: bool, approve: bool, reason: str,
    work_override: str, user_email: str | None,
) -> None:
    """Compute the allocation of PERIOD (2026-01, 2026-T1 or 2026) and print the matrix;
    --store / --approve need --user (the treasurer to approve)."""
    from app.allocation.services import allocate_period
    from app.allocation.services import approve as approve_run

    user = None
    if store or approve:
        roles = (Role.TREASURER,) if approve else (Role.ADMIN, Role.ACCOUNTANT, Role.TREASURER)
        db, user = acting_session(user_email, *roles,
                                  what="approve a run" if approve else "store a run")
    else:
        db = cli_session()
    period = period_by_code(db, period_code, create=True)
    try:
        result = allocate_period(db, period, service_code)
    except DOMAIN_ERRORS as error:
        fail(str(error))
    click.echo(f"Allocation of {period.code} ({period.label}), {period.days} days")
    if result.overheads is not None and result.overheads.shares:
        oh = result.overheads
        click.echo(f"Overheads {oh.service.code} {euros(oh.pool)} by {oh.by}: " + ", ".join(
            f"{c} {euros(s.amount)}" for c, s in oh.shares.items()))
    for item in result.services:
        if item.allocation is not None:
            click.echo(
                f"{item.service.code}: pool {euros(item.pool)} = costs {euros(item.costs)}"
                f" - subsidies {euros(item.subsidies)} + overheads {euros(item.overheads)};"
                f" key « {item.key_text} »"
            )
    click.echo(format_matrix(result))
    for warning in result.warnings:
        click.echo(f"Warning: {warning}")
    if result.errors:
        fail("\n".join(result.errors))
    if not (store or approve):
        db.rollback()
        click.echo("Preview only: nothing stored (use --store or --approve).")
        return
    from app.allocation.digest import store_with_digests

    assert user is not None
    for code, total in negative_totals(result):
        click.echo(f"Negative total: {code} {euros(total)} (a credit note when invoiced)")
    try:
        run = store_with_digests(db, period, result, user_id=user.id)
        if approve:
            approve_run(db, run, user_id=user.id, reason=reason, work_override=work_override)
    except DOMAIN_ERRORS as error:
        fail(str(error))
    db.commit()
    click.echo(f"Run {run.id} stored" + (" and approved" if approve else "")
               + (f", replacing run {run.replaces_id}" if run.replaces_id else "") + ".")

@click.group("keys")
def keys_group() -> None:
    """Allocation keys of the services."""

@keys_group.command("set")
@click.argument("service_code", metavar="SERVICE")
@click.argument("text", metavar="KEY")
@click.option("--from", "valid_from", required=True, callback=iso_date,
              help="First day in force (YYYY-MM-DD).")  # fmt: skip
@click.option("--agreed-on", callback=iso_date,
              help="Date of the meeting that agreed it (YYYY-MM-DD).")  # fmt: skip
@click.option("--agreed-by", default="", help="Who agreed it (e.g. the monthly meeting).")
@user_option()
@with_appcontext
def keys_set(
    service_code: str, text: str, valid_from: date, agreed_on: date | None, agreed_by: str,
    user_email: str,
) -> None:
    """Set the key of SERVICE from a date, e.g. keys set COMPTA "25% equal + 75% hours"
    (the version of the same date is corrected, if no approved run used it)."""
    db, user = acting_session(user_email, Role.ADMIN, Role.TREASURER, what="set a key")
    service = db.scalars(select(Service).where(Service.code == service_code)).one_or_none()
    if service is None:
        fail(f"Unknown service: {service_code}")
    try:
        key = set_key(db, service, text, valid_from, agreed_on=agreed_on,
                      agreed_by=agreed_by, user_id=user.id)
    except DOMAIN_ERRORS as error:
        fail(str(error))
    db.commit()
    click.echo(f"{service.code} from {key.valid_from}: {key.text}")
    click.echo(f"  ({describe_key_fr(key.key)})")

@keys_group.command("delete")
@click.argument("service_code", metavar="SERVICE")
@click.option("--from", "valid_from", required=True, callback=iso_date,
              help="The first day of the version to delete (YYYY-MM-DD).")  # fmt: skip
@user_option()
@with_appcontext
def keys_delete(service_code: str, valid_from: date, user_email: str) -> None:
    """Delete the version of SERVICE's key from a date, if no approved run used it (audited)."""
    db, _ = acting_session(user_email, Role.ADMIN, Role.TREASURER, what="delete a key")
    service = db.scalars(select(Service).where(Service.code == service_code)).one_or_none()
    if service is None:
        fail(f"Unknown service: {service_code}")
    key = key_version(db, service.id, valid_from)
    if key is None:
        fail(f"{service.code} has no key version from {valid_from}.")
    try:
        delete_key(db, key)
    except DOMAIN_ERRORS as error:
        fail(str(error))
    db.commit()
    click.echo(f"{service.code}: the version from {valid_from} is deleted.")

@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    """Every service's key versions."""
    db = cli_session()
    for service in db.scalars(select(Service).order_by(Service.code)):
        if service.overheads_by:
            click.echo(f"{service.code}: overheads, stepped down by {service.overheads_by}")
            continue
        versions = keys_of_service(db, service.id)
        if not versions:
            click.echo(f"{service.code}: no key")
        for key in versions:
            agreed = f" (agreed {key.agreed_on or ''} {key.agreed_by})".rstrip()
            click.echo(f"{service.code} from {key.valid_from}: {key.text}{agreed}")

@click.group("period")
def period_group() -> None:
    """Close or reopen a period (2026-01, 2026-T1, 2026)."""

@period_group.command("close")
@click.argument("period_code", metavar="PERIOD")
@user_option()
@with_appcontext
def period_close(period_code: str, user_email: str) -> None:
    """Close PERIOD: its work entries, costs and subsidies become read-only."""
    db, user = acting_session(user_email, Role.ADMIN, what="close a period")
    period = period_by_code(db, period_code, create=True)
    try:
        close_period(db, period, user_id=user.id)
    except DOMAIN_ERRORS as error:
        fail(str(error))
    db.commit()
    click.echo(f"Period {period.code} closed.")

@period_group.command("reopen")
@click.argument("period_code", metavar="PERIOD")
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@user_option()
@with_appcontext
def period_reopen(period_code: str, reason: str, user_email: str) -> None:
    """Reopen PERIOD with a reason: a closed period opens, an invoiced one accepts corrections
    until its differences are invoiced."""
    db, user = acting_session(user_email, Role.ADMIN, what="reopen a period")
    period = period_by_code(db, period_code, create=True)
    try:
        reopen_period(db, period, reason, user_id=user.id)
    except DOMAIN_ERRORS as error:
        fail(str(error))
    db.commit()
    click.echo(f"Period {period.code} reopened.")


@click.command("costs")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@user_option()
@with_appcontext
def import_costs_command(path: Path, user_email: str) -> None:
    """Import costs and subsidies (CSV or XLSX; all-or-nothing; same file twice adds
    nothing)."""
    from imports.costs import import_costs
    from imports.tabular import read_table_file

    db, _ = acting_session(user_email, Role.ADMIN, Role.ACCOUNTANT, what="import costs")
    try:
        result = import_costs(db, read_table_file(path))
    except DOMAIN_ERRORS as error:
        fail(str(error))
    db.commit()
    if result.changed:
        click.echo(f"{count_en(result.created, 'line')} added, "
                   f"{result.unchanged} already imported.")
    else:
        click.echo(f"Nothing to add: {count_en(result.total, 'line')} "
                   "of the file already imported.")

@click.command("allocation")
@click.argument("period_code", metavar="PERIOD")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False,
              path_type=Path), help="The .xlsx file to write.")
@click.option("--run", "run_id", type=int, help="A stored run (default: the approved one, "
              "else the last stored, else a preview).")
@with_appcontext
def export_allocation(period_code: str, output: Path, run_id: int | None) -> None:
    """Write the treasurer's allocation workbook of PERIOD."""
    from app.allocation.workbook import workbook_for

    db = cli_session()
    period = period_by_code(db, period_code, create=True)
    run = None
    if run_id is not None:
        run = db.get(AllocationRun, run_id)
        if run is None or run.period_id != period.id:
            fail(f"No run {run_id} for {period.code}.")
    try:
        with output.open("wb") as out:
            described = workbook_for(db, period, out, run=run)
    except DOMAIN_ERRORS as error:
        output.unlink(missing_ok=True)
        fail(str(error))
    db.rollback()
    click.echo(f"{output} written ({described}).")
