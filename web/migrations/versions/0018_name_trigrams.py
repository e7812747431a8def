"""the index of names a gallery's search uses

Revision ID: 3f7a2c9e5d18
Revises: 9b3d6f2a8c41
Create Date: 2026-11-25 21:10:00.000000

Every three-character part of each image's name, as the database's ``lower()`` folds
it (images/names.py keeps it from now on). Existing images are indexed here, a few
thousand a statement.
"""

import sqlalchemy as sa
from alembic import op

revision = "3f7a2c9e5d18"
down_revision = "9b3d6f2a8c41"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    gram = sa.String(length=3).with_variant(
        sa.String(length=3, collation="utf8mb4_bin"), "mysql", "mariadb"
    )
    columns = (
        sa.Column("gram", gram, nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
    )
    bind = op.get_bind()
    if sa.inspect(bind).has_table("name_trigrams"):
        # MySQL commits DDL at once: a run stopped while filling left the table; fill again
        trigrams = sa.table("name_trigrams", *(sa.column(c.name) for c in columns))
        bind.execute(trigrams.delete())
    else:
        trigrams = op.create_table(
            "name_trigrams",
            *columns,
            sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("gram", "image_id"),
        )
        op.create_index("ix_name_trigrams_image_id", "name_trigrams", ["image_id"], unique=False)
    images = sa.table("images", sa.column("id", sa.Integer), sa.column("filename", sa.String))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(images.c.id, sa.func.lower(images.c.filename))
            .where(images.c.id > last)
            .order_by(images.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = [
            {"gram": gram, "image_id": image_id}
            for image_id, name in rows
            for gram in {name[i : i + 3] for i in range(len(name) - 2)}
        ]
        if values:
            bind.execute(trigrams.insert(), values)
        last = rows[-1][0]


def downgrade() -> None:
    # Dropping the table drops its indexes; MySQL refuses to drop an index that backs
    # a foreign key on its own.
    op.drop_table("name_trigrams")
