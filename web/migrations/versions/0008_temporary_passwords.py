"""temporary passwords

Revision ID: 6a2d94c7e1b3
Revises: 3b7e5c1a9f20
Create Date: 2026-11-25 14:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "6a2d94c7e1b3"
down_revision = "3b7e5c1a9f20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
