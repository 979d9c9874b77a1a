"""The worker's test databases, one per engine, each with the app bound to it, reset before each test.

Each keeps two templates made once: the migrated schema, and the same holding the world
(tests/support.py build_world). Before a test the database is brought back to one of them:

- SQLite: the database file is replaced by a copy of a template file (about 1 ms);
- PostgreSQL: the worker's own database is emptied and refilled from the template's rows, kept in a
  schema of its own (template_empty, template_world), in one transaction with the triggers off
  (session_replication_role: the user must be a superuser, as postgres is in .ci/run). About 2 ms,
  where a CREATE DATABASE ... TEMPLATE per test costs some 0.2 s of server CPU.

The app and its engine stay bound to the one database for the whole run, so SQLAlchemy compiles each
statement once per worker instead of once per test (a fresh engine starts with an empty cache, and
compiling was a quarter of a test's time). Commits are real: threads, scheduler processes and a live
server see them.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from shutil import copyfile

import sqlalchemy as sa
from apiflask import APIFlask
from sqlalchemy import NullPool, create_engine, text
from sqlalchemy.engine import make_url

from tests.support import World, build_world
from tracker import create_app
from tracker.backup import anchor
from tracker.db import engine_of
from tracker.migrate import upgrade
from tracker.timeutil import utcnow

TABLES = """SELECT table_name, string_agg(format('%I', column_name), ', ' ORDER BY ordinal_position)
    FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'alembic_version'
    GROUP BY table_name"""
SEQUENCES = "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences WHERE schemaname = 'public'"
OTHERS_OUT = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"


class SqliteDatabase:
    """The file test.db in a directory of the worker's, and the template files beside it."""

    def __init__(self, directory: Path, config: dict):
        self.directory, self.path = directory, directory / "test.db"
        self.url = f"sqlite:///{self.path}"
        self.app: APIFlask = create_app({**config, "DATABASE_URL": self.url})
        migrate_to(self.url)
        self.keep("empty")
        self.world: World = build_world(self.app)
        self.keep("world")

    def keep(self, template: str) -> None:
        """Keep the database as it is now as a template of that name."""
        engine_of(self.app).dispose()  # its last connection closed, the file holds everything (no -wal left)
        copyfile(self.path, self.directory / f"{template}.db")

    def reset(self, template: str) -> None:
        """Replace the database file by a copy of the template ("empty", "world" or one kept since)."""
        engine_of(self.app).dispose()
        for leftover in (Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            leftover.unlink(missing_ok=True)
        forget_anchor(self.app)
        self.copy(template, self.path)

    def copy(self, template: str, path: Path) -> str:
        """Copy the template to path (a new file, whoever holds the old one); return its URL."""
        copyfile(self.directory / f"{template}.db", f"{path}.new")
        os.replace(f"{path}.new", path)
        return f"sqlite:///{path}"


class PostgresDatabase:
    """The worker's own database on the server of server_url, dropped by close()."""

    def __init__(self, server_url: str, name: str, config: dict):
        self.name, self.url = name, make_url(server_url).set(database=name).render_as_string(hide_password=False)
        self.admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
            # A commit answers before the server has flushed its WAL to disk, for every connection to this
            # database (the tests' own, the apps', scheduler and CLI processes): the tests never crash the
            # server, so nothing they check depends on the flush, and no commit waits on the disk.
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        upgrade(self.url)
        self.engine = create_engine(self.url, poolclass=NullPool)
        self.app: APIFlask = create_app({**config, "DATABASE_URL": self.url})
        self.refills: dict[str, str] = {}
        self.keep("empty")
        self.world: World = build_world(self.app)
        self.keep("world")

    def keep(self, template: str) -> None:
        """Keep the database as it is now as a template of that name: every table's rows copied into
        schema template_<template>, and the SQL that puts them back."""
        engine_of(self.app).dispose()
        schema = f'"template_{template}"'
        with self.engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
            refill = ["SET LOCAL session_replication_role = replica"]  # no trigger: append-only, foreign keys
            for table, columns in connection.execute(text(TABLES)).all():
                connection.exec_driver_sql(f'CREATE TABLE {schema}."{table}" AS TABLE public."{table}"')
                refill.append(f'DELETE FROM public."{table}"')
                refill.append(f'INSERT INTO public."{table}" ({columns}) SELECT {columns} FROM {schema}."{table}"')
            for sequence, value in connection.execute(text(SEQUENCES)):
                refill.append(f"SELECT setval('{sequence}', {value or 1}, {value is not None})")
        self.refills[template] = ";\n".join(refill)

    def reset(self, template: str) -> None:
        """Leave the database holding the template's rows only, and nobody connected to it."""
        engine_of(self.app).dispose()
        with self.engine.begin() as connection:
            connection.execute(text(OTHERS_OUT), {"name": self.name})  # e.g. a scheduler a failed test left
            connection.exec_driver_sql(self.refills[template])
        forget_anchor(self.app)

    def close(self) -> None:
        """Drop the database (and its audit anchor, kept in the instance folder)."""
        engine_of(self.app).dispose()
        forget_anchor(self.app)
        self.engine.dispose()
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.dispose()


# Where SQLite files migrated from nothing are kept for the run, shared by its workers (set by tests/conftest.py).
MIGRATED: dict[str, Path] = {}


def migrate_to(url: str, revision: str = "head") -> None:
    """Bring the new database at url to revision, as tracker.migrate.upgrade does.

    On SQLite, a file that does not exist yet (or is empty) becomes a copy of one migrated once in the run
    and kept for its workers: running the migrations from nothing costs about 2.5 s on SQLite (Alembic
    copies a table for each change of it), and each worker's database and several tests start from there.
    A database that has a schema is migrated by Alembic, as is every database on PostgreSQL."""
    path = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    kept_in = MIGRATED.get("folder")
    if path is None or kept_in is None or (path.exists() and path.stat().st_size):
        upgrade(url, revision)
        return
    kept_in.mkdir(parents=True, exist_ok=True)
    kept = kept_in / f"{revision}.db"
    with open(kept_in / f"{revision}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker migrates; the others wait for its file
        if not kept.exists():
            upgrade(f"sqlite:///{kept}.new", revision)
            os.replace(f"{kept}.new", kept)
    copyfile(kept, f"{path}.new")
    os.replace(f"{path}.new", path)


def forget_anchor(app) -> None:
    """Remove the audit chain's anchor: the database goes back to a template, a chain of its own."""
    anchor.remove(anchor.path_for(app.config, app.instance_path))


@contextmanager
def empty_database(database_url: str, sqlite_file: Path, suffix: str) -> Iterator[str]:
    """The URL of a new, empty database of database_url's engine: sqlite_file on SQLite; on PostgreSQL a
    database named after the worker's with _suffix, made (dropped first if a killed run left it) and dropped
    after. For tests that migrate, back up or restore a database of their own."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{sqlite_file}"
        return
    name = f"{make_url(database_url).database}_{suffix}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def filled_row(table: sa.Table, given: dict) -> dict:
    """given, and a value for every other column a reflected table needs (NOT NULL, no default of the database's):
    rows written at an old revision for a migration's test, whatever columns that revision had."""
    now = utcnow().replace(tzinfo=None)
    row = dict(given)
    for column in table.columns:
        if column.name in row or column.nullable or column.server_default is not None or column.primary_key:
            continue
        kind = dict if isinstance(column.type, sa.JSON) else column.type.python_type
        row[column.name] = {int: 0, float: 0.0, bool: False, str: "x", dict: {}}.get(kind, now)
    return row
