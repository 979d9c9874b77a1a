"""Each PostgreSQL connection runs in UTC (db.build_engine): a date read off a moment in SQL is the UTC
date whatever zone the server or the URL would give it, every moment comes back in datetime.UTC itself
(which UTCDateTime passes through), and the URL's other server options are kept."""

from datetime import UTC

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tracker.db import build_engine

pytestmark = pytest.mark.both_databases  # a PostgreSQL setting; SQLite keeps naive UTC itself


def test_a_connection_runs_in_utc_and_keeps_the_urls_own_options(database_url, backend):
    if backend != "postgresql":
        pytest.skip("SQLite has no session time zone: moments are stored as naive UTC")
    # UTC+14: were it the session's zone, 23:30 UTC on the 4th would be read as the 5th.
    options = "-c TimeZone=Pacific/Kiritimati -c statement_timeout=4321"
    url = make_url(database_url).update_query_dict({"options": options})
    engine = build_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            zone = connection.execute(text("SHOW TimeZone")).scalar_one()
            timeout = connection.execute(text("SHOW statement_timeout")).scalar_one()
            moment = connection.execute(text("SELECT TIMESTAMPTZ '2026-12-04 23:30:00+00'")).scalar_one()
            day = connection.execute(
                text("SELECT date_trunc('day', TIMESTAMPTZ '2026-12-04 23:30:00+00')::date")
            ).scalar_one()
    finally:
        engine.dispose()
    assert zone == "UTC" and timeout == "4321ms", (zone, timeout)
    assert moment.tzinfo is UTC, f"psycopg gave {moment.tzinfo!r}, not datetime.UTC"
    assert str(day) == "2026-12-04", day
