"""background jobs

Revision ID: 4e1c7a9d2b60
Revises: 9b5f2e8a1c37
Create Date: 2026-11-25 17:00:00.000000

The jobs table: long work (a reset, a user's removal, a bulk delete) done outside the
request, with its progress, result and a heartbeat that tells a dead runner's job.
"""

import sqlalchemy as sa
from alembic import op

revision = "4e1c7a9d2b60"
down_revision = "9b5f2e8a1c37"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("started_by", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["started_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_state_heartbeat", ["state", "heartbeat_at"], unique=False)
        batch_op.create_index("ix_jobs_started_by_id", ["started_by_id"], unique=False)


def downgrade() -> None:
    # Dropping the table drops its indexes; MySQL refuses to drop an index that backs
    # a foreign key on its own.
    op.drop_table("jobs")
