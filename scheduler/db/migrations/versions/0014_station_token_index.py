"""index on station.token_hash

Every station API call finds its station by the hash of its bearer token. Without an index that is a
scan of the whole station table (3 ms for 10,000 stations on PostgreSQL, twice per programme change
per station: the manifest fetch and the acknowledgement).

Revision ID: 0014_station_token_index
Revises: 0013_play_id_per_station
Create Date: 2026-12-02 17:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_station_token_index"
down_revision: str | None = "0013_play_id_per_station"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_station_token_hash", "station", ["token_hash"])


def downgrade() -> None:
    op.drop_index("ix_station_token_hash", table_name="station")
