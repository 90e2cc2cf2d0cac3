"""pages16: the run's input digests, and the run page's index (issue 16).

Revision ID: 0017_pages16
Revises: 0017_payroll15

- ``allocation_runs.input_digests`` (JSON, kind → SHA-256 of the period's raw inputs read in
  SQL when the run was stored: work aggregates, costs and subsidies per day, members' dates
  and figures, keys, services): the run page compares them with the same digests of today's
  data instead of computing the period again (1.5–2.2 s at 1 000 members) to warn that the
  inputs changed. NULL for runs stored before: their page offers the full check on demand.
- ``allocation_lines (run_id, member_id, service_id, amount)``: the run page's page of 50
  members, their lines, the member count and the per-member totals read from the index alone.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_pages16"
down_revision = "0017_payroll15"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("allocation_runs", sa.Column("input_digests", sa.JSON(), nullable=True))
    op.create_index(
        "ix_allocation_lines_run_member",
        "allocation_lines",
        ["run_id", "member_id", "service_id", "amount"],
    )


def downgrade() -> None:
    op.drop_index("ix_allocation_lines_run_member", table_name="allocation_lines")
    with op.batch_alter_table("allocation_runs") as batch:
        batch.drop_column("input_digests")
