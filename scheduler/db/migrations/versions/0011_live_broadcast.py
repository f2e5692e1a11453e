"""live broadcasts (Phát trực tiếp): who spoke to which stations, when, and the recording

Revision ID: 0011_live_broadcast
Revises: 0010_api_consumers
Create Date: 2026-12-02 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.db.types

revision: str = "0011_live_broadcast"
down_revision: str | None = "0010_api_consumers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = scheduler.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "live_broadcast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("stations", sa.JSON(), nullable=False),
        sa.Column("mount", sa.String(length=120), nullable=False),
        sa.Column("stream_url", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("end_reason", sa.String(length=300), nullable=False),
        sa.Column("recording_file", sa.String(length=255), nullable=True),
        sa.Column("received_bytes", sa.BigInteger(), nullable=False),
        sa.Column("announced_at", UTC_TIME, nullable=True),
        sa.Column("last_chunk_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(["started_by_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_live_broadcast_state", "live_broadcast", ["state"])


def downgrade() -> None:
    op.drop_index("ix_live_broadcast_state", table_name="live_broadcast")
    op.drop_table("live_broadcast")
