"""A connection the database drops while a request holds it (a restart, a terminated backend) fails the session's
closing rollback: said in one line and thrown away, never raised out of the request's teardown, where it turned
the answer into gunicorn's bare HTML 500 with a traceback."""

import logging

import pytest
from sqlalchemy import text

from tracker.db import engine_of, get_session

pytestmark = pytest.mark.both_databases  # a backend terminated: PostgreSQL's


def test_a_connection_dropped_under_a_request_is_thrown_away_at_its_end_not_raised(app, backend, caplog):
    if backend != "postgresql":
        pytest.skip("SQLite has no server to drop the connection")
    caplog.set_level(logging.WARNING)
    with app.test_request_context("/api/v1/incidents"):
        pid = get_session().execute(text("SELECT pg_backend_pid()")).scalar_one()  # its transaction open
        with engine_of(app).connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    said = [r.getMessage() for r in caplog.records if "connection lost" in r.getMessage()]
    assert said == ["database connection lost while closing a request's session: AdminShutdown"], caplog.text
    with app.test_request_context("/api/v1/incidents"):  # the pool hands out a live connection after it
        assert get_session().execute(text("SELECT 1")).scalar_one() == 1
