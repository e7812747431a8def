"""album positions and order

Revision ID: 9b5f2e8a1c37
Revises: 7d3a6e9b2c18
Create Date: 2026-11-25 16:45:00.000000

Each album image gets a position (its place when the album is ordered by hand) and each
album an order setting. Existing albums keep the order they showed (newest first) and
their positions are backfilled in that order, so switching to "by hand" starts there.
"""

import sqlalchemy as sa
from alembic import op

revision = "9b5f2e8a1c37"
down_revision = "7d3a6e9b2c18"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("albums", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sort_order", sa.String(length=8), nullable=False, server_default="newest")
        )
    with op.batch_alter_table("album_images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
    # Backfill: 1, 2, 3... per album, newest image (highest id) first.
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT album_id, image_id FROM album_images ORDER BY album_id, image_id DESC")
    ).all()
    place: dict[int, int] = {}
    for album_id, image_id in rows:
        place[album_id] = place.get(album_id, 0) + 1
        bind.execute(
            sa.text("UPDATE album_images SET position = :p WHERE album_id = :a AND image_id = :i"),
            {"p": place[album_id], "a": album_id, "i": image_id},
        )
    with op.batch_alter_table("album_images", schema=None) as batch_op:
        batch_op.create_index(
            "ix_album_images_position", ["album_id", "position", "image_id"], unique=False
        )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+ and MySQL): a batch copy of "albums" on SQLite would
    # drop the old table, and its ON DELETE CASCADE would empty every album.
    op.drop_index("ix_album_images_position", table_name="album_images")
    op.execute("ALTER TABLE album_images DROP COLUMN position")
    op.execute("ALTER TABLE albums DROP COLUMN sort_order")
