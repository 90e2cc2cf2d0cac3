"""user gender: an optional civility, so that titles agree (« Chargée de développement »).

Revision ID: 0014_user_gender
Revises: 0010_corrections

Existing users get none: their titles stay as they were.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_user_gender"
down_revision = "0013_facturx"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("gender", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("gender")
