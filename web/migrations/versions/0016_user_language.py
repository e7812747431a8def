"""the language a user chose

Revision ID: 5c8e1f3a7d24
Revises: 4e1c7a9d2b60
Create Date: 2026-11-25 17:10:00.000000

A nullable column: every existing account keeps following its browser's language.
"""

import sqlalchemy as sa
from alembic import op

revision = "5c8e1f3a7d24"
down_revision = "4e1c7a9d2b60"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ has it): a batch operation would
    # copy the users table, which SQLite refuses while images and comments point at it.
    op.drop_column("users", "language")
