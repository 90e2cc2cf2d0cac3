"""The ``mutualise`` command: a Flask CLI group with the project's commands.

Each area declares its commands and groups at module level in ``app/<area>/cli.py``; this
module adds them all to the ``mutualise`` group (and to the shared ``import`` and ``export``
groups) in one place. Commands print English; errors go to standard error with a
non-zero exit status.
"""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from accounting.org import OrgError, Role, User
from app import create_app, ops_cli
from app.admin import cli as admin_cli
from app.allocation import cli as allocation_cli
from app.budgets import cli as budgets_cli
from app.cli_support import cli_session, fail
from app.delivery import cli as delivery_cli
from app.invoices import cli as invoices_cli
from app.ledger import cli as ledger_cli
from app.timesheets import cli as timesheets_cli


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=True)
def cli() -> None:
    """Mutualise: the shared back-office of a cluster of social-economy enterprises."""


@cli.group("import")
def import_group() -> None:
    """Import a file (all-or-nothing; importing the same file twice adds nothing)."""


@cli.group("export")
def export_group() -> None:
    """Export data to a file."""


@cli.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema to the latest migration."""
    from app.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"])
    click.echo("Database is at the latest migration.")


@cli.command("create-user")
@click.argument("email")
@click.option(
    "--role", "roles", multiple=True, required=True,
    type=click.Choice([r.value for r in Role]), help="May be repeated.",
)
@click.option("--member", "member_code", help="Member code (required for member_accountant).")
@click.option("--name", default=None, help="Display name (defaults to the e-mail).")
@click.option("--password", default=None, help="Prompted when omitted and a terminal is there.")
@with_appcontext
def create_user(
    email: str, roles: tuple[str, ...], member_code: str | None, name: str | None,
    password: str | None,
) -> None:
    """Create a user (or update the roles and password of an existing one)."""
    from accounting.org import Member

    if password is None:
        if not sys.stdin.isatty():
            fail("No --password given and no terminal to ask for one.")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    from app.security import password_problems

    problems = password_problems(password, email=email, name=name or "")
    if problems:
        fail(" ".join(problems))
    db = cli_session()
    member = None
    if member_code:
        member = db.scalars(select(Member).where(Member.code == member_code)).one_or_none()
        if member is None:
            fail(f"Unknown member code: {member_code}")
    if Role.MEMBER_ACCOUNTANT.value in roles and member is None:
        fail("A member_accountant needs --member CODE.")
    user = db.scalars(select(User).where(User.email == email.lower())).one_or_none()
    if user is None:
        user = User(email=email.lower(), name=name or email)
        db.add(user)
    elif name:
        user.name = name
    user.role_set = {Role(r) for r in roles}
    user.member_id = member.id if member else None
    user.set_password(password)
    try:
        db.commit()
    except OrgError as exc:
        fail(str(exc))
    click.echo(f"User {user.email} saved with roles: {', '.join(sorted(roles))}.")


@cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the app (development server; use gunicorn in production, see README)."""
    from werkzeug.serving import run_simple

    # Not app.run(): Flask ignores it inside a `flask` CLI command (FLASK_RUN_FROM_CLI).
    click.echo(f"Serving on http://{host}:{port} (Ctrl+C to stop).")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


# Every command, in one place. Each area declares its commands at module level in
# ``app/<area>/cli.py``; the ``import`` and ``export`` groups gather commands from several areas.
for _command in (
    admin_cli.demo_command, admin_cli.setup_command,
    allocation_cli.allocate_command, allocation_cli.keys_group, allocation_cli.period_group,
    invoices_cli.invoices_group,
    ledger_cli.check_fec_command, ledger_cli.ledger_group,
    ops_cli.verify, ops_cli.rebuild_totals_command, ops_cli.seal_backfill_command,
    ops_cli.backup_command, ops_cli.restore_command,
    delivery_cli.addresses_command, budgets_cli.calls_group,
):
    cli.add_command(_command)
for _command in (delivery_cli.send_command, delivery_cli.remind_command):
    invoices_cli.invoices_group.add_command(_command)
for _command in (
    admin_cli.import_members_command, admin_cli.import_figures_command,
    allocation_cli.import_costs_command, invoices_cli.import_payments_command,
    ledger_cli.import_fec_command, timesheets_cli.import_timesheets,
    budgets_cli.import_budget_command,
):
    import_group.add_command(_command)
for _command in (
    allocation_cli.export_allocation, invoices_cli.export_invoices,
    ledger_cli.export_fec_command, ledger_cli.export_ledger_command,
    ledger_cli.export_member_entries, timesheets_cli.export_timesheets,
):
    export_group.add_command(_command)


def main() -> None:
    os.environ.setdefault("FLASK_APP", "app:create_app")
    cli(prog_name="mutualise")
