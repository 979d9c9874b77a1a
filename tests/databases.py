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

A test that needs a database of its own at some migration's revision (new_database) gets a copy of one kept
at that revision: a SQLite file kept for the run, a PostgreSQL template kept by the worker.
"""

import fcntl
import os
from concurrent.futures import ThreadPoolExecutor
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
from tracker.migrate import revisions, upgrade
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
    """The worker's own database on the server of server_url, and the databases made for its tests (new()),
    all dropped by close()."""

    def __init__(self, server_url: str, name: str, config: dict):
        self.server_url, self.name, self.url = server_url, name, url_of(server_url, name)
        self.admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        self.made: list[str] = []  # the databases new() made and the templates they came from, dropped by close()
        self.templates: dict[str, str] = {}  # revision: the name of the template kept at it
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

    def new(self, suffix: str, revision: str | None = None) -> str:
        """The URL of a new database named after this one with _suffix and a number, dropped by close(): empty
        (revision None) or a copy of the template kept at revision, made on first use."""
        template = self.template_at(revision) if revision else None
        return self.create(f"{self.name}_{suffix}_{len(self.made)}", template)

    def template_at(self, revision: str) -> str:
        """The name of the database kept at revision: made from the one kept at the nearest revision before it
        (or from nothing), and migrated from there, so the worker runs each migration about once."""
        if revision not in self.templates:
            order = revisions()
            before = [kept for kept in self.templates if order.index(kept) < order.index(revision)]
            base = self.templates[max(before, key=order.index)] if before else None
            name = f"{self.name}_at_{revision}"
            upgrade(self.create(name, base), revision)
            self.templates[revision] = name
        return self.templates[revision]

    def create(self, name: str, template: str | None) -> str:
        """Make the database name, a copy of template if one is named (the server copies it in about 0.07 s,
        where migrating a database from nothing to 0026 took 0.9 s); return its URL."""
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.made.append(name)
        return url_of(self.server_url, name)

    def close(self) -> None:
        """Drop the database and those new() made (and its audit anchor, kept in the instance folder)."""
        engine_of(self.app).dispose()
        forget_anchor(self.app)
        self.engine.dispose()
        drop_at_once(self.admin, [*self.made, self.name])
        self.admin.dispose()


def url_of(server_url: str, name: str) -> str:
    """The URL of the database name on the server of server_url."""
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_at_once(admin: sa.Engine, names: list[str]) -> None:
    """Drop the databases, each on a connection of its own at the same time. A DROP DATABASE waits for a
    checkpoint, which writes every changed page of the server to disk (0.3-2 s with the other workers
    writing): four dropped one after the other took 6.5-8.6 s, four at once 1.3-1.6 s, the drops in flight
    waiting for the same checkpoint. So a test's database is dropped here at the worker's end, not after it."""

    def drop(name: str) -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        for dropped in [pool.submit(drop, name) for name in names]:
            dropped.result()


# Where SQLite files migrated from nothing are kept for the run, shared by its workers (set by tests/conftest.py).
MIGRATED: dict[str, Path] = {}


def migrate_to(url: str, revision: str = "head") -> None:
    """Bring the new database at url to revision, as tracker.migrate.upgrade does.

    On SQLite, a file that does not exist yet (or is empty) becomes a copy of the one kept at that revision
    (kept_revisions): running the migrations from nothing costs about 1.3-5 s on SQLite (Alembic copies a
    table for each change of it), and each worker's database and several tests start from there. A database
    that has a schema is migrated by Alembic, as is every database on PostgreSQL (PostgresDatabase.new)."""
    path = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    kept_in = MIGRATED.get("folder")
    if path is None or kept_in is None or (path.exists() and path.stat().st_size):
        upgrade(url, revision)
        return
    copyfile(kept_revisions(kept_in) / f"{revision}.db", f"{path}.new")
    os.replace(f"{path}.new", path)


def kept_revisions(folder: Path) -> Path:
    """folder, holding a SQLite file at each revision (<revision>.db, and head.db): made once in the run, by
    the worker that comes first (the others wait for it), migrated from nothing one revision at a time with
    a copy kept after each. Each migration's test starts at the revision before its own, and migrating
    there from nothing again took each of them 1-3.5 s; all the steps together cost 0.2 s more than one
    migration to head."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "revisions.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "head.db").exists():
            work = folder / "work.db"
            work.unlink(missing_ok=True)
            for revision in revisions():
                upgrade(f"sqlite:///{work}", revision)
                copyfile(work, folder / f"{revision}.db")
            os.replace(work, folder / "head.db")
    return folder


def forget_anchor(app) -> None:
    """Remove the audit chain's anchor: the database goes back to a template, a chain of its own."""
    anchor.remove(anchor.path_for(app.config, app.instance_path))


def new_database(
    database: SqliteDatabase | PostgresDatabase, sqlite_file: Path, suffix: str, revision: str | None = None
) -> str:
    """The URL of a new database of the test database's engine, empty (revision None) or at revision: sqlite_file
    on SQLite, a copy of the file kept at revision; on PostgreSQL a database named after the worker's with
    _suffix, a copy of its template at revision, dropped at the worker's end. For tests that migrate, back up
    or restore a database of their own."""
    if isinstance(database, PostgresDatabase):
        return database.new(suffix, revision)
    url = f"sqlite:///{sqlite_file}"
    if revision:
        migrate_to(url, revision)
    return url


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
