"""play ids are unique per station, not across all stations

A play id is made on the station; two stations may (in principle, or through a copied SD card) use the
same one. The unique key becomes (station_id, play_id), so station B's row is stored beside station A's
instead of being taken for a duplicate and dropped.

Revision ID: 0013_play_id_per_station
Revises: 0012_four_eyes_logout
Create Date: 2026-12-02 15:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_play_id_per_station"
down_revision: str | None = "0012_four_eyes_logout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite keeps the first schema's unique constraint unnamed; the convention names it while the table is copied.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_constraint() -> str:
    return "play_log_play_id_key" if op.get_bind().dialect.name == "postgresql" else "uq_play_log_play_id"


def upgrade() -> None:
    with op.batch_alter_table("play_log", naming_convention=NAMING, recreate="auto") as batch:
        batch.drop_constraint(_old_constraint(), type_="unique")
        batch.create_unique_constraint("uq_play_log_station_play", ["station_id", "play_id"])


def downgrade() -> None:
    with op.batch_alter_table("play_log", naming_convention=NAMING, recreate="auto") as batch:
        batch.drop_constraint("uq_play_log_station_play", type_="unique")
        batch.create_unique_constraint(_old_constraint(), ["play_id"])
