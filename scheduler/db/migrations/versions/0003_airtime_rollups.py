"""airtime roll-ups: daily report figures, their daily/monthly summaries, missed items, rolled-up days

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import scheduler.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _big_id() -> sa.Column[Any]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def _figures() -> list[sa.Column[Any]]:
    return [
        sa.Column("station_code", sa.String(length=40), nullable=False),
        sa.Column("commune", sa.String(length=120), nullable=False),
        sa.Column("area", sa.String(length=120), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("planned_items", sa.Integer(), nullable=False),
        sa.Column("planned_ms", sa.BigInteger(), nullable=False),
        sa.Column("aired_items", sa.Integer(), nullable=False),
        sa.Column("aired_ms", sa.BigInteger(), nullable=False),
        sa.Column("missed_items", sa.Integer(), nullable=False),
        sa.Column("emergency_items", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "airtime_daily",
        _big_id(),
        sa.Column("day", sa.Date(), nullable=False),
        *_figures(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_airtime_daily_day_commune", "airtime_daily", ["day", "commune"])
    op.create_index("ix_airtime_daily_station_day", "airtime_daily", ["station_code", "day"])
    op.create_table(
        "airtime_summary",
        _big_id(),
        sa.Column("grain", sa.String(length=5), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("commune", sa.String(length=120), nullable=False),
        sa.Column("area", sa.String(length=120), nullable=False),
        sa.Column("dimension", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        *_figures()[8:],
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_airtime_summary_grain_start", "airtime_summary", ["grain", "start", "dimension", "commune"])
    op.create_table(
        "airtime_missed",
        _big_id(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("station_code", sa.String(length=40), nullable=False),
        sa.Column("commune", sa.String(length=120), nullable=False),
        sa.Column("area", sa.String(length=120), nullable=False),
        sa.Column("scheduled_start", scheduler.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("bulletin_code", sa.String(length=40), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("planned_ms", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_airtime_missed_day", "airtime_missed", ["day", "scheduled_start"])
    op.create_table(
        "airtime_rollup_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("computed_at", scheduler.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("play_log_watermark", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    # A day's items and plays across all stations: what a roll-up (and today's live figures) reads.
    op.create_index("ix_programme_item_start", "programme_item", ["start"])
    op.create_index("ix_play_log_actual_start", "play_log", ["actual_start"])


def downgrade() -> None:
    op.drop_index("ix_play_log_actual_start", table_name="play_log")
    op.drop_index("ix_programme_item_start", table_name="programme_item")
    op.drop_table("airtime_rollup_day")
    op.drop_index("ix_airtime_missed_day", table_name="airtime_missed")
    op.drop_table("airtime_missed")
    op.drop_index("ix_airtime_summary_grain_start", table_name="airtime_summary")
    op.drop_table("airtime_summary")
    op.drop_index("ix_airtime_daily_station_day", table_name="airtime_daily")
    op.drop_index("ix_airtime_daily_day_commune", table_name="airtime_daily")
    op.drop_table("airtime_daily")
