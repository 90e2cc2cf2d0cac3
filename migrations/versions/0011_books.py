"""books: how a cost is posted (payroll, supplier invoice, other, FEC), credits as negative
costs, the saved account mapping to the carrier's chart, and the lettering of journal lines.

Revision ID: 0011_books
Revises: 0007_fiscal_year

Existing costs become supplier invoices with no supplier code: they keep their entry (HA,
against 401000), so nothing is reposted.
"""

import sqlalchemy as sa
from alembic import op

import accounting.db

revision = "0011_books"
down_revision = "0010_corrections"
branch_labels = None
depends_on = None

TABLES = ("costs", "subsidies")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("nature", sa.String(length=20), nullable=False,
                                       server_default="supplier_invoice"))
            batch.add_column(sa.Column("supplier_code", sa.String(length=16), nullable=False,
                                       server_default=""))
            batch.add_column(sa.Column("net_pay", accounting.db.ScaledDecimal(places=2,
                                                                            precision=14)))
            batch.add_column(sa.Column("social_account", sa.String(length=20), nullable=False,
                                       server_default=""))
            batch.add_column(sa.Column("paid_on", sa.Date()))
            batch.add_column(sa.Column("social_paid_on", sa.Date()))
            batch.add_column(sa.Column("journal_code", sa.String(length=10), nullable=False,
                                       server_default=""))
            batch.add_column(sa.Column("counterpart", sa.String(length=20), nullable=False,
                                       server_default=""))
            batch.drop_constraint(op.f(f"ck_{table}_amount_positive"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_amount_not_zero"), "amount <> 0")
        with op.batch_alter_table(table) as batch:
            for column in ("nature", "supplier_code", "social_account", "journal_code",
                           "counterpart"):
                batch.alter_column(column, server_default=None)
    op.create_table(
        "account_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.CheckConstraint("kind IN ('exact', 'prefix')", name=op.f("ck_account_mappings_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_mappings")),
        sa.UniqueConstraint("kind", "source", name=op.f("uq_account_mappings_kind")),
    )
    op.create_table(
        "line_letters",
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("lettered_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["line_id"], ["journal_lines.id"],
                                name=op.f("fk_line_letters_line_id_journal_lines")),
        sa.PrimaryKeyConstraint("line_id", name=op.f("pk_line_letters")),
    )
    op.create_index("ix_line_letters_account_code", "line_letters", ["account", "code"])


def downgrade() -> None:
    op.drop_index("ix_line_letters_account_code", table_name="line_letters")
    op.drop_table("line_letters")
    op.drop_table("account_mappings")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_amount_not_zero"), type_="check")
            batch.create_check_constraint(op.f(f"ck_{table}_amount_positive"), "amount > 0")
            for column in ("counterpart", "journal_code", "social_paid_on", "paid_on",
                           "social_account", "net_pay", "supplier_code", "nature"):
                batch.drop_column(column)
