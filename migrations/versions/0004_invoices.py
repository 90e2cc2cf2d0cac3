"""invoices: schema of the invoices area.

Revision ID: 0004_invoices
Revises: 0003_allocation
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import accounting.db  # noqa: F401

revision = "0004_invoices"
down_revision = "0003_allocation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
