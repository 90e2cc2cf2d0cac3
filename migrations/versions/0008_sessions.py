"""sessions: server-side login sessions (user_sessions) and the append-only seals table.

Revision ID: 0008_sessions
Revises: 0007_fiscal_year

Every login gets a row of ``user_sessions`` checked on every request (issue 13); sessions
signed before this revision have no row and end at their next request (users log in again).
``seals`` gets triggers refusing UPDATE and DELETE, as the journal tables have since 0005.
"""

import sqlalchemy as sa
from alembic import op

import accounting.db
from accounting.seal import SEAL_TRIGGERS

revision = "0008_sessions"
down_revision = "0007_fiscal_year"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", accounting.db.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", accounting.db.UTCDateTime(), nullable=False),
        sa.Column("ended_at", accounting.db.UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])
    dialect = op.get_bind().dialect.name
    for statement in SEAL_TRIGGERS.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_seals_append_only ON seals")
        op.execute("DROP FUNCTION IF EXISTS seals_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS trg_seals_no_update")
        op.execute("DROP TRIGGER IF EXISTS trg_seals_no_delete")
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
