"""allocation: costs and subsidies, agreed keys, stored allocation runs and their lines.

Revision ID: 0003_allocation
Revises: 0002_timesheets
"""

import sqlalchemy as sa
from alembic import op

import accounting.db

revision = "0003_allocation"
down_revision = "0002_timesheets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('allocation_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.Column('agreed_on', sa.Date(), nullable=True),
    sa.Column('agreed_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', accounting.db.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_allocation_keys_created_by_id_users')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_allocation_keys_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation_keys')),
    sa.UniqueConstraint('service_id', 'valid_from', name=op.f('uq_allocation_keys_service_id'))
    )
    op.create_table('costs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('amount', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('account', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('attachment_name', sa.String(length=200), nullable=False),
    sa.Column('import_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', accounting.db.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_costs_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_costs_created_by_id_users')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_costs_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_costs')),
    sa.UniqueConstraint('import_key', name=op.f('uq_costs_import_key'))
    )
    op.create_index('ix_costs_service_day', 'costs', ['service_id', 'day', 'amount'], unique=False)
    op.create_table('subsidies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('amount', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('account', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('attachment_name', sa.String(length=200), nullable=False),
    sa.Column('import_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', accounting.db.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_subsidies_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_subsidies_created_by_id_users')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_subsidies_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subsidies')),
    sa.UniqueConstraint('import_key', name=op.f('uq_subsidies_import_key'))
    )
    op.create_index('ix_subsidies_service_day', 'subsidies', ['service_id', 'day', 'amount'], unique=False)
    op.create_table('allocation_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', accounting.db.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', accounting.db.UTCDateTime(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'approved') = (approved_at IS NOT NULL)", name=op.f('ck_allocation_runs_approved_at')),
    sa.CheckConstraint("status IN ('stored', 'approved')", name=op.f('ck_allocation_runs_status')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_allocation_runs_approved_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_allocation_runs_created_by_id_users')),
    sa.ForeignKeyConstraint(['period_id'], ['periods.id'], name=op.f('fk_allocation_runs_period_id_periods')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation_runs'))
    )
    op.create_index('ix_allocation_runs_period', 'allocation_runs', ['period_id', 'status'], unique=False)
    op.create_table('allocation_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('amount', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('exact', sa.String(length=200), nullable=False),
    sa.Column('adjustment', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.CheckConstraint('adjustment >= 0', name=op.f('ck_allocation_lines_adjustment_positive')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_allocation_lines_member_id_members')),
    sa.ForeignKeyConstraint(['run_id'], ['allocation_runs.id'], name=op.f('fk_allocation_lines_run_id_allocation_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_allocation_lines_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation_lines')),
    sa.UniqueConstraint('run_id', 'service_id', 'member_id', name=op.f('uq_allocation_lines_run_id'))
    )
    op.create_index('ix_allocation_lines_member', 'allocation_lines', ['member_id', 'run_id'], unique=False)
    op.create_table('allocation_run_services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=True),
    sa.Column('key_text', sa.String(length=1000), nullable=False),
    sa.Column('costs', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('subsidies', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('overheads', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('pool', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.CheckConstraint('pool = costs - subsidies + overheads', name=op.f('ck_allocation_run_services_pool_sum')),
    sa.ForeignKeyConstraint(['key_id'], ['allocation_keys.id'], name=op.f('fk_allocation_run_services_key_id_allocation_keys')),
    sa.ForeignKeyConstraint(['period_id'], ['periods.id'], name=op.f('fk_allocation_run_services_period_id_periods')),
    sa.ForeignKeyConstraint(['run_id'], ['allocation_runs.id'], name=op.f('fk_allocation_run_services_run_id_allocation_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_allocation_run_services_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation_run_services')),
    sa.UniqueConstraint('run_id', 'service_id', name=op.f('uq_allocation_run_services_run_id'))
    )
    op.create_index('uq_allocation_run_services_approved', 'allocation_run_services', ['period_id', 'service_id'], unique=True, sqlite_where=sa.text('approved'), postgresql_where=sa.text('approved'))


def downgrade() -> None:
    op.drop_index("uq_allocation_run_services_approved", table_name="allocation_run_services")
    op.drop_table("allocation_run_services")
    op.drop_index("ix_allocation_lines_member", table_name="allocation_lines")
    op.drop_table("allocation_lines")
    op.drop_index("ix_allocation_runs_period", table_name="allocation_runs")
    op.drop_table("allocation_runs")
    op.drop_index("ix_subsidies_service_day", table_name="subsidies")
    op.drop_table("subsidies")
    op.drop_index("ix_costs_service_day", table_name="costs")
    op.drop_table("costs")
    op.drop_table("allocation_keys")
