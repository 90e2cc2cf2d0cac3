"""corrections: superseded runs, supplementary invoices, credit notes of negative allocations,
corrections of invoiced periods (DESIGN §4).

* ``allocation_runs``: status ``replaced``; ``replaces_id``/``replace_reason`` (the run a new
  approval replaced, and why), ``replaced_at``, ``work_override`` (why it was approved with
  work not validated).
* ``invoices``: ``corrects_id`` (a supplementary invoice cites the invoice it completes); a
  credit note may cite no invoice (the credit note of a negative allocation).
* ``period_corrections``: an invoiced period reopened with a reason.

CHECK constraints are relaxed in place. On SQLite, a table rebuild would cascade-delete the
lines of ``invoices`` and ``allocation_runs`` (foreign keys are on), so the constraint text is
rewritten in ``sqlite_schema`` as SQLite documents for removing or loosening a CHECK
(https://www.sqlite.org/lang_altertable.html, « making other kinds of table schema changes »):
the new constraints accept every row the old ones did. The SQLite trigger that freezes issued
invoices lists the columns: it is created again with ``corrects_id``.

Revision ID: 0010_corrections
Revises: 0007_fiscal_year
"""

import sqlalchemy as sa
from alembic import op

import accounting.db

revision = "0010_corrections"
down_revision = "0008_sessions"
branch_labels = None
depends_on = None

#: (table, old constraint text, new constraint text), as SQLAlchemy rendered them.
CHECKS = [
    (
        "allocation_runs",
        "CONSTRAINT ck_allocation_runs_approved_at CHECK ((status = 'approved') = "
        "(approved_at IS NOT NULL))",
        "CONSTRAINT ck_allocation_runs_approved_at CHECK ((status IN ('approved', 'replaced'))"
        " = (approved_at IS NOT NULL))",
    ),
    (
        "allocation_runs",
        "CONSTRAINT ck_allocation_runs_status CHECK (status IN ('stored', 'approved'))",
        "CONSTRAINT ck_allocation_runs_status CHECK (status IN ('stored', 'approved', "
        "'replaced'))",
    ),
    (
        "invoices",
        "CONSTRAINT ck_invoices_credit_note_original CHECK ((kind = 'credit_note') = "
        "(original_id IS NOT NULL))",
        "CONSTRAINT ck_invoices_credit_note_original CHECK (kind = 'credit_note' OR "
        "original_id IS NULL), CONSTRAINT ck_invoices_corrects_invoice CHECK (kind = "
        "'invoice' OR corrects_id IS NULL)",
    ),
]


#: (table, constraint) appended on SQLite to columns added empty (nothing can violate them).
FOREIGN_KEYS = [
    ("allocation_runs", "CONSTRAINT fk_allocation_runs_replaces_id_allocation_runs FOREIGN "
     "KEY(replaces_id) REFERENCES allocation_runs (id)"),
    ("invoices", "CONSTRAINT fk_invoices_corrects_id_invoices FOREIGN KEY(corrects_id) "
     "REFERENCES invoices (id)"),
]


def _sqlite_rewrite_checks(checks: list[tuple[str, str, str]]) -> None:
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    for table, old, new in checks:
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).scalar()
        if old not in sql:
            raise RuntimeError(f"{table}: constraint not found as expected: {old}")
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (sql.replace(old, new), table),
        )
    for table, constraint in FOREIGN_KEYS:
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).scalar().rstrip()
        assert sql.endswith(")")
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (f"{sql[:-1].rstrip()}, {constraint})", table),
        )
    bind.exec_driver_sql(f"PRAGMA schema_version={version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _sqlite_invoice_trigger() -> None:
    from accounting.invoicing.models import sqlite_triggers

    bind = op.get_bind()
    columns = [row[1] for row in bind.exec_driver_sql("PRAGMA table_info(invoices)")]
    op.execute("DROP TRIGGER IF EXISTS trg_invoices_no_update")
    op.execute(sqlite_triggers(columns)[0])


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("allocation_runs", sa.Column("replaces_id", sa.Integer(), nullable=True))
    op.add_column(
        "allocation_runs",
        sa.Column("replace_reason", sa.Text(), nullable=False, server_default=""),
    )
    op.add_column(
        "allocation_runs", sa.Column("replaced_at", accounting.db.UTCDateTime(), nullable=True)
    )
    op.add_column(
        "allocation_runs",
        sa.Column("work_override", sa.Text(), nullable=False, server_default=""),
    )
    op.add_column("invoices", sa.Column("corrects_id", sa.Integer(), nullable=True))
    if sqlite:
        _sqlite_rewrite_checks(CHECKS)
        _sqlite_invoice_trigger()
    else:
        op.create_foreign_key(
            op.f("fk_allocation_runs_replaces_id_allocation_runs"), "allocation_runs",
            "allocation_runs", ["replaces_id"], ["id"],
        )
        op.create_foreign_key(
            op.f("fk_invoices_corrects_id_invoices"), "invoices", "invoices",
            ["corrects_id"], ["id"],
        )
        op.drop_constraint(op.f("ck_allocation_runs_approved_at"), "allocation_runs", type_="check")
        op.drop_constraint(op.f("ck_allocation_runs_status"), "allocation_runs", type_="check")
        op.drop_constraint(op.f("ck_invoices_credit_note_original"), "invoices", type_="check")
        op.create_check_constraint(
            op.f("ck_allocation_runs_approved_at"), "allocation_runs",
            "(status IN ('approved', 'replaced')) = (approved_at IS NOT NULL)",
        )
        op.create_check_constraint(
            op.f("ck_allocation_runs_status"), "allocation_runs",
            "status IN ('stored', 'approved', 'replaced')",
        )
        op.create_check_constraint(
            op.f("ck_invoices_credit_note_original"), "invoices",
            "kind = 'credit_note' OR original_id IS NULL",
        )
        op.create_check_constraint(
            op.f("ck_invoices_corrects_invoice"), "invoices", "kind = 'invoice' OR corrects_id IS NULL"
        )
    op.create_table(
        "period_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_at", accounting.db.UTCDateTime(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", accounting.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["users.id"],
            name=op.f("fk_period_corrections_opened_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["periods.id"], name=op.f("fk_period_corrections_period_id_periods")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_corrections")),
    )
    op.create_index(
        "ix_period_corrections_period", "period_corrections", ["period_id", "closed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_period_corrections_period", table_name="period_corrections")
    op.drop_table("period_corrections")
    raise NotImplementedError("0010_corrections: documents issued since cannot be un-issued")
