"""page indexes: the indexes the query plans of the slow pages asked for (issue 16).

Revision ID: 0016_page_indexes
Revises: 0015_budgets

- ``journal_entries.reverses_id``: « is this entry reversed? » (``posting.is_live``) is asked
  per document by the journal's catch-up counts and by every posting; without an index SQLite
  built an automatic index on each query and PostgreSQL scanned the table. Partial (``IS NOT
  NULL``): nearly every entry has none, and with a whole index SQLite's statistics
  (``ANALYZE``) said it was worthless and the plan scanned the table per document anyway
  (2.7 s for the invoices' count at 1 000 members; 8 ms with the partial index).
- ``journal_lines (account, entry_date)`` becomes ``(account, entry_date, debit, credit)``:
  the trial balance's sums per account read the index alone, not the table (at 300 members,
  282 ms → 72 ms for the GROUP BY on a copy; same name, the general ledger uses its prefix).
- ``journal_lines (entry_id, position, entry_date)``: the journal's page in validation order
  read from the index, dates filtered there (``reports.journal_page`` names it on SQLite,
  whose planner otherwise sorted every line of the year: 324 ms → under 1 ms for page 1).
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_page_indexes"
down_revision = "0015_budgets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    reversed_only = sa.text("reverses_id IS NOT NULL")
    op.create_index("ix_journal_entries_reverses", "journal_entries", ["reverses_id"],
                    sqlite_where=reversed_only, postgresql_where=reversed_only)
    op.drop_index("ix_journal_lines_account", table_name="journal_lines")
    op.create_index("ix_journal_lines_account", "journal_lines",
                    ["account", "entry_date", "debit", "credit"])
    op.create_index("ix_journal_lines_order", "journal_lines",
                    ["entry_id", "position", "entry_date"])


def downgrade() -> None:
    op.drop_index("ix_journal_lines_order", table_name="journal_lines")
    op.drop_index("ix_journal_lines_account", table_name="journal_lines")
    op.create_index("ix_journal_lines_account", "journal_lines", ["account", "entry_date"])
    op.drop_index("ix_journal_entries_reverses", table_name="journal_entries")
