"""What the database itself guarantees: migrations, append-only timeline, unique outbox rows."""

import pytest
from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.support import file_incident
from tracker import jobs
from tracker.db import engine_of, session_scope
from tracker.migrate import current, head
from tracker.models import Notification, NotificationKind, TimelineEvent

# What the database itself enforces: migrations, triggers, unique constraints.
pytestmark = pytest.mark.both_databases


def test_schema_is_at_the_newest_migration(app):
    from pathlib import Path

    versions = Path(__file__).resolve().parents[2] / "tracker" / "migrations" / "versions"
    newest = max(p.name[:4] for p in versions.glob("0*.py"))
    assert current(app.config["DATABASE_URL"]) == head() == newest, "the test database is not at the newest file"


@pytest.mark.parametrize("change", ["update", "delete"])
def test_timeline_is_append_only_in_the_database(app, client, world, change):
    file_incident(client, world)
    statement = update(TimelineEvent).values(actor="someone else") if change == "update" else delete(TimelineEvent)
    with pytest.raises(DBAPIError, match="append-only"):
        with session_scope(app) as session:
            session.execute(statement)
    engine = create_engine(app.config["DATABASE_URL"])
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM timeline_events WHERE actor = 'duty'")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize("table", ["timeline_events", "audit_seals"])
def test_the_append_only_tables_refuse_truncate(app, client, world, table):
    """TRUNCATE fires no row trigger: a statement trigger refuses it (PostgreSQL; SQLite has no TRUNCATE)."""
    if engine_of(app).dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; its DELETE without WHERE runs the row triggers")
    file_incident(client, world)
    jobs.sweep(app)  # seals the filing's events: both tables hold rows
    engine = create_engine(app.config["DATABASE_URL"])
    count = text(f"SELECT count(*) FROM {table}")
    try:
        with engine.connect() as connection:
            before = connection.execute(count).scalar()
        assert before >= 2, f"{table} should hold the filing's rows before the TRUNCATE"
        with pytest.raises(DBAPIError, match=f"{table} is append-only"):
            with engine.begin() as connection:
                connection.exec_driver_sql(f"TRUNCATE {table} CASCADE")
        with engine.connect() as connection:
            assert connection.execute(count).scalar() == before
    finally:
        engine.dispose()


def test_a_step_is_never_notified_twice_to_one_channel(app, client, world):
    file_incident(client, world)
    with pytest.raises(IntegrityError):
        with session_scope(app) as session:
            original = session.scalars(select(Notification)).one()
            session.add(
                Notification(
                    incident_id=original.incident_id,
                    kind=NotificationKind.NOTIFIED,
                    step=original.step,
                    loop=original.loop,
                    channel_id=original.channel_id,
                    subject="dup",
                    body="dup",
                )
            )
