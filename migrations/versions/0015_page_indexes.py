"""page indexes: the indexes the query plans of the slow pages asked for (issue 16).

Revision ID: 0015_page_indexes
Revises: 0014_user_gender

- ``journal_entries.reverses_id``: « is this entry reversed? » (``posting.is_live``) is asked
  per document by the journal's catch-up counts and by every posting; without an index SQLite
  built an automatic index on each query and PostgreSQL scanned the table.
"""

from alembic import op

revision = "0015_page_indexes"
down_revision = "0014_user_gender"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_journal_entries_reverses", "journal_entries", ["reverses_id"])


def downgrade() -> None:
    op.drop_index("ix_journal_entries_reverses", table_name="journal_entries")
