"""Alembic environment: the URL comes from the tracker (see tracker/migrate.py), never an .ini."""

from alembic import context
from sqlalchemy import Connection, create_engine

from tracker.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no database URL: run the migrations through tracker.migrate")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:  # a migration that refuses (0034's downgrade) leaves no pooled connection open behind it
        engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
