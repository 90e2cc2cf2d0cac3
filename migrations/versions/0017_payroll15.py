"""payroll15: the counterparts of an imported cost whose FEC entry has several (issue 15).

Revision ID: 0017_payroll15
Revises: 0016_page_indexes

A payroll entry (641/645 against 421, 431 and 437) or a supplier invoice with deductible VAT
(6xx and 44566 against 401 + supplier code) was imported with each cost against the suspense
account 471000. ``cost_counterparts`` holds each imported cost's (or subsidy's) share of each
counterpart of its entry (``accounting.cost_counterparts``), so that its entry posts the file's
lines. Costs imported before keep their one counterpart (471000 included): re-import the file
after deleting them to split them.
"""

import sqlalchemy as sa
from alembic import op

import accounting.db

revision = "0017_payroll15"
down_revision = "0016_page_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cost_counterparts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cost_id", sa.Integer(), nullable=True),
        sa.Column("subsidy_id", sa.Integer(), nullable=True),
        sa.Column("account", sa.String(length=20), nullable=False),
        sa.Column("amount", accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("(cost_id IS NULL) <> (subsidy_id IS NULL)",
                           name=op.f("ck_cost_counterparts_one_owner")),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_cost_counterparts_amount_not_zero")),
        sa.ForeignKeyConstraint(["cost_id"], ["costs.id"], ondelete="CASCADE",
                                name=op.f("fk_cost_counterparts_cost_id_costs")),
        sa.ForeignKeyConstraint(["subsidy_id"], ["subsidies.id"], ondelete="CASCADE",
                                name=op.f("fk_cost_counterparts_subsidy_id_subsidies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_counterparts")),
    )  # fmt: skip
    op.create_index("ix_cost_counterparts_cost", "cost_counterparts", ["cost_id", "position"])
    op.create_index("ix_cost_counterparts_subsidy", "cost_counterparts",
                    ["subsidy_id", "position"])  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_cost_counterparts_subsidy", table_name="cost_counterparts")
    op.drop_index("ix_cost_counterparts_cost", table_name="cost_counterparts")
    op.drop_table("cost_counterparts")
