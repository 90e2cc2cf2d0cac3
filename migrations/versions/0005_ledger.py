"""ledger: chart of accounts, journals, validated journal entries and their lines, number
series, and the saved rules of the FEC cost import.

Revision ID: 0005_ledger
Revises: 0004_invoices

Entries balance and never change, in the database too: on PostgreSQL a DEFERRABLE INITIALLY
DEFERRED constraint trigger sums the lines of every entry touched by a transaction at commit,
and triggers refuse UPDATE and DELETE of entries and lines (SQLite: the refusals only, it has
no deferred triggers). The statements are a copy of those in ``accounting.ledger.models`` at
the time of this revision.
"""

import sqlalchemy as sa
from alembic import op

import accounting.db

revision = "0005_ledger"
down_revision = "0004_invoices"
branch_labels = None
depends_on = None

POSTGRESQL_TRIGGERS = [
    "\nCREATE OR REPLACE FUNCTION journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE\n  target integer;\n  total_debit numeric;\n  total_credit numeric;\n  line_count integer;\nBEGIN\n  IF TG_TABLE_NAME = 'journal_entries' THEN\n    target := NEW.id;\n  ELSIF TG_OP = 'DELETE' THEN\n    target := OLD.entry_id;\n  ELSE\n    target := NEW.entry_id;\n  END IF;\n  IF NOT EXISTS (SELECT 1 FROM journal_entries WHERE id = target) THEN\n    RETURN NULL;\n  END IF;\n  SELECT COALESCE(SUM(debit), 0), COALESCE(SUM(credit), 0), COUNT(*)\n    INTO total_debit, total_credit, line_count\n    FROM journal_lines WHERE entry_id = target;\n  IF line_count < 2 OR total_debit <> total_credit THEN\n    RAISE EXCEPTION 'journal entry % is not balanced: % lines, debit %, credit %',\n      target, line_count, total_debit, total_credit\n      USING ERRCODE = 'check_violation';\n  END IF;\n  RETURN NULL;\nEND $$",
    "\nCREATE OR REPLACE FUNCTION journal_immutable() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  RAISE EXCEPTION '% of a validated journal entry refused: post a correcting entry', TG_OP\n    USING ERRCODE = 'integrity_constraint_violation';\nEND $$",
    'DROP TRIGGER IF EXISTS trg_journal_lines_balanced ON journal_lines',
    'CREATE CONSTRAINT TRIGGER trg_journal_lines_balanced AFTER INSERT OR UPDATE OR DELETE ON journal_lines DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced()',
    'DROP TRIGGER IF EXISTS trg_journal_entries_balanced ON journal_entries',
    'CREATE CONSTRAINT TRIGGER trg_journal_entries_balanced AFTER INSERT ON journal_entries DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced()',
    'DROP TRIGGER IF EXISTS trg_journal_entries_immutable ON journal_entries',
    'CREATE TRIGGER trg_journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries FOR EACH ROW EXECUTE FUNCTION journal_immutable()',
    'DROP TRIGGER IF EXISTS trg_journal_lines_immutable ON journal_lines',
    'CREATE TRIGGER trg_journal_lines_immutable BEFORE UPDATE OR DELETE ON journal_lines FOR EACH ROW EXECUTE FUNCTION journal_immutable()',
]

SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS trg_journal_entries_no_update BEFORE UPDATE ON journal_entries BEGIN SELECT RAISE(ABORT, 'UPDATE of a validated journal entry refused'); END",
    "CREATE TRIGGER IF NOT EXISTS trg_journal_entries_no_delete BEFORE DELETE ON journal_entries BEGIN SELECT RAISE(ABORT, 'DELETE of a validated journal entry refused'); END",
    "CREATE TRIGGER IF NOT EXISTS trg_journal_lines_no_update BEFORE UPDATE ON journal_lines BEGIN SELECT RAISE(ABORT, 'UPDATE of a validated journal entry refused'); END",
    "CREATE TRIGGER IF NOT EXISTS trg_journal_lines_no_delete BEFORE DELETE ON journal_lines BEGIN SELECT RAISE(ABORT, 'DELETE of a validated journal entry refused'); END",
]

JOURNALS = [
    {"code": "VT", "label": "Ventes"},
    {"code": "BQ", "label": "Banque"},
    {"code": "HA", "label": "Achats"},
    {"code": "OD", "label": "Opérations diverses"},
]


def upgrade() -> None:
    op.create_table('journals',
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_journals'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_accounts_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('number', name=op.f('uq_accounts_number'))
    )
    op.create_table('fec_cost_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('pattern', sa.String(length=50), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('account', 'analytic')", name=op.f('ck_fec_cost_rules_kind')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_fec_cost_rules_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fec_cost_rules')),
    sa.UniqueConstraint('kind', 'pattern', name=op.f('uq_fec_cost_rules_kind'))
    )
    op.create_table('journal_sequences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journal_code', sa.String(length=10), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_number >= 0', name=op.f('ck_journal_sequences_last_number')),
    sa.ForeignKeyConstraint(['journal_code'], ['journals.code'], name=op.f('fk_journal_sequences_journal_code_journals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_sequences')),
    sa.UniqueConstraint('journal_code', 'year', name=op.f('uq_journal_sequences_journal_code'))
    )
    op.create_table('journal_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journal_code', sa.String(length=10), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('piece_ref', sa.String(length=100), nullable=False),
    sa.Column('piece_date', sa.Date(), nullable=False),
    sa.Column('source_type', sa.String(length=20), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('validated_at', accounting.db.UTCDateTime(), nullable=False),
    sa.Column('validated_by', sa.String(length=200), nullable=False),
    sa.CheckConstraint('number > 0', name=op.f('ck_journal_entries_number_positive')),
    sa.ForeignKeyConstraint(['journal_code'], ['journals.code'], name=op.f('fk_journal_entries_journal_code_journals')),
    sa.ForeignKeyConstraint(['reverses_id'], ['journal_entries.id'], name=op.f('fk_journal_entries_reverses_id_journal_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entries')),
    sa.UniqueConstraint('journal_code', 'year', 'number', name='uq_journal_entries_number')
    )
    op.create_index('ix_journal_entries_date', 'journal_entries', ['entry_date'], unique=False)
    op.create_index('ix_journal_entries_source', 'journal_entries', ['source_type', 'source_id'], unique=False)
    op.create_table('journal_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=20), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('debit', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('credit', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.CheckConstraint('(debit > 0 AND credit = 0) OR (debit = 0 AND credit > 0)', name=op.f('ck_journal_lines_debit_xor_credit')),
    sa.CheckConstraint('debit >= 0 AND credit >= 0', name=op.f('ck_journal_lines_amounts_positive')),
    sa.ForeignKeyConstraint(['account'], ['accounts.number'], name=op.f('fk_journal_lines_account_accounts')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_journal_lines_entry_id_journal_entries')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_journal_lines_member_id_members')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_journal_lines_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_lines')),
    sa.UniqueConstraint('entry_id', 'position', name=op.f('uq_journal_lines_entry_id'))
    )
    op.create_index('ix_journal_lines_account', 'journal_lines', ['account', 'entry_date'], unique=False)
    op.create_index('ix_journal_lines_member', 'journal_lines', ['member_id', 'entry_date'], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)
    journals = sa.table("journals", sa.column("code", sa.String), sa.column("label", sa.String))
    op.bulk_insert(journals, JOURNALS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, trigger in (
            ("journal_lines", "trg_journal_lines_immutable"),
            ("journal_entries", "trg_journal_entries_immutable"),
            ("journal_lines", "trg_journal_lines_balanced"),
            ("journal_entries", "trg_journal_entries_balanced"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS journal_immutable()")
        op.execute("DROP FUNCTION IF EXISTS journal_entry_balanced()")
    op.drop_index("ix_journal_lines_member", table_name="journal_lines")
    op.drop_index("ix_journal_lines_account", table_name="journal_lines")
    op.drop_table("journal_lines")
    op.drop_index("ix_journal_entries_source", table_name="journal_entries")
    op.drop_index("ix_journal_entries_date", table_name="journal_entries")
    op.drop_table("journal_entries")
    op.drop_table("journal_sequences")
    op.drop_table("fec_cost_rules")
    op.drop_table("accounts")
    op.drop_table("journals")
