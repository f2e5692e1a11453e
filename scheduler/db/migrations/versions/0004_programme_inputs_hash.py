"""programme.inputs_hash: the digest of the planning inputs a programme was built from

Revision ID: 0004_programme_inputs_hash
Revises: 0003
Create Date: 2026-11-24 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_programme_inputs_hash"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for existing programmes: the watcher rebuilds them once, then records their digest.
    with op.batch_alter_table("programme") as batch:
        batch.add_column(sa.Column("inputs_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("programme") as batch:
        batch.drop_column("inputs_hash")
