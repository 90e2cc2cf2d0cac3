"""timesheets: schema of the timesheets area.

Revision ID: 0002_timesheets
Revises: 0001_foundation
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import accounting.db  # noqa: F401

revision = "0002_timesheets"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
