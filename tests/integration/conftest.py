"""Fixtures of the integration tests."""

import logging

import pytest
import trustme

from tests.databases import empty_database
from tests.peers import WebhookReceiver
from tracker import logs


@pytest.fixture
def fresh_database_url(database_url, tmp_path, request):
    """A new, empty database of the test's engine (on PostgreSQL made, named after the test's module, and dropped
    after): for a migration's test, which brings it to the revision before and writes rows there."""
    module = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    with empty_database(database_url, tmp_path / f"{module}.db", module) as url:
        yield url


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
