"""albums

Revision ID: 9c4f2e6b1d37
Revises: 6a2d94c7e1b3
Create Date: 2026-11-25 14:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "9c4f2e6b1d37"
down_revision = "6a2d94c7e1b3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "albums",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("cover_image_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["cover_image_id"], ["images.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("albums", schema=None) as batch_op:
        batch_op.create_index("ix_albums_owner_id", ["owner_id", "id"], unique=False)
    op.create_table(
        "album_images",
        sa.Column("album_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["album_id"], ["albums.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("album_id", "image_id"),
    )
    with op.batch_alter_table("album_images", schema=None) as batch_op:
        batch_op.create_index("ix_album_images_image_id", ["image_id"], unique=False)


def downgrade() -> None:
    op.drop_table("album_images")
    op.drop_table("albums")
