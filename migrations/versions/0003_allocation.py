"""allocation: schema of the allocation area.

Revision ID: 0003_allocation
Revises: 0002_timesheets
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import accounting.db  # noqa: F401

revision = "0003_allocation"
down_revision = "0002_timesheets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
