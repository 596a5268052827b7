"""Alembic environment for the local SQLite database.

Run from ``app.store.migrate`` with an open connection in ``config.attributes["connection"]``
(already inside the one transaction the whole upgrade commits or rolls back in, with foreign
keys off); ``render_as_batch`` lets SQLite alter tables (it rebuilds them in a batch).
"""

from __future__ import annotations

from alembic import context

from app.store.migrate import migration_engine
from app.store.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        # `alembic` command line (developers): the URL comes from -x db=PATH.
        url = context.get_x_argument(as_dictionary=True).get("db", "sqlite:///recap-dev.sqlite3")
        engine = migration_engine(url)
        with engine.begin() as conn:
            _configure_and_run(conn)
            if conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                raise RuntimeError("the migration left rows pointing at missing rows")
        return
    _configure_and_run(connection)


def _configure_and_run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        transactional_ddl=True,  # SQLite's DDL is transactional once the driver lets it be
    )
    with context.begin_transaction():
        context.run_migrations()


run()
