"""album share links

Revision ID: 4e8a1c6d2b59
Revises: 2e8b5f0c7a41
Create Date: 2026-11-25 14:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "4e8a1c6d2b59"
down_revision = "2e8b5f0c7a41"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A link shows an image or an album: image_id may now be empty.
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.alter_column("image_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("album_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_share_links_album_id", "albums", ["album_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_index("ix_share_links_album_id", ["album_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM share_links WHERE image_id IS NULL")
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.drop_constraint("fk_share_links_album_id", type_="foreignkey")
        batch_op.drop_index("ix_share_links_album_id")
        batch_op.drop_column("album_id")
        batch_op.alter_column("image_id", existing_type=sa.Integer(), nullable=False)
