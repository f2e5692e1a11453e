"""emergency tracking: per-station board rows, emergency life cycle and CAP fields, upstream sources

Revision ID: 0006_emergency_tracking
Revises: 0005_user_scope
Create Date: 2026-11-24 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.db.types

revision: str = "0006_emergency_tracking"
down_revision: str | None = "0005_user_scope"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = scheduler.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("last_used_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("emergency") as batch:
        batch.add_column(sa.Column("state", sa.String(length=12), nullable=False, server_default="dang_chay"))
        batch.add_column(sa.Column("origin", sa.String(length=10), nullable=False, server_default="web"))
        batch.add_column(sa.Column("full_volume", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("expires_minutes", sa.Integer(), nullable=False, server_default="15"))
        batch.add_column(sa.Column("airings", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("started_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("released_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("held_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("source_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("cap_identifier", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("cap_sender", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("cap_xml", sa.Text(), nullable=True))
        batch.create_foreign_key("fk_emergency_released_by", "app_user", ["released_by_id"], ["id"])
        batch.create_foreign_key("fk_emergency_source", "source", ["source_id"], ["id"], ondelete="SET NULL")
    # Emergencies stored before: they started when created; a cancelled one says so.
    op.execute("UPDATE emergency SET started_at = created_at")
    op.execute("UPDATE emergency SET state = 'da_huy' WHERE cancelled_at IS NOT NULL")
    with op.batch_alter_table("programme_item") as batch:
        batch.add_column(sa.Column("emergency_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_programme_item_emergency", "emergency", ["emergency_id"], ["id"],
                                 ondelete="SET NULL")
    op.create_table(
        "emergency_station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("emergency_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("station_code", sa.String(length=40), nullable=False),
        sa.Column("commune", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("airing", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.Column("received_at", UTC_TIME, nullable=True),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["emergency_id"], ["emergency.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["station_id"], ["station.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("emergency_id", "station_code"),
    )
    op.create_index("ix_emergency_station_station", "emergency_station", ["station_id", "emergency_id"])


def downgrade() -> None:
    op.drop_index("ix_emergency_station_station", table_name="emergency_station")
    op.drop_table("emergency_station")
    with op.batch_alter_table("programme_item") as batch:
        batch.drop_constraint("fk_programme_item_emergency", type_="foreignkey")
        batch.drop_column("emergency_id")
    with op.batch_alter_table("emergency") as batch:
        batch.drop_constraint("fk_emergency_source", type_="foreignkey")
        batch.drop_constraint("fk_emergency_released_by", type_="foreignkey")
        for column in ("cap_xml", "cap_sender", "cap_identifier", "source_id", "held_at", "released_by_id",
                       "started_at", "airings", "expires_minutes", "full_volume", "origin", "state"):
            batch.drop_column(column)
    op.drop_table("source")
