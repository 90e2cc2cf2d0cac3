"""fiscal year: the carrier's first month of the fiscal year (1 = January, the calendar year).

Revision ID: 0007_fiscal_year
Revises: 0006_hardening

Existing carriers get 1: their books keep the calendar year, their FEC files are unchanged.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_fiscal_year"
down_revision = "0006_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite adds a CHECK constraint only by copying the table.
    with op.batch_alter_table("carriers") as batch:
        batch.add_column(
            sa.Column("fiscal_year_start_month", sa.Integer(), server_default="1", nullable=False)
        )
        batch.create_check_constraint(
            op.f("ck_carriers_fiscal_year_start"), "fiscal_year_start_month BETWEEN 1 AND 12"
        )


def downgrade() -> None:
    with op.batch_alter_table("carriers") as batch:
        batch.drop_constraint(op.f("ck_carriers_fiscal_year_start"), type_="check")
        batch.drop_column("fiscal_year_start_month")
