"""Engine and sessions: built in init_app, one session per request, session_scope() for jobs."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

EXTENSION = "tracker.db"


def build_engine(url: str, **options) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and BEGIN IMMEDIATE transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **options)
        _make_sqlite_serializable(engine)
        return engine
    # Pre-ping: a connection the server dropped is replaced before use. Keepalives and a connect
    # timeout: a peer that vanished without closing the connection fails a job instead of hanging it.
    keepalive = {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                 "keepalives_count": 3}  # fmt: skip
    return create_engine(url, pool_pre_ping=True, connect_args=keepalive, **options)


def _make_sqlite_serializable(engine: Engine) -> None:
    """Take SQLite's write lock at BEGIN so concurrent writers queue instead of failing.

    This is the recipe from SQLAlchemy's pysqlite documentation ("Serializable isolation /
    Savepoints / Transactional DDL"): pysqlite's own transaction handling is switched off.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    """Bind an engine and a session factory to the app; close the request session at teardown."""
    engine = build_engine(app.config["DATABASE_URL"])
    factory = sessionmaker(engine, expire_on_commit=False)
    app.extensions[EXTENSION] = factory
    app.teardown_appcontext(_close_session)


def engine_of(app: Flask) -> Engine:
    return app.extensions[EXTENSION].kw["bind"]


def get_session() -> Session:
    """Return the request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[EXTENSION]()
    return g.db_session


def _close_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """The one way anything commits: what the block did is committed when it ends, and rolled
    back when it raises. Requests use it through tracker.http.transaction, jobs and the CLI
    through session_scope."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """A session of its own as one unit of work, closed at the end (jobs, CLI, rate limits)."""
    session = app.extensions[EXTENSION]()
    try:
        with unit_of_work(session):
            yield session
    finally:
        session.close()
