"""Fixtures of the integration tests."""

import logging

import pytest
import trustme

from tests.databases import new_database
from tests.peers import WebhookReceiver
from tracker import logs


@pytest.fixture
def database_at(database, tmp_path, request):
    """database_at(revision): the URL of a new database of the test's engine at that revision (None: empty,
    never migrated), for a migration's test, which writes rows there and upgrades it. On PostgreSQL it is
    named after the test's module and dropped at the worker's end (tests/databases.py new_database)."""
    module = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    return lambda revision=None: new_database(database, tmp_path / f"{module}.db", module, revision)


@pytest.fixture
def ca(tmp_path):
    """A test certificate authority (trustme), its certificate in tmp_path/ca.pem (SMTP_CA_FILE)."""
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    return authority


@pytest.fixture
def debug_logging():
    """The tracker's logging as LOG_LEVEL = "DEBUG" sets it up in every process (tests skip it), undone after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("urllib3", "apprise", "apscheduler", "alembic")}
    logs.configure("DEBUG", "text")
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, was in levels.items():
        logging.getLogger(name).setLevel(was)


@pytest.fixture
def proxy():
    """A real HTTP server standing as a forward proxy: it records what is sent through it and answers 200."""
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()
