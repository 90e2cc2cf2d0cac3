"""budgets: the year's cash (DESIGN §5b) — budgets and their revisions, call schedules, true-up
rounds, and the role of a document (allocation, call for funds, true-up).

Revision ID: 0015_budgets
Revises: 0014_user_gender

Existing documents are re-invoicing of allocations (role « allocation »). On SQLite the trigger
that freezes issued invoices is recreated with the new column; the role's CHECK is added on
PostgreSQL only (SQLite would need the invoices table rebuilt, with its triggers and seals).
"""

import sqlalchemy as sa
from alembic import op

import accounting.db

revision = "0015_budgets"
down_revision = "0014_user_gender"
branch_labels = None
depends_on = None

#: The invoices' columns before this revision (the SQLite freeze trigger lists them).
_BEFORE = [
    "id", "kind", "status", "carrier_id", "member_id", "period_id", "original_id", "reason",
    "number", "year", "sequence", "issue_date", "due_date", "service_start", "service_end",
    "customer_code", "customer_name", "customer_address", "customer_siren", "customer_siret",
    "customer_vat_number", "carrier_name", "carrier_address", "carrier_siren", "carrier_siret",
    "carrier_vat_number", "carrier_iban", "carrier_bic", "carrier_email", "payment_terms_days",
    "late_penalty_rate", "vat_exemption_mention", "total_excl_tax", "total_vat",
    "total_incl_tax", "amount_paid", "amount_credited", "created_at", "issued_at", "issued_by",
    "corrects_id",
    *(f"{p}_{c}" for p in ("customer", "carrier")
      for c in ("postcode", "city", "country", "electronic_address")),
]


def _money() -> sa.types.TypeEngine:
    return accounting.db.ScaledDecimal(places=2, precision=14)


def _freeze_trigger(columns: list[str]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's trigger compares whole rows: new columns are covered
    from accounting.invoicing.models import sqlite_triggers

    op.execute("DROP TRIGGER IF EXISTS trg_invoices_no_update")
    op.execute(sqlite_triggers(columns)[0])


def upgrade() -> None:
    op.add_column("invoices", sa.Column("role", sa.String(length=12), nullable=False,
                                        server_default="allocation"))
    if op.get_bind().dialect.name == "postgresql":
        op.create_check_constraint(
            op.f("ck_invoices_role"), "invoices", "role IN ('allocation', 'call', 'true_up')"
        )
    _freeze_trigger([*_BEFORE, "role"])
    op.create_table(
        "budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=False),
        sa.Column("agreed_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("call_key", sa.String(length=300), nullable=False),
        sa.Column("created_at", accounting.db.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_budgets_revision")),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"],
                                name=op.f("fk_budgets_service_id_services")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
        sa.UniqueConstraint("service_id", "year", "revision", name="uq_budgets_revision"),
    )
    op.create_index("ix_budgets_year", "budgets", ["year", "service_id"], unique=False)
    op.create_table(
        "budget_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("account", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.CheckConstraint("kind IN ('cost', 'subsidy')", name=op.f("ck_budget_lines_kind")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_budget_lines_amount_positive")),
        sa.ForeignKeyConstraint(["budget_id"], ["budgets.id"], ondelete="CASCADE",
                                name=op.f("fk_budget_lines_budget_id_budgets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_lines")),
        sa.UniqueConstraint("budget_id", "position", name=op.f("uq_budget_lines_budget_id")),
    )
    op.create_table(
        "call_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("catch_up", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.CheckConstraint("frequency IN ('monthly', 'quarterly')",
                           name=op.f("ck_call_schedules_frequency")),
        sa.CheckConstraint("catch_up IN ('at_once', 'next', 'spread')",
                           name=op.f("ck_call_schedules_catch_up")),
        sa.CheckConstraint("day BETWEEN 1 AND 28", name=op.f("ck_call_schedules_day")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_schedules")),
        sa.UniqueConstraint("year", name=op.f("uq_call_schedules_year")),
    )
    op.create_table(
        "true_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("done_at", accounting.db.UTCDateTime(), nullable=False),
        sa.Column("done_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["allocation_runs.id"],
                                name=op.f("fk_true_ups_run_id_allocation_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_true_ups")),
        sa.UniqueConstraint("year", "round", name="uq_true_ups_round"),
    )


def downgrade() -> None:
    op.drop_table("true_ups")
    op.drop_table("call_schedules")
    op.drop_table("budget_lines")
    op.drop_index("ix_budgets_year", table_name="budgets")
    op.drop_table("budgets")
    _freeze_trigger(_BEFORE)
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_invoices_role"), "invoices", type_="check")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("role")
