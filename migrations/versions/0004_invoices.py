"""invoices: invoices and credit notes, their lines, number series, payments, VAT regimes.

Revision ID: 0004_invoices
Revises: 0003_allocation

Issued documents are immutable in the database too: triggers refuse UPDATE (except the payment
state: status, amount_paid, amount_credited) and DELETE of issued invoices and any change to
their lines, on PostgreSQL and on SQLite. The statements are a copy of those in
``accounting.invoicing.models`` at the time of this revision.
"""

import sqlalchemy as sa
from alembic import op

import accounting.db

revision = "0004_invoices"
down_revision = "0003_allocation"
branch_labels = None
depends_on = None

POSTGRESQL_TRIGGERS = [
    "\nCREATE OR REPLACE FUNCTION invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  IF TG_OP = 'DELETE' THEN\n    IF OLD.status <> 'draft' THEN\n      RAISE EXCEPTION 'issued invoice % cannot be deleted', OLD.number\n        USING ERRCODE = 'integrity_constraint_violation';\n    END IF;\n    RETURN OLD;\n  END IF;\n  IF OLD.status <> 'draft' AND (\n       NEW.status = 'draft'\n       OR (to_jsonb(NEW) - ARRAY['amount_credited', 'amount_paid', 'status']) IS DISTINCT FROM\n          (to_jsonb(OLD) - ARRAY['amount_credited', 'amount_paid', 'status'])) THEN\n    RAISE EXCEPTION 'issued invoice % cannot be modified', OLD.number\n      USING ERRCODE = 'integrity_constraint_violation';\n  END IF;\n  RETURN NEW;\nEND $$",
    "\nCREATE OR REPLACE FUNCTION invoice_lines_immutable() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE parent_status text;\nBEGIN\n  IF TG_OP IN ('UPDATE', 'DELETE') THEN\n    SELECT status INTO parent_status FROM invoices WHERE id = OLD.invoice_id;\n    IF parent_status IS NOT NULL AND parent_status <> 'draft' THEN\n      RAISE EXCEPTION 'lines of an issued invoice cannot change'\n        USING ERRCODE = 'integrity_constraint_violation';\n    END IF;\n  END IF;\n  IF TG_OP IN ('INSERT', 'UPDATE') THEN\n    SELECT status INTO parent_status FROM invoices WHERE id = NEW.invoice_id;\n    IF parent_status IS NOT NULL AND parent_status <> 'draft' THEN\n      RAISE EXCEPTION 'lines of an issued invoice cannot change'\n        USING ERRCODE = 'integrity_constraint_violation';\n    END IF;\n    RETURN NEW;\n  END IF;\n  RETURN OLD;\nEND $$",
    'DROP TRIGGER IF EXISTS trg_invoices_immutable ON invoices',
    'CREATE TRIGGER trg_invoices_immutable BEFORE UPDATE OR DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION invoices_immutable()',
    'DROP TRIGGER IF EXISTS trg_invoice_lines_immutable ON invoice_lines',
    'CREATE TRIGGER trg_invoice_lines_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines FOR EACH ROW EXECUTE FUNCTION invoice_lines_immutable()',
]

SQLITE_TRIGGERS = [
    'CREATE TRIGGER IF NOT EXISTS trg_invoices_no_update BEFORE UPDATE ON invoices FOR EACH ROW WHEN OLD.status <> \'draft\' AND (NEW.status = \'draft\' OR NEW."id" IS NOT OLD."id" OR NEW."kind" IS NOT OLD."kind" OR NEW."carrier_id" IS NOT OLD."carrier_id" OR NEW."member_id" IS NOT OLD."member_id" OR NEW."period_id" IS NOT OLD."period_id" OR NEW."original_id" IS NOT OLD."original_id" OR NEW."reason" IS NOT OLD."reason" OR NEW."number" IS NOT OLD."number" OR NEW."year" IS NOT OLD."year" OR NEW."sequence" IS NOT OLD."sequence" OR NEW."issue_date" IS NOT OLD."issue_date" OR NEW."due_date" IS NOT OLD."due_date" OR NEW."service_start" IS NOT OLD."service_start" OR NEW."service_end" IS NOT OLD."service_end" OR NEW."customer_code" IS NOT OLD."customer_code" OR NEW."customer_name" IS NOT OLD."customer_name" OR NEW."customer_address" IS NOT OLD."customer_address" OR NEW."customer_siren" IS NOT OLD."customer_siren" OR NEW."customer_siret" IS NOT OLD."customer_siret" OR NEW."customer_vat_number" IS NOT OLD."customer_vat_number" OR NEW."carrier_name" IS NOT OLD."carrier_name" OR NEW."carrier_address" IS NOT OLD."carrier_address" OR NEW."carrier_siren" IS NOT OLD."carrier_siren" OR NEW."carrier_siret" IS NOT OLD."carrier_siret" OR NEW."carrier_vat_number" IS NOT OLD."carrier_vat_number" OR NEW."carrier_iban" IS NOT OLD."carrier_iban" OR NEW."carrier_bic" IS NOT OLD."carrier_bic" OR NEW."carrier_email" IS NOT OLD."carrier_email" OR NEW."payment_terms_days" IS NOT OLD."payment_terms_days" OR NEW."late_penalty_rate" IS NOT OLD."late_penalty_rate" OR NEW."vat_exemption_mention" IS NOT OLD."vat_exemption_mention" OR NEW."total_excl_tax" IS NOT OLD."total_excl_tax" OR NEW."total_vat" IS NOT OLD."total_vat" OR NEW."total_incl_tax" IS NOT OLD."total_incl_tax" OR NEW."created_at" IS NOT OLD."created_at" OR NEW."issued_at" IS NOT OLD."issued_at" OR NEW."issued_by" IS NOT OLD."issued_by") BEGIN SELECT RAISE(ABORT, \'issued invoice cannot be modified\'); END',
    "CREATE TRIGGER IF NOT EXISTS trg_invoices_no_delete BEFORE DELETE ON invoices FOR EACH ROW WHEN OLD.status <> 'draft' BEGIN SELECT RAISE(ABORT, 'issued invoice cannot be deleted'); END",
    "CREATE TRIGGER IF NOT EXISTS trg_invoice_lines_no_insert BEFORE INSERT ON invoice_lines FOR EACH ROW WHEN (SELECT status FROM invoices WHERE id = NEW.invoice_id) <> 'draft' BEGIN SELECT RAISE(ABORT, 'lines of an issued invoice cannot change'); END",
    "CREATE TRIGGER IF NOT EXISTS trg_invoice_lines_no_update BEFORE UPDATE ON invoice_lines FOR EACH ROW WHEN (SELECT status FROM invoices WHERE id = OLD.invoice_id) <> 'draft' OR (SELECT status FROM invoices WHERE id = NEW.invoice_id) <> 'draft' BEGIN SELECT RAISE(ABORT, 'lines of an issued invoice cannot change'); END",
    "CREATE TRIGGER IF NOT EXISTS trg_invoice_lines_no_delete BEFORE DELETE ON invoice_lines FOR EACH ROW WHEN (SELECT status FROM invoices WHERE id = OLD.invoice_id) <> 'draft' BEGIN SELECT RAISE(ABORT, 'lines of an issued invoice cannot change'); END",
]


def upgrade() -> None:
    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('import_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', accounting.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("method IN ('transfer', 'direct_debit', 'cheque', 'cash', 'other')", name=op.f('ck_payments_method')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payments_amount_positive')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_payments_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('import_key', name=op.f('uq_payments_import_key'))
    )
    op.create_index('ix_payments_member', 'payments', ['member_id', 'paid_on'], unique=False)
    op.create_table('vat_regime_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('regime', sa.String(length=20), nullable=False),
    sa.CheckConstraint("regime IN ('standard', 'exempt_261b')", name=op.f('ck_vat_regime_rules_regime')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_vat_regime_rules_member_id_members')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_vat_regime_rules_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vat_regime_rules')),
    sa.UniqueConstraint('member_id', 'service_id', name=op.f('uq_vat_regime_rules_member_id'))
    )
    op.create_table('invoice_sequences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('carrier_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.Column('last_issued_on', sa.Date(), nullable=True),
    sa.CheckConstraint('last_number >= 0', name=op.f('ck_invoice_sequences_last_number')),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], name=op.f('fk_invoice_sequences_carrier_id_carriers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_sequences')),
    sa.UniqueConstraint('carrier_id', 'year', name=op.f('uq_invoice_sequences_carrier_id'))
    )
    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('carrier_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('original_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=True),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('service_start', sa.Date(), nullable=False),
    sa.Column('service_end', sa.Date(), nullable=False),
    sa.Column('customer_code', sa.String(length=20), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=False),
    sa.Column('customer_address', sa.Text(), nullable=False),
    sa.Column('customer_siren', sa.String(length=9), nullable=True),
    sa.Column('customer_siret', sa.String(length=14), nullable=True),
    sa.Column('customer_vat_number', sa.String(length=20), nullable=True),
    sa.Column('carrier_name', sa.String(length=200), nullable=False),
    sa.Column('carrier_address', sa.Text(), nullable=False),
    sa.Column('carrier_siren', sa.String(length=9), nullable=True),
    sa.Column('carrier_siret', sa.String(length=14), nullable=True),
    sa.Column('carrier_vat_number', sa.String(length=20), nullable=True),
    sa.Column('carrier_iban', sa.String(length=34), nullable=True),
    sa.Column('carrier_bic', sa.String(length=11), nullable=True),
    sa.Column('carrier_email', sa.String(length=200), nullable=True),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('late_penalty_rate', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('vat_exemption_mention', sa.String(length=300), nullable=False),
    sa.Column('total_excl_tax', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('total_vat', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('total_incl_tax', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('amount_paid', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('amount_credited', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('created_at', accounting.db.UTCDateTime(), nullable=False),
    sa.Column('issued_at', accounting.db.UTCDateTime(), nullable=True),
    sa.Column('issued_by', sa.String(length=200), nullable=False),
    sa.CheckConstraint("(kind = 'credit_note') = (original_id IS NOT NULL)", name=op.f('ck_invoices_credit_note_original')),
    sa.CheckConstraint("(status = 'draft') = (number IS NULL)", name=op.f('ck_invoices_number_at_issue')),
    sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name=op.f('ck_invoices_kind')),
    sa.CheckConstraint("status = 'draft' OR (issue_date IS NOT NULL AND due_date IS NOT NULL AND year IS NOT NULL AND sequence IS NOT NULL)", name=op.f('ck_invoices_issued_fields')),
    sa.CheckConstraint("status IN ('draft', 'issued', 'partly_paid', 'paid', 'cancelled')", name=op.f('ck_invoices_status')),
    sa.CheckConstraint('amount_paid >= 0 AND amount_credited >= 0', name=op.f('ck_invoices_settled_positive')),
    sa.CheckConstraint('due_date IS NULL OR due_date >= issue_date', name=op.f('ck_invoices_due_after_issue')),
    sa.CheckConstraint('service_start <= service_end', name=op.f('ck_invoices_service_dates')),
    sa.CheckConstraint('total_incl_tax = total_excl_tax + total_vat', name=op.f('ck_invoices_totals')),
    sa.ForeignKeyConstraint(['carrier_id'], ['carriers.id'], name=op.f('fk_invoices_carrier_id_carriers')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_invoices_member_id_members')),
    sa.ForeignKeyConstraint(['original_id'], ['invoices.id'], name=op.f('fk_invoices_original_id_invoices')),
    sa.ForeignKeyConstraint(['period_id'], ['periods.id'], name=op.f('fk_invoices_period_id_periods')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('carrier_id', 'number', name='uq_invoices_number'),
    sa.UniqueConstraint('carrier_id', 'year', 'sequence', name='uq_invoices_sequence')
    )
    op.create_index('ix_invoices_due', 'invoices', ['status', 'due_date'], unique=False)
    op.create_index('ix_invoices_member', 'invoices', ['member_id', 'status'], unique=False)
    op.create_index('ix_invoices_period', 'invoices', ['period_id', 'kind'], unique=False)
    op.create_table('payment_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('amount', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_allocations_amount_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_payment_allocations_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_allocations_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_allocations')),
    sa.UniqueConstraint('payment_id', 'invoice_id', name=op.f('uq_payment_allocations_payment_id'))
    )
    op.create_index('ix_payment_allocations_invoice', 'payment_allocations', ['invoice_id'], unique=False)
    op.create_table('invoice_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('original_line_id', sa.Integer(), nullable=True),
    sa.Column('allocation_line_id', sa.Integer(), nullable=True),
    sa.Column('designation', sa.Text(), nullable=False),
    sa.Column('revenue_account', sa.String(length=20), nullable=False),
    sa.Column('amount_excl_tax', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('vat_regime', sa.String(length=20), nullable=False),
    sa.Column('vat_rate', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('vat_amount', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('basis', sa.JSON(), nullable=False),
    sa.CheckConstraint("vat_regime IN ('standard', 'exempt_261b')", name=op.f('ck_invoice_lines_vat_regime')),
    sa.CheckConstraint('vat_rate >= 0', name=op.f('ck_invoice_lines_vat_rate')),
    sa.ForeignKeyConstraint(['allocation_line_id'], ['allocation_lines.id'], name=op.f('fk_invoice_lines_allocation_line_id_allocation_lines')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_lines_invoice_id_invoices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['original_line_id'], ['invoice_lines.id'], name=op.f('fk_invoice_lines_original_line_id_invoice_lines')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_invoice_lines_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines')),
    sa.UniqueConstraint('invoice_id', 'position', name=op.f('uq_invoice_lines_invoice_id'))
    )
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_invoice_lines_immutable ON invoice_lines")
        op.execute("DROP TRIGGER IF EXISTS trg_invoices_immutable ON invoices")
        op.execute("DROP FUNCTION IF EXISTS invoice_lines_immutable()")
        op.execute("DROP FUNCTION IF EXISTS invoices_immutable()")
    op.drop_table("invoice_lines")
    op.drop_table("payment_allocations")
    op.drop_index("ix_invoices_period", table_name="invoices")
    op.drop_index("ix_invoices_member", table_name="invoices")
    op.drop_index("ix_invoices_due", table_name="invoices")
    op.drop_table("invoices")
    op.drop_table("invoice_sequences")
    op.drop_table("vat_regime_rules")
    op.drop_index("ix_payments_member", table_name="payments")
    op.drop_table("payments")
