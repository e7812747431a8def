"""the format of each image's preview

Revision ID: 9b3d6f2a8c41
Revises: 5c8e1f3a7d24
Create Date: 2026-11-25 20:20:00.000000

Every preview made so far is a WebP: existing rows say so, and the key of an image's
preview follows this column (``.previews/<image id>.webp`` or ``.avif``).
"""

import sqlalchemy as sa
from alembic import op

revision = "9b3d6f2a8c41"
down_revision = "5c8e1f3a7d24"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "images",
        sa.Column("preview_format", sa.String(length=4), nullable=False, server_default="webp"),
    )


def downgrade() -> None:
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ has it), as 0016 does.
    op.drop_column("images", "preview_format")
