"""DATABASE_URL as the commands show it (init-db, backup, restore, the scheduler's first log line)."""

import pytest

from tracker.cli.base import redact


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql+psycopg://tracker:pw1@db:5432/tracker", "postgresql+psycopg://tracker:***@db:5432/tracker"),
        # libpq takes the password (and a client key's) as a query parameter too: it was shown whole.
        (
            "postgresql+psycopg://tracker@db/tracker?password=s3cret&sslmode=require&sslpassword=k3y",
            "postgresql+psycopg://tracker@db/tracker?password=***&sslmode=require&sslpassword=***",
        ),
        ("sqlite:////var/lib/tracker/tracker.db", "sqlite:////var/lib/tracker/tracker.db"),
    ],
)
def test_a_database_url_is_shown_without_any_password(url, shown):
    assert redact(url) == shown
