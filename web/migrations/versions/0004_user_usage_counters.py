"""user usage counters

Revision ID: 5d66fb963ae5
Revises: bac23802606c
Create Date: 2026-11-25 04:05:21.859460
"""

from alembic import op
import sqlalchemy as sa


revision = "5d66fb963ae5"
down_revision = "bac23802606c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("image_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("bytes_used", sa.BigInteger(), server_default="0", nullable=False)
        )

    # Existing users: count their visible images once.
    op.execute(
        "UPDATE users SET "
        "image_count = (SELECT COUNT(*) FROM images WHERE images.owner_id = users.id "
        "AND images.state IN ('ready', 'moving')), "
        "bytes_used = (SELECT COALESCE(SUM(size), 0) FROM images WHERE images.owner_id = users.id "
        "AND images.state IN ('ready', 'moving'))"
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("bytes_used")
        batch_op.drop_column("image_count")
