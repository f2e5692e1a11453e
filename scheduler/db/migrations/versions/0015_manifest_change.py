"""manifest_change: the append-only log of changes to what manifest answers depend on

Nodes that answer station polls from memory read it every ~100 ms (scheduler.delivery.poll_cache);
every transaction that changes a station's token, code, commune, activity, its province's time zone or
its programmes adds a row (scheduler.db.changes). No counter row: programme writers never queue on a lock.

Revision ID: 0015_manifest_change
Revises: 0014_station_token_index
Create Date: 2026-12-02 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from scheduler.db.types import UTCDateTime

revision: str = "0015_manifest_change"
down_revision: str | None = "0014_station_token_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "manifest_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tx", sa.BigInteger(), nullable=True),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,  # ids never reused after pruning: readers compare the newest id
    )
    op.create_index("ix_manifest_change_tx", "manifest_change", ["tx"])


def downgrade() -> None:
    op.drop_index("ix_manifest_change_tx", table_name="manifest_change")
    op.drop_table("manifest_change")
