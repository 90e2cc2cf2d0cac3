"""timesheets: covering indexes of work entries (by day for the list and its totals, by staff
and day with the minutes for the 24 h rule), and the saved mappings of other tools' exports
(Kimai customers, projects, activities, users).

Revision ID: 0002_timesheets
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_timesheets"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("external", sa.String(length=400), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('customer', 'project', 'activity', 'user')",
            name=op.f("ck_import_mappings_kind"),
        ),
        sa.CheckConstraint(
            "kind = 'customer' OR target_id IS NOT NULL", name=op.f("ck_import_mappings_target")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_mappings")),
        sa.UniqueConstraint(
            "source", "kind", "external", name=op.f("uq_import_mappings_source")
        ),
    )
    with op.batch_alter_table("work_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_entries_day",
            [
                "day",
                "status",
                "staff_id",
                "member_id",
                "service_id",
                "activity_id",
                "unit_type_id",
                "minutes",
                "quantity",
            ],
            unique=False,
        )
        batch_op.drop_index("ix_work_entries_staff_day")
        batch_op.create_index(
            "ix_work_entries_staff_day", ["staff_id", "day", "minutes"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("work_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_work_entries_staff_day")
        batch_op.create_index("ix_work_entries_staff_day", ["staff_id", "day"], unique=False)
        batch_op.drop_index("ix_work_entries_day")
    op.drop_table("import_mappings")
