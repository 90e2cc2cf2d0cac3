"""foundation

Revision ID: 0001_foundation
Revises: 
Create Date: 2026-11-26 12:59:16.378746
"""

import sqlalchemy as sa
from alembic import op

import accounting.db

revision = '0001_foundation'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('legal_form', sa.String(length=100), nullable=False),
    sa.Column('siret', sa.String(length=14), nullable=True),
    sa.Column('vat_number', sa.String(length=20), nullable=True),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('billing_email', sa.String(length=200), nullable=True),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.CheckConstraint('left_on IS NULL OR left_on >= joined_on', name=op.f('ck_members_membership_dates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('code', name=op.f('uq_members_code'))
    )
    op.create_table('services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('revenue_account', sa.String(length=20), nullable=False),
    sa.Column('expense_account', sa.String(length=20), nullable=False),
    sa.Column('overheads_by', sa.String(length=10), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("overheads_by IS NULL OR overheads_by IN ('costs', 'hours')", name=op.f('ck_services_overheads_by')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('code', name=op.f('uq_services_code'))
    )
    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_activities_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities')),
    sa.UniqueConstraint('service_id', 'name', name=op.f('uq_activities_service_id'))
    )
    op.create_table('carriers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('siren', sa.String(length=9), nullable=True),
    sa.Column('siret', sa.String(length=14), nullable=True),
    sa.Column('vat_number', sa.String(length=20), nullable=True),
    sa.Column('iban', sa.String(length=34), nullable=True),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('vat_regime', sa.String(length=20), nullable=False),
    sa.Column('vat_exemption_mention', sa.String(length=300), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('late_penalty_rate', accounting.db.ScaledDecimal(places=2, precision=14), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('payment_terms_days BETWEEN 0 AND 60', name=op.f('ck_carriers_payment_terms')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_carriers_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carriers'))
    )
    op.create_table('member_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('revenue', accounting.db.ScaledDecimal(places=2, precision=14), nullable=True),
    sa.Column('headcount', accounting.db.ScaledDecimal(places=3, precision=14), nullable=True),
    sa.Column('insertion_workers', sa.Integer(), nullable=True),
    sa.Column('volunteers', sa.Integer(), nullable=True),
    sa.CheckConstraint('headcount IS NULL OR headcount >= 0', name=op.f('ck_member_figures_headcount_positive')),
    sa.CheckConstraint('revenue IS NULL OR revenue >= 0', name=op.f('ck_member_figures_revenue_positive')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_figures_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_figures')),
    sa.UniqueConstraint('member_id', 'year', name=op.f('uq_member_figures_member_id'))
    )
    op.create_table('unit_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('weight', accounting.db.ScaledDecimal(places=3, precision=14), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('weight > 0', name=op.f('ck_unit_types_weight_positive')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_unit_types_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_types')),
    sa.UniqueConstraint('service_id', 'name', name=op.f('uq_unit_types_service_id'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.String(length=200), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', accounting.db.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', accounting.db.UTCDateTime(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', accounting.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_users_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', accounting.db.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('object_type', sa.String(length=50), nullable=False),
    sa.Column('object_id', sa.String(length=50), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id'], unique=False)

    op.create_table('periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('closed_at', accounting.db.UTCDateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('month', 'quarter', 'year')", name=op.f('ck_periods_kind')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_periods_status')),
    sa.CheckConstraint('start <= "end"', name=op.f('ck_periods_bounds')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_periods_closed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_periods')),
    sa.UniqueConstraint('kind', 'start', name=op.f('uq_periods_kind'))
    )
    op.create_table('work_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=True),
    sa.Column('unit_type_id', sa.Integer(), nullable=True),
    sa.Column('quantity', accounting.db.ScaledDecimal(places=3, precision=14), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=False),
    sa.Column('import_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', accounting.db.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', accounting.db.UTCDateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'approved')", name=op.f('ck_work_entries_status')),
    sa.CheckConstraint('(unit_type_id IS NULL) = (quantity IS NULL)', name=op.f('ck_work_entries_unit_type_with_quantity')),
    sa.CheckConstraint('minutes >= 0 AND minutes <= 1440', name=op.f('ck_work_entries_minutes_range')),
    sa.CheckConstraint('quantity IS NULL OR quantity >= 0', name=op.f('ck_work_entries_quantity_positive')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_work_entries_activity_id_activities')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_work_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_work_entries_member_id_members')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_work_entries_service_id_services')),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], name=op.f('fk_work_entries_staff_id_users')),
    sa.ForeignKeyConstraint(['unit_type_id'], ['unit_types.id'], name=op.f('fk_work_entries_unit_type_id_unit_types')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_work_entries_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_entries')),
    sa.UniqueConstraint('import_key', name=op.f('uq_work_entries_import_key'))
    )
    with op.batch_alter_table('work_entries', schema=None) as batch_op:
        batch_op.create_index('ix_work_entries_member_day', ['member_id', 'day'], unique=False)
        batch_op.create_index('ix_work_entries_service_day', ['service_id', 'day', 'member_id', 'minutes'], unique=False)
        batch_op.create_index('ix_work_entries_staff_day', ['staff_id', 'day'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('work_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_work_entries_staff_day')
        batch_op.drop_index('ix_work_entries_service_day')
        batch_op.drop_index('ix_work_entries_member_day')

    op.drop_table('work_entries')
    op.drop_table('periods')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_object')
        batch_op.drop_index('ix_audit_events_at')

    op.drop_table('audit_events')
    op.drop_table('users')
    op.drop_table('unit_types')
    op.drop_table('member_figures')
    op.drop_table('carriers')
    op.drop_table('activities')
    op.drop_table('services')
    op.drop_table('members')
