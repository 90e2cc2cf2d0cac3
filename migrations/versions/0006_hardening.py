"""hardening: the hash chain of sealed records, and the shared rate-limit counters.

Revision ID: 0006_hardening
Revises: 0005_ledger
"""

import sqlalchemy as sa
from alembic import op

import accounting.db

revision = "0006_hardening"
down_revision = "0005_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("object_id", sa.String(length=50), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("sealed_at", accounting.db.UTCDateTime(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seals")),
        sa.UniqueConstraint("seq", name=op.f("uq_seals_seq")),
        sa.UniqueConstraint("hash", name=op.f("uq_seals_hash")),
        sa.UniqueConstraint("prev_hash", name="uq_seals_prev_hash"),
    )
    op.create_index("ix_seals_object", "seals", ["object_type", "object_id"], unique=False)
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
    op.drop_index("ix_seals_object", table_name="seals")
    op.drop_table("seals")
