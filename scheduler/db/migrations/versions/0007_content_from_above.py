"""content from above (TT 39): commune policy for province bulletins, commune decisions, upstream bulletins

Revision ID: 0007_content_from_above
Revises: 0006_emergency_tracking
Create Date: 2026-12-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import scheduler.db.types

revision: str = "0007_content_from_above"
down_revision: str | None = "0006_emergency_tracking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = scheduler.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Communes stored before keep airing everything from above, as they did.
    with op.batch_alter_table("commune") as batch:
        batch.add_column(sa.Column("upstream_mode", sa.String(length=10), nullable=False, server_default="tu-dong"))
        batch.add_column(sa.Column("upstream_deadline_hours", sa.Integer(), nullable=False, server_default="24"))
        batch.add_column(sa.Column("upstream_default", sa.String(length=10), nullable=False, server_default="nhan"))
        batch.add_column(sa.Column("upstream_set_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("priority_order", sa.String(length=12), nullable=False,
                                   server_default="tren-truoc"))
    with op.batch_alter_table("bulletin") as batch:
        batch.add_column(sa.Column("source_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("external_id", sa.String(length=120), nullable=True))
        batch.create_foreign_key("fk_bulletin_source", "source", ["source_id"], ["id"], ondelete="SET NULL")
        batch.create_unique_constraint("uq_bulletin_source_external", ["source_id", "external_id"])
    op.create_table(
        "commune_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.Integer(), nullable=True),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("bulletin_code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("by_default", sa.Boolean(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["bulletin_id"], ["bulletin.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["commune_id"], ["commune.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bulletin_id", "commune_id"),
    )


def downgrade() -> None:
    op.drop_table("commune_decision")
    with op.batch_alter_table("bulletin") as batch:
        batch.drop_constraint("uq_bulletin_source_external", type_="unique")
        batch.drop_constraint("fk_bulletin_source", type_="foreignkey")
        batch.drop_column("external_id")
        batch.drop_column("source_id")
    with op.batch_alter_table("commune") as batch:
        for column in ("priority_order", "upstream_set_at", "upstream_default", "upstream_deadline_hours", "upstream_mode"):
            batch.drop_column(column)
