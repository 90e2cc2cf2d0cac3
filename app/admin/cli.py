"""CLI commands of the admin area: ``demo``, ``setup``, ``import members``, ``import figures``.

Each command runs in one transaction: it commits when everything went well and rolls back
otherwise, printing the errors (French, as the domain writes them) on standard error and
exiting with status 1.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from accounting.org import Role
from accounting.wording import count_en
from app.cli_support import acting_session, cli_session, fail, user_option
from imports.errors import ImportRefused
from imports.members import ImportResult
from imports.tabular import Table, read_table_file


def _run_import(
    path: Path, noun: str, importer: Callable[[Session, Table], ImportResult], user_email: str
) -> None:
    session, _ = acting_session(user_email, Role.ADMIN, what=f"import {noun}")
    try:
        table = read_table_file(path)
        result = importer(session, table)
    except ImportRefused as exc:
        fail(str(exc))
    session.commit()
    click.echo(result.summary_en(noun))


@click.command("members")
@click.argument("path", type=click.Path(path_type=Path))
@user_option()
@with_appcontext
def import_members_command(path: Path, user_email: str) -> None:
    """Import members from a CSV or XLSX file (columns: code, name, legal_form, siret,
    vat_number, address, billing_email, joined_on, left_on — or their French headers)."""
    from imports.members import import_members

    _run_import(path, "members", import_members, user_email)


@click.command("figures")
@click.argument("path", type=click.Path(path_type=Path))
@user_option()
@with_appcontext
def import_figures_command(path: Path, user_email: str) -> None:
    """Import members' yearly figures from a CSV or XLSX file (columns: member, year, revenue,
    headcount, insertion_workers, volunteers — or their French headers)."""
    from imports.figures import import_figures

    _run_import(path, "rows of figures", import_figures, user_email)


@click.command("setup")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--export",
    "export_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the current configuration to this file ('-': standard output).",
)
@user_option(required=False)
@with_appcontext
def setup_command(path: Path | None, export_path: Path | None, user_email: str | None) -> None:
    """Apply a configuration file (YAML), or write the current one with --export.

    Applying the same file twice changes nothing; keys left out are left untouched; nothing is
    ever deleted. An invalid file is refused whole, with the path of each bad field.
    """
    from app.configuration import (
        MAX_BYTES,
        ConfigRefused,
        apply_configuration,
        dump_configuration,
        export_configuration,
    )

    if (path is None) == (export_path is None):
        raise click.UsageError("Give either FILE.yaml to apply or --export FILE.yaml.")
    if export_path is not None:
        session = cli_session()
        text = dump_configuration(export_configuration(session))
        if str(export_path) == "-":
            click.echo(text, nl=False)
        else:
            export_path.write_text(text, encoding="utf-8")
            click.echo(f"Configuration written to {export_path}.")
        return
    assert path is not None
    session, _ = acting_session(user_email, Role.ADMIN, what="apply a configuration")
    try:
        if path.stat().st_size > MAX_BYTES:
            fail(f"{path}: fichier trop volumineux (au plus 5 Mo).")
        source = path.read_bytes()
    except OSError as exc:
        fail(f"Impossible de lire {path} : {exc.strerror}.")
    try:
        result = apply_configuration(session, source, filename=path.name)
    except ConfigRefused as exc:
        fail(str(exc))
    session.commit()
    if result.changed:
        click.echo(f"Configuration applied: {count_en(result.changes, 'change')}.")
    else:
        click.echo("Nothing to change: this configuration is already applied.")


@click.command("demo")
@click.option(
    "--members",
    type=click.IntRange(min=1),
    default=None,
    help="Generate a synthetic cluster of N members instead of the seed cluster.",
)
@click.option("--years", type=click.IntRange(1, 50), default=1, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--staff",
    type=click.IntRange(min=3),
    default=None,
    help="Synthetic cluster: staff users (default: members / 20, at least 3).",
)
@click.option(
    "--services",
    type=click.IntRange(min=2),
    default=None,
    help="Synthetic cluster: services (default: members / 50, 3 to 20).",
)
@click.option(
    "--entries",
    type=click.IntRange(min=0),
    default=None,
    help="Synthetic cluster: work entries over all years (default: 1 000 per member).",
)
@click.option("--cash-cycle", is_flag=True,
              help="Seed cluster: also the 2025 budget of the shared premises, its quarterly "
              "calls, the June revision and the true-up (locks 2025).")
@with_appcontext
def demo_command(
    members: int | None, years: int, seed: int, staff: int | None, services: int | None,
    entries: int | None, cash_cycle: bool,
) -> None:  # fmt: skip
    """Load the demo cluster (Val Horizon and its partners) with a year of work, costs and one
    user per role; running it again duplicates nothing."""
    from time import perf_counter

    from accounting.allocation.errors import AllocationError
    from accounting.budgets.errors import BudgetError
    from app.configuration import ConfigRefused
    from app.demo import load_demo

    if members is None and (staff or services or entries is not None):
        raise click.UsageError("--staff, --services and --entries need --members.")
    session = cli_session()
    started = perf_counter()
    try:
        report = load_demo(
            session, members=members, years=years, seed=seed, staff=staff,
            services=services, entries=entries, cash_cycle=cash_cycle,
        )  # fmt: skip
    except ConfigRefused as exc:
        fail(str(exc))
    except (AllocationError, BudgetError) as exc:  # --cash-cycle on a demo loaded without it
        fail(f"{exc}\n(--cash-cycle goes on a fresh database: `mutualise demo --cash-cycle`.)")
    session.commit()
    elapsed = perf_counter() - started
    if report.changed:
        click.echo(
            f"Demo loaded in {elapsed:.1f} s: "
            f"{count_en(report.config_changes, 'configuration change')}, "
            f"{count_en(report.members, 'generated member')}, {report.work_entries} work entries, "
            f"{report.costs} costs, {report.subsidies} subsidies, "
            f"{count_en(report.runs, 'approved allocation run')}, {report.invoices} invoices, "
            f"{report.payments} payments, "
            f"{count_en(report.closed_periods, 'closed period')}."
        )
    else:
        click.echo("Nothing to change: the demo is already loaded.")
    for note in report.notes:
        click.echo(f"Note: {note}")
    click.echo("\nDemo logins:")
    for user, created in report.users:
        scope = (
            f" for member {report.member_accountant_of}"
            if user.role.value == ("member_accountant")
            else ""
        )
        kept = "" if created else "  (existing user: password unchanged)"
        click.echo(f"  {user.role.value:<18} {user.email:<36} {user.password}{scope}{kept}")
