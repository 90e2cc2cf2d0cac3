"""api tokens: the personal access tokens of the JSON API (stored hashed).

Revision ID: 0012_api_tokens
Revises: 0007_fiscal_year
"""

import sqlalchemy as sa
from alembic import op

import accounting.db

revision = "0012_api_tokens"
down_revision = "0011_books"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", accounting.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", accounting.db.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", accounting.db.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", accounting.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_api_tokens_user", table_name="api_tokens")
    op.drop_table("api_tokens")
