"""storage quotas

Revision ID: 1254a4232f2e
Revises: 8f1c2a7d9e04
Create Date: 2026-11-25 14:35:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "1254a4232f2e"
down_revision = "8f1c2a7d9e04"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # quota_mb NULL and quota_unlimited false: the user follows DEFAULT_QUOTA_MB.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quota_mb", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("quota_unlimited", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("quota_unlimited")
        batch_op.drop_column("quota_mb")
