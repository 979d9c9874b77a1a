"""Migration 0036 gives each web session its last use, the idle limit's start: a session kept before takes its
opening time, the one use the database knew of, so none lives longer idle than its cookie let it."""

from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine

from tests.databases import filled_row
from tracker import migrate

pytestmark = pytest.mark.both_databases  # a column added NOT NULL to a table SQLite copies and PostgreSQL alters

OPENED = datetime(2026, 12, 6, 21, 15)


def test_a_session_kept_before_was_last_used_when_it_was_opened(database_at):
    url = database_at("0035")
    engine = create_engine(url)
    try:
        tables = sa.MetaData()
        users, sessions = (sa.Table(name, tables, autoload_with=engine) for name in ("users", "web_sessions"))
        with engine.begin() as connection:
            user_id = connection.execute(
                users.insert().values(filled_row(users, {"username": "duty", "role": "duty_officer"}))
            ).inserted_primary_key[0]
            connection.execute(
                sessions.insert().values(filled_row(sessions, {"id": "s1", "user_id": user_id, "created_at": OPENED}))
            )
        migrate.upgrade(url, "0036")
        upgraded = sa.Table("web_sessions", sa.MetaData(), autoload_with=engine)
        with engine.connect() as connection:
            row = connection.execute(sa.select(upgraded.c.created_at, upgraded.c.last_seen_at)).one()
    finally:
        engine.dispose()
    assert row[1] is not None and row[1] == row[0], row
    assert not upgraded.c.last_seen_at.nullable
    assert migrate.current(url) == "0036"
