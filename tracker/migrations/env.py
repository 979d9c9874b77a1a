"""Alembic environment: the URL comes from the tracker (see tracker/migrate.py), never an .ini."""

from alembic import context
from sqlalchemy import Connection, Engine, create_engine, event

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
    if engine.dialect.name == "sqlite":
        _transactional_ddl(engine)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:  # a migration that refuses (0034's downgrade) leaves no pooled connection open behind it
        engine.dispose()


def _transactional_ddl(engine: Engine) -> None:
    """Each migration on SQLite in a transaction of its own, its revision stamped in it: Python's sqlite3 opens
    none before a CREATE or an ALTER, so Alembic ran SQLite's migrations without one, and an init-db stopped
    half-way (Ctrl-C, a power cut) left a migration's first tables behind under the revision before it, which no
    run of init-db could then get past ("table exercises already exists"). The driver is told to open nothing
    itself, and each transaction begins here (SQLAlchemy's recipe for pysqlite); no migration runs a statement
    SQLite refuses in a transaction (VACUUM, a PRAGMA of foreign keys), and foreign keys are not enforced on this
    engine, so a batch migration's table copy runs in one as it did outside."""

    @event.listens_for(engine, "connect")
    def _driver_opens_nothing(dbapi_connection, record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        # On SQLite only with the engine above (a connection given in comes as its owner made it).
        transactional_ddl=sqlite and bool(connection.engine.dispatch.begin),
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
