"""A batch of the escalation sweep, the idle check or the watchdog states each incident's narrative additions
in its messages: it reads the amendments of all its incidents in one statement, and on PostgreSQL as one
array parameter (any_of), never one parameter per incident (psycopg parses such a statement in Python at
every execution: what any_of was made to spare the sweep) nor one statement per incident."""

from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from tests.schedulers import file_many
from tests.support import build_world
from tracker import dispatch
from tracker.db import engine_of, session_scope
from tracker.models import Incident, User
from tracker.services.engine import escalation, idle, watchdog
from tracker.services.incidents import handling
from tracker.timeutil import utcnow

# More incidents than a statement may have parameters (tests/integration/test_route_table.py).
COUNT = 60

pytestmark = pytest.mark.both_databases  # the parameters are what psycopg is given; SQLite takes IN (...)


def statements_of(app, work) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_):
        seen.append((statement, parameters))

    engine = engine_of(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def amendment_reads(seen) -> list[tuple[str, object]]:
    """The statements that read the incidents' amendments (Incident.amendments)."""
    reads = [(s, p) for s, p in seen if s.lstrip().startswith("SELECT")]
    return [(s, p) for s, p in reads if "timeline_events.details" in s.split("FROM")[0]]


def assert_read_once_for_the_batch(app, seen) -> None:
    reads = amendment_reads(seen)
    assert len(reads) == 1, [s[:160] for s, _ in reads]
    if engine_of(app).dialect.name == "postgresql":
        [(statement, parameters)] = reads
        assert len(parameters) <= 5, (statement[:200], len(parameters))


def test_the_sweep_reads_its_batchs_amendments_at_once(app):
    build_world(app, steps=(("L1",), ("L2",)), ack_seconds=600)
    ids = file_many(app, COUNT)
    later = utcnow() + timedelta(seconds=601)

    def sweep():
        with session_scope(app) as session:
            assert escalation.sweep_batch(session, later, 200, "test", dispatch.ack_links(app)) == len(ids)

    assert_read_once_for_the_batch(app, statements_of(app, sweep))


def test_the_idle_check_reads_its_batchs_amendments_at_once(app):
    build_world(app, steps=(("L1",), ("L2",)), ack_seconds=600)
    ids = file_many(app, COUNT)
    now, rules = utcnow(), idle.IdleRules()
    with session_scope(app) as session:
        liaison = session.scalar(select(User).where(User.username == "liaison"))
        for incident in session.scalars(select(Incident).where(Incident.id.in_(ids))):
            handling.acknowledge(session, incident.reference, liaison, now, idle=rules)
    later = now + timedelta(seconds=idle.ACK_TIMEOUT_SECONDS["O"] + 1)

    def check():
        with session_scope(app) as session:
            assert idle.sweep_batch(session, later, 200, "test", dispatch.ack_links(app), rules) == len(ids)

    assert_read_once_for_the_batch(app, statements_of(app, check))


def test_the_watchdog_reads_its_batchs_amendments_at_once(app):
    build_world(app, steps=(("L1",), ("L2",)), ack_seconds=600)
    ids = file_many(app, COUNT)
    with session_scope(app) as session:
        session.execute(
            update(Incident).where(Incident.id.in_(ids)).values(next_escalation_at=utcnow() - timedelta(hours=1))
        )
    now = utcnow()

    def check():
        with session_scope(app) as session:
            assert watchdog.check_batch(session, now, now - timedelta(minutes=5), 200, "test") == len(ids)

    assert_read_once_for_the_batch(app, statements_of(app, check))
