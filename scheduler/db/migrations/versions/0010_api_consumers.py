"""api consumers: per-consumer keys and scopes of the open read API

Revision ID: 0010_api_consumers
Revises: 0009_remote_care
Create Date: 2026-12-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.db.types

revision: str = "0010_api_consumers"
down_revision: str | None = "0009_remote_care"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = scheduler.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_consumer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("last_used_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_api_consumer_key_hash", "api_consumer", ["key_hash"])


def downgrade() -> None:
    op.drop_index("ix_api_consumer_key_hash", table_name="api_consumer")
    op.drop_table("api_consumer")
