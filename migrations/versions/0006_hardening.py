"""hardening: schema of the hardening area.

Revision ID: 0006_hardening
Revises: 0005_ledger
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import accounting.db  # noqa: F401

revision = "0006_hardening"
down_revision = "0005_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
