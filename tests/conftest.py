"""Shared fixtures: one app per worker, and a database of its own for each test, copied from a template.

Databases. A test's database is a copy of a template made once per worker: a file copy on SQLite,
CREATE DATABASE ... TEMPLATE on PostgreSQL (a few ms, against a migration and a world per test
before). Commits are real, so threads, scheduler processes and a live server see them. A test that
asks for `world` starts from the template that holds it (tests/support.py build_world: users of
every role with tokens, channels L1-L3 and "Other desk", a two-step policy, the default rule); any
other test starts from the empty migrated schema.

Engines. Every database test runs on SQLite. A test whose outcome can depend on the engine (claims
and SKIP LOCKED, concurrency, constraints and triggers, column lengths and NUL characters,
migrations, JSON and time arithmetic in SQL, the audit chain, the engines) is marked
`both_databases`, mostly as a module's `pytestmark` with the reason beside it, and runs again on
PostgreSQL when TRACKER_TEST_DATABASE_URL is set. Ids end in [sqlite] or [postgresql]. HTTP
contracts, pages, validation and OpenAPI, the browser and unit tests run on SQLite only.

Apps. `app` is the worker's one app (create_app is the dear part of a set-up), pointed at the
test's database with tracker.db.bind; its config is put back and its outbox emptied after each
test. A test that needs a configuration of its own builds an app with `make_app(**config)`.

Workers (pytest-xdist, options in pyproject.toml): each has its own SQLite files under its own
tmp_path and its own PostgreSQL databases, tracker_test_<worker>_<pid>_<name>, created by the run
and dropped at its end.
"""

import copy
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import NullPool, create_engine, text
from sqlalchemy.engine import make_url

from tests.peers import SmtpServer, WebhookReceiver
from tests.support import World, build_world
from tracker import create_app
from tracker.db import bind, engine_of
from tracker.migrate import upgrade
from tracker.scheduler import build_scheduler

PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def app_config(outbox: Path, **config) -> dict:
    """The configuration every test app starts from; keyword arguments add to it."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "OUTBOX_DIR": str(outbox),
        "SWEEP_INTERVAL_SECONDS": 0.2,
        "DELIVERY_INTERVAL_SECONDS": 0.2,
        "PUBLIC_URL": "http://tracker.test",
        **config,
    }


def pytest_generate_tests(metafunc):
    """A test that touches the database runs on SQLite, and on PostgreSQL too when marked both_databases."""
    if "backend" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        metafunc.parametrize("backend", BACKENDS if both else BACKENDS[:1], indirect=True)


def pytest_collection_modifyitems(items):
    """Hand out the long tests (scheduler processes, threads, the fuzzer, Chromium) first, so that the
    workers finish together instead of one running a 30 s test while the other has nothing left."""
    items.sort(key=lambda item: not any(item.iter_markers("slow")) and not any(item.iter_markers("browser")))


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """argon2's CHEAPEST profile: the tests create many users; production keeps the default."""
    from argon2 import PasswordHasher, profiles

    from tracker.services.accounts import people

    production = people._hasher
    people._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield
    people._hasher = production


@contextmanager
def pointed_at(app, url: str) -> Iterator:
    """Point the app at the database at url; close its connections and put its config back after."""
    config = dict(app.config)
    bind(app, url)
    try:
        yield app
    finally:
        engine_of(app).dispose()
        app.config.clear()
        app.config.update(config)


class SqliteTemplates:
    """Two template files in a directory of the worker's; each test's database is a copy of one."""

    def __init__(self, directory: Path, app):
        self.directory = directory
        upgrade(self._url("empty"))
        shutil.copy(directory / "empty.db", directory / "world.db")
        with pointed_at(app, self._url("world")):  # closing its connections leaves no -wal file behind
            self.world = build_world(app)

    def _url(self, template: str) -> str:
        return f"sqlite:///{self.directory / template}.db"

    def new_database(self, template: str, tmp_path: Path) -> str:
        """A copy of the template in the test's tmp_path, kept there for a look after a failure."""
        shutil.copy(self.directory / f"{template}.db", tmp_path / "tracker.db")
        return f"sqlite:///{tmp_path / 'tracker.db'}"


class PostgresTemplates:
    """The worker's own database, migrated once, with each template's rows kept in a schema of its own
    (template_empty, template_world). A test starts from that database emptied and refilled from one
    template: a few ms, where CREATE DATABASE ... TEMPLATE costs about 0.2 s of server CPU."""

    def __init__(self, server_url: str, name: str, app):
        self.admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        self.name, self.url = name, make_url(server_url).set(database=name).render_as_string(hide_password=False)
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        upgrade(self.url)
        self.engine = create_engine(self.url, poolclass=NullPool)
        self.refills = {"empty": self._keep("empty")}
        with pointed_at(app, self.url):
            self.world = build_world(app)
        self.refills["world"] = self._keep("world")

    def _keep(self, template: str) -> str:
        """Copy every table's rows into schema template_<template>; return the SQL that puts them back."""
        schema = f"template_{template}"
        with self.engine.begin() as connection:
            tables = connection.execute(text(TABLES)).all()
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            refill = ["SET LOCAL session_replication_role = replica"]  # no trigger: append-only, foreign keys
            for table, columns in tables:
                connection.exec_driver_sql(f'CREATE TABLE "{schema}"."{table}" AS TABLE public."{table}"')
                refill += [f'DELETE FROM public."{table}"', f'INSERT INTO public."{table}" ({columns}) '
                           f'SELECT {columns} FROM "{schema}"."{table}"']  # fmt: skip
            for sequence, value in connection.execute(text(SEQUENCES)):
                refill.append(f"SELECT setval('{sequence}', {value or 1}, {value is not None})")
        return ";\n".join(refill)

    def new_database(self, template: str, tmp_path: Path) -> str:
        """The worker's database holding only the template's rows, nobody else connected to it."""
        with self.engine.begin() as connection:
            connection.execute(text(OTHERS_OUT), {"name": self.name})  # e.g. a scheduler a failed test left
            connection.exec_driver_sql(self.refills[template])
        return self.url

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.dispose()


TABLES = """SELECT table_name, string_agg(format('%I', column_name), ', ' ORDER BY ordinal_position)
    FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'alembic_version'
    GROUP BY table_name"""
SEQUENCES = "SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences WHERE schemaname = 'public'"
OTHERS_OUT = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory):
    """The worker's one app, for every test that needs no configuration of its own."""
    app = create_app(app_config(tmp_path_factory.mktemp("shared") / "outbox", DATABASE_URL="sqlite://"))
    yield app
    engine_of(app).dispose()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory, shared_app) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"), shared_app)


@pytest.fixture(scope="session")
def postgresql_templates(shared_app) -> Iterator[PostgresTemplates]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    templates = PostgresTemplates(PG_URL, f"tracker_test_{worker}_{os.getpid()}", shared_app)
    yield templates
    templates.drop()


@pytest.fixture
def backend(request) -> str:
    """sqlite or postgresql (pytest_generate_tests above gives the values)."""
    return request.param


@pytest.fixture
def templates(request, backend) -> SqliteTemplates | PostgresTemplates:
    return request.getfixturevalue(f"{backend}_templates")


@pytest.fixture
def database_url(request, templates, tmp_path) -> str:
    """The URL of this test's own migrated database: holding the world if the test asks for `world`."""
    return templates.new_database("world" if "world" in request.fixturenames else "empty", tmp_path)


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app of the test's own on its database; keyword arguments add to the test configuration."""
    apps = []

    def build(**config):
        app = create_app(app_config(tmp_path / "outbox", DATABASE_URL=database_url, **config))
        apps.append(app)
        return app

    yield build
    for app in apps:
        engine_of(app).dispose()


@pytest.fixture
def app(shared_app, database_url):
    """The worker's app on this test's database, with an empty outbox."""
    shutil.rmtree(shared_app.config["OUTBOX_DIR"], ignore_errors=True)
    with pointed_at(shared_app, database_url):
        yield shared_app


@pytest.fixture
def world(templates, database_url) -> World:
    """Users of every role with tokens, channels L1-L3, a two-step policy and a default rule: already
    in the test's database (see database_url)."""
    return copy.deepcopy(templates.world)


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def webhook_receiver():
    """A real local HTTP server receiving webhooks."""
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def mail_app(make_app, smtp_server):
    """The app with its e-mail transport pointed at the test SMTP server (no TLS on loopback)."""
    return make_app(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        SMTP_SECURITY="none",
        SMTP_TIMEOUT_SECONDS=3,
        SMTP_FROM="Incident tracker <tracker@tracker.test>",
        SUPERVISOR_TRANSPORT="email",
        DELIVERY_RETRY_BASE_SECONDS=0.05,
        WEBHOOK_CONNECT_TIMEOUT_SECONDS=1,
        WEBHOOK_READ_TIMEOUT_SECONDS=2,
    )


@pytest.fixture
def scheduler(app):
    """The real scheduler (sweep, delivery, line checks) running in this process."""
    running = build_scheduler(app, blocking=False)
    running.start()
    yield running
    running.shutdown(wait=True)


@pytest.fixture
def client(app):
    return app.test_client()
