"""Shared fixtures: a fresh migrated database per test, on SQLite always and on PostgreSQL
when TRACKER_TEST_DATABASE_URL is set (each run creates and drops a database of its own)."""

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.peers import SmtpServer, WebhookReceiver
from tests.support import World, build_world
from tracker import create_app
from tracker.db import engine_of
from tracker.migrate import upgrade
from tracker.scheduler import build_scheduler

PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """argon2's CHEAPEST profile: the tests create many users; production keeps the default."""
    from argon2 import PasswordHasher, profiles

    from tracker.services.accounts import people

    production = people._hasher
    people._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield
    people._hasher = production


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database():
    """A PostgreSQL database of this run's own, migrated once and dropped at the end."""
    name = f"tracker_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _truncate(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
        ).scalars()
        connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """The URL of an empty, migrated database for this test."""
    if request.param == "sqlite":
        path = tmp_path / "tracker.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    _truncate(url)
    return url


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build the app on this test's database; keyword arguments add to the test configuration."""
    apps = []

    def build(**config):
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "SECRET_KEY": "test-secret",
                "OUTBOX_DIR": str(tmp_path / "outbox"),
                "SWEEP_INTERVAL_SECONDS": 0.2,
                "DELIVERY_INTERVAL_SECONDS": 0.2,
                "PUBLIC_URL": "http://tracker.test",
                **config,
            }
        )
        apps.append(app)
        return app

    yield build
    for app in apps:
        engine_of(app).dispose()


@pytest.fixture
def app(make_app):
    return make_app()


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


@pytest.fixture
def world(app) -> World:
    """Users of every role with tokens, channels L1-L3, a two-step policy and a default rule."""
    return build_world(app)
