"""four eyes on the content, not only the author; logout ends a session on the server

bulletin.content_by_id: who last changed the bulletin's content (its author at first); neither the
author nor that person may approve it. app_user.session_epoch: part of every session's fingerprint;
logging out raises it, so a session cookie copied before the logout no longer works.

Revision ID: 0012_four_eyes_logout
Revises: 0011_live_broadcast
Create Date: 2026-12-02 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_four_eyes_logout"
down_revision: str | None = "0011_live_broadcast"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bulletin") as batch:
        batch.add_column(sa.Column("content_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_bulletin_content_by_id", "app_user", ["content_by_id"], ["id"])
    op.execute("UPDATE bulletin SET content_by_id = author_id")
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("session_epoch")
    with op.batch_alter_table("bulletin") as batch:
        batch.drop_constraint("fk_bulletin_content_by_id", type_="foreignkey")
        batch.drop_column("content_by_id")
