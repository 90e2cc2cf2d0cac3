"""ledger: schema of the ledger area.

Revision ID: 0005_ledger
Revises: 0004_invoices
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import accounting.db  # noqa: F401

revision = "0005_ledger"
down_revision = "0004_invoices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
