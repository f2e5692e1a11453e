"""user scope: an account may be tied to one area (former district) as well as to one commune

Revision ID: 0005_user_scope
Revises: 0004_programme_inputs_hash
Create Date: 2026-11-23 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_user_scope"
down_revision: str | None = "0004_programme_inputs_hash"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("area_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_app_user_area_id_area", "area", ["area_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_constraint("fk_app_user_area_id_area", type_="foreignkey")
        batch.drop_column("area_id")
