"""balances16c: per-account daily totals kept by a trigger (issue 16).

Revision ID: 0019_balances16c
Revises: 0018_pages16b

``account_days`` (account, day, Σ debit, Σ credit) is the sum of the journal lines of each
account and day; a trigger ``AFTER INSERT ON journal_lines`` adds every new line to it (lines
are never updated nor deleted), so the trial balance and the opening balances read 5 851 rows
instead of 114 606 lines at 1 000 members (``accounting.ledger.account_days``). The table is
filled from the lines already there, in the same transaction as the trigger's creation.
"""

import sqlalchemy as sa
from alembic import op

from accounting.db import Money
from accounting.ledger.account_days import FILL, trigger_statements

revision = "0019_balances16c"
down_revision = "0018_pages16b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_days",
        sa.Column("account", sa.String(20), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("debit", Money(), nullable=False),
        sa.Column("credit", Money(), nullable=False),
        sqlite_with_rowid=False,
    )
    dialect = op.get_bind().dialect.name
    for statement in trigger_statements(dialect):
        op.execute(sa.text(statement))
    op.execute(sa.text(FILL))
    if dialect == "postgresql":
        op.execute(sa.text("ANALYZE account_days"))


def downgrade() -> None:
    op.execute(sa.text("DROP TRIGGER IF EXISTS trg_journal_lines_account_days"
                       + (" ON journal_lines" if op.get_bind().dialect.name == "postgresql"
                          else "")))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("DROP FUNCTION IF EXISTS journal_lines_account_days()"))
    op.drop_table("account_days")
