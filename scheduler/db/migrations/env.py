"""Alembic environment: the engine is handed in by scheduler.db.session.upgrade_schema."""

from __future__ import annotations

from alembic import context

from scheduler.db.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` run by hand: read the URL from the environment
    from scheduler.db.session import make_engine
    from scheduler.settings import Settings

    engine = make_engine(Settings.from_env().database_url)

# Tables other libraries own (APScheduler's job store) are not ours to create or drop.
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and name in FOREIGN_TABLES)


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table (copy, drop, rename); with foreign keys enforced, dropping a table
        # other tables reference fails. Alembic's documented remedy: switch them off for the upgrade
        # (a PRAGMA outside any transaction), and on again afterwards.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
