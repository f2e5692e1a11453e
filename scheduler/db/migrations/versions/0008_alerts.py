"""alerts to people: rules, recipients, alert occurrences

Revision ID: 0008_alerts
Revises: 0007_content_from_above
Create Date: 2026-12-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.db.types

revision: str = "0008_alerts"
down_revision: str | None = "0007_content_from_above"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = scheduler.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_rule",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("kind"),
    )
    op.create_table(
        "alert_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("webhook_format", sa.String(length=10), nullable=False),
        sa.Column("chat_id", sa.String(length=120), nullable=True),
        sa.Column("secret", sa.String(length=500), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("commune_id", sa.Integer(), nullable=True),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("daily_summary", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["commune_id"], ["commune.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("station_code", sa.String(length=40), nullable=False),
        sa.Column("commune", sa.String(length=120), nullable=False),
        sa.Column("area", sa.String(length=120), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("opened_at", UTC_TIME, nullable=False),
        sa.Column("closed_at", UTC_TIME, nullable=True),
        sa.Column("sent", sa.JSON(), nullable=False),
        sa.Column("recovery_sent", sa.JSON(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["station.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_key_open", "alert", ["key", "closed_at"])
    op.create_index("ix_alert_opened", "alert", ["opened_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_opened", table_name="alert")
    op.drop_index("ix_alert_key_open", table_name="alert")
    op.drop_table("alert")
    op.drop_table("alert_recipient")
    op.drop_table("alert_rule")
