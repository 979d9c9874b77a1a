"""Engine and sessions: built in init_app, one session per request, session_scope() for jobs.

A unit of work either writes or only reads. On SQLite the difference is the write lock: a writing
transaction takes it at BEGIN (BEGIN IMMEDIATE), so writers queue instead of failing; a reading one
begins deferred and never takes it, so a page or a scrape never waits for a writer nor holds one
up (WAL: readers see the last commit). A deferred transaction that later writes could fail at once
with SQLITE_BUSY when another writer committed in between (the busy timeout does not help that
upgrade), so a reading transaction is also made unable to write (PRAGMA query_only): a write there
fails loudly in the tests instead of now and then in production. GET, HEAD and OPTIONS requests
read; every other request, each job, the CLI and the rate-limit bookkeeping write. Bookkeeping that
may be skipped (a token's or a web session's last use) writes only if it gets the write lock at once (NO_WAIT).
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from .models import json_values

log = logging.getLogger(__name__)

EXTENSION = "tracker.db"
READERS = "tracker.db.readers"
# The execution option that marks an engine's (and so its sessions') transactions as reading only.
READS_ONLY = "tracker_reads_only"
# The execution option of a writing unit of work that would rather not happen than wait for SQLite's
# write lock (bookkeeping such as a token's last use): its BEGIN fails at once when another holds it.
NO_WAIT = "tracker_no_wait"
BUSY_TIMEOUT_MS = 30000
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def build_engine(url: str, **options) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and BEGIN IMMEDIATE transactions."""
    # hide_parameters: an error names the statement, never its values (a password's or token's hash).
    options = {"hide_parameters": True, **options}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **options)
        _make_sqlite_serializable(engine)
        return engine
    # Pre-ping: a connection the server dropped is replaced before use. Keepalives and a connect
    # timeout: a peer that vanished without closing the connection fails a job instead of hanging it.
    # The session's time zone is UTC whatever the server's default: SQL that reads a date off a moment
    # (a report's day) reads it in UTC, and every moment comes back already in UTC (psycopg then gives
    # datetime.UTC itself, which UTCDateTime passes through instead of converting each one).
    given = make_url(url).query.get("options", "")  # the URL's other server options are kept
    connect = {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
               "keepalives_count": 3, "options": f"{given} -c TimeZone=UTC".strip()}  # fmt: skip
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args=connect,
        json_serializer=json_values.dumps,
        json_deserializer=json_values.loads,
        **options,
    )


def plan_for_tables_as_they_are(app: Flask) -> None:
    """Have PostgreSQL plan each of this process's statements for its tables as they are now
    (plan_cache_mode=force_custom_plan), for a scheduler: the plans the server keeps for a connection
    (a prepared statement, a foreign key's check) are otherwise made generic once and kept, and one
    made while a table was nearly empty reads the whole table at every use, until an ANALYZE of it
    happens to come. Seen in the escalation benchmark, where a burst fills the tables in seconds:
    each delivery attempt's and audit seal's key check read all of notifications or timeline_events
    (35 million rows in one run of 10,000). The web workers keep the generic plans: their statements
    are short and many, and planning each one cost a filing a third more of PostgreSQL's CPU.

    Connections opened from now on get the setting; those already pooled are closed."""
    engine = engine_of(app)
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_connection.commit()

    engine.dispose()


def _make_sqlite_serializable(engine: Engine) -> None:
    """Take SQLite's write lock at BEGIN for a writing transaction, so concurrent writers queue
    instead of failing; begin a reading one deferred, and unable to write.

    This is the recipe from SQLAlchemy's pysqlite documentation ("Serializable isolation /
    Savepoints / Transactional DDL"): pysqlite's own transaction handling is switched off.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()
        record.info[READS_ONLY] = False  # query_only is off on a new connection
        record.info[NO_WAIT] = False

    @event.listens_for(engine, "begin")
    def _begin(connection):
        reads_only = bool(connection.get_execution_options().get(READS_ONLY))
        if connection.info.get(READS_ONLY) != reads_only:  # the pooled connection served the other kind last
            connection.exec_driver_sql(f"PRAGMA query_only={int(reads_only)}")
            connection.info[READS_ONLY] = reads_only
        no_wait = bool(connection.get_execution_options().get(NO_WAIT))
        if connection.info.get(NO_WAIT) != no_wait:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={0 if no_wait else BUSY_TIMEOUT_MS}")
            connection.info[NO_WAIT] = no_wait
        connection.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    """Bind an engine and two session factories to the app, one for units of work that write and
    one for those that only read; close the request session at teardown."""
    engine = build_engine(app.config["DATABASE_URL"])
    app.extensions[EXTENSION] = sessionmaker(engine, expire_on_commit=False)
    # The same pool and events; its transactions carry READS_ONLY to the "begin" event above.
    readers = engine.execution_options(**{READS_ONLY: True})
    app.extensions[READERS] = sessionmaker(readers, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine_of(app: Flask) -> Engine:
    return app.extensions[EXTENSION].kw["bind"]


def get_session() -> Session:
    """Return the request's session, opening it on first use: a reading one for GET, HEAD and
    OPTIONS requests, a writing one for any other request and outside requests."""
    if "db_session" not in g:
        reads = has_request_context() and request.method in READING_METHODS
        g.db_session = current_app.extensions[READERS if reads else EXTENSION]()
    return g.db_session


def _close_session(_exc=None) -> None:
    """Close the request's session. A connection the database dropped meanwhile (a restart, a terminated backend)
    fails the close's rollback: said in one line and the connection thrown away, never raised from here, where it
    was past every error handler and the answer (a 503 said already, or the page) became gunicorn's bare 500."""
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        session.close()
    except DBAPIError as error:
        log.warning("database connection lost while closing a request's session: %s", type(error.orig).__name__)
        session.invalidate()


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
def session_scope(app: Flask, reads_only: bool = False) -> Iterator[Session]:
    """A session of its own as one unit of work, closed at the end (jobs, CLI, rate limits);
    with reads_only, one that only reads (on SQLite: no write lock, and any write fails)."""
    session = app.extensions[READERS if reads_only else EXTENSION]()
    try:
        with unit_of_work(session):
            yield session
    finally:
        session.close()
