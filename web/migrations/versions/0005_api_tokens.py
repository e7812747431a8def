"""api tokens

Revision ID: 8f1c2a7d9e04
Revises: 5d66fb963ae5
Create Date: 2026-11-26 09:12:40.118205
"""

from alembic import op
import sqlalchemy as sa


revision = "8f1c2a7d9e04"
down_revision = "5d66fb963ae5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_api_tokens_user_id", ["user_id", "id"], unique=False)


def downgrade() -> None:
    # Dropping the table drops its indexes; MySQL refuses to drop an index that backs
    # a foreign key on its own.
    op.drop_table("api_tokens")
