"""The timeline's audit chain on a real database: every path chains its events, tampering in the
database itself is found and named, concurrent writers keep one chain, and the migration re-chains."""

import threading
from collections import defaultdict
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from tests.support import file_incident
from tracker.db import engine_of, session_scope
from tracker.migrate import alembic_config, current, head, upgrade
from tracker.models import EventKind, Incident, TimelineEvent, User
from tracker.services import audit, escalation, handling, timeline
from tracker.timeutil import utcnow

EVENTS = TimelineEvent.__table__
TRIGGERS = ("timeline_events_no_update", "timeline_events_no_delete")


def act(client, world, who, reference, action, body=None):
    response = client.post(f"/api/v1/incidents/{reference}/{action}", json=body or {}, headers=world.auth(who))
    assert response.status_code in (200, 201), f"{action} on {reference}: {response.status_code} {response.get_json()}"


@pytest.fixture
def references(app, client, world) -> tuple[str, str]:
    """Two incidents: filed, routed, acknowledged (the first), commented, escalated (the second)."""
    first = file_incident(client, world)["reference"]
    second = file_incident(client, world, precedence="Z", narrative="Second pass, lower this time.")["reference"]
    act(client, world, "liaison", first, "acknowledge", {"note": "calling Eastland"})
    for reference in (first, second):
        act(client, world, "duty", reference, "comments", {"text": f"Radar track of {reference} attached."})
    with session_scope(app) as session:
        assert escalation.sweep_batch(session, utcnow() + timedelta(hours=1), 100, "test") == 1, "second escalates"
    act(client, world, "supervisor", second, "comments", {"text": "Watching it."})
    return first, second


def verify(app, *args):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def chains(app) -> dict[str, list[TimelineEvent]]:
    """Each incident's events in id order, by reference."""
    found = defaultdict(list)
    with session_scope(app) as session:
        query = select(Incident.reference, TimelineEvent).join(TimelineEvent.incident).order_by(TimelineEvent.id)
        for reference, event in session.execute(query):
            found[reference].append(event)
    return found


def tamper(app, statement) -> None:
    """Change timeline_events behind the application's back, the append-only trigger out of the way."""
    with engine_of(app).begin() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            for trigger in TRIGGERS:
                connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
        else:
            connection.exec_driver_sql("ALTER TABLE timeline_events DISABLE TRIGGER timeline_events_append_only")
        changed = connection.execute(statement).rowcount
        if sqlite:
            for trigger, action in zip(TRIGGERS, ("UPDATE", "DELETE"), strict=True):
                connection.exec_driver_sql(
                    f"CREATE TRIGGER {trigger} BEFORE {action} ON timeline_events "
                    "BEGIN SELECT RAISE(ABORT, 'timeline_events is append-only'); END"
                )
        else:
            connection.exec_driver_sql("ALTER TABLE timeline_events ENABLE TRIGGER timeline_events_append_only")
    assert changed == 1, f"the tampering statement changed {changed} rows"


def assert_linked(events: list[TimelineEvent], label: str) -> None:
    head_hash = audit.GENESIS
    for event in events:
        where = f"{label}: event {event.id} ({event.kind.value})"
        assert event.prev_hash == head_hash, f"{where} links to {event.prev_hash}, the chain ends in {head_hash}"
        assert event.hash == audit.hash_of(event), f"{where}: stored hash does not match its content"
        head_hash = event.hash


def test_every_path_leaves_one_intact_chain_per_incident(app, references):
    found = chains(app)
    assert sorted(found) == sorted(references), found.keys()
    for reference, events in found.items():
        assert_linked(events, reference)
    kinds = {e.kind for events in found.values() for e in events}
    expected = {EventKind.FILED, EventKind.ROUTED, EventKind.ACKNOWLEDGED, EventKind.COMMENTED, EventKind.ESCALATED}
    assert expected <= kinds, f"paths not exercised: {expected - kinds}"
    total = sum(map(len, found.values()))
    result = verify(app)
    assert (result.exit_code, result.output) == (0, f"audit chain intact: {total} events over 2 incidents\n")


@pytest.mark.parametrize(
    "column, value",
    [
        ("actor", "someone else"),
        ("details", {"text": "Nothing happened."}),
        ("at", "an hour later"),
        ("kind", "resolved"),
    ],
)
def test_an_event_edited_in_the_database_is_named(app, references, column, value):
    first, _ = references
    [comment] = [e for e in chains(app)[first] if e.kind is EventKind.COMMENTED]
    if value == "an hour later":
        value = comment.at + timedelta(hours=1)
    tamper(app, update(EVENTS).where(EVENTS.c.id == comment.id).values({column: value}))
    result = verify(app)
    assert result.exit_code == 1, result.output
    assert f"broken at event {comment.id} of {first} (" in result.output, result.output
    assert "content changed after it was recorded" in result.output, result.output


def test_a_deleted_middle_event_breaks_the_next_link(app, references):
    first, _ = references
    events = chains(app)[first]
    assert len(events) >= 3, [e.kind for e in events]
    gone, after = events[1], events[2]
    tamper(app, delete(EVENTS).where(EVENTS.c.id == gone.id))
    result = verify(app)
    assert result.exit_code == 1, result.output
    assert f"broken at event {after.id} of {first} ({after.kind.value})" in result.output, result.output
    assert "link to the previous event is broken" in result.output and gone.hash in result.output, result.output


def test_one_incident_can_be_verified_alone(app, references):
    first, second = references
    [comment] = [e for e in chains(app)[second] if e.kind is EventKind.ESCALATED]
    tamper(app, update(EVENTS).where(EVENTS.c.id == comment.id).values(actor="someone else"))
    alone = verify(app, "--incident", first.lower())
    assert alone.exit_code == 0 and alone.output.endswith("over 1 incidents\n"), alone.output
    assert verify(app, "--incident", second).exit_code == 1
    unknown = verify(app, "--incident", "INC-1999-99999")
    assert unknown.exit_code == 2 and "no incident" in unknown.output, unknown.output


def test_events_of_one_transaction_chain_in_id_order_even_for_a_new_incident(app, references):
    with session_scope(app) as session:
        old = session.scalars(select(Incident).order_by(Incident.id)).all()
        copied = {c.key: getattr(old[0], c.key) for c in Incident.__table__.columns if c.key not in ("id", "version")}
        new = Incident(**{**copied, "reference": "INC-TEST-00001"})
        session.add(new)  # no id until the flush
        for n in range(12):
            timeline.record(session, [*old, new][n % 3], EventKind.COMMENTED, "duty", utcnow(), text=f"n={n}")
    found = chains(app)
    for reference, events in found.items():
        assert_linked(events, reference)
        numbers = [int(e.details["text"][2:]) for e in events if e.details.get("text", "").startswith("n=")]
        assert numbers == sorted(numbers) and len(numbers) == 4, f"{reference}: chain order {numbers}"
    assert found["INC-TEST-00001"][0].prev_hash == audit.GENESIS
    assert verify(app).exit_code == 0


def test_rolled_back_appends_leave_no_stale_link(app, references):
    first, _ = references
    with session_scope(app) as session:
        incident = handling.get_incident(session, first)
        timeline.record(session, incident, EventKind.COMMENTED, "duty", utcnow(), text="rolled back")
        session.flush()
        session.rollback()
        timeline.record(session, incident, EventKind.COMMENTED, "duty", utcnow(), text="kept")
        with session.begin_nested() as savepoint:
            timeline.record(session, incident, EventKind.COMMENTED, "duty", utcnow(), text="savepoint undone")
            session.flush()
            savepoint.rollback()
        timeline.record(session, incident, EventKind.COMMENTED, "duty", utcnow(), text="after the savepoint")
    events = chains(app)[first]
    assert_linked(events, first)
    texts = [e.details.get("text") for e in events[-2:]]
    assert texts == ["kept", "after the savepoint"], texts


def test_a_second_writer_waits_for_the_first_and_links_to_its_event(app, references):
    first, _ = references
    appended, errors, order = threading.Event(), [], []

    def writer(name, before=None, after=None):
        try:
            with session_scope(app) as session:
                if before:
                    before.wait(10)
                incident = handling.get_incident(session, first)
                event = timeline.record(session, incident, EventKind.COMMENTED, name, utcnow(), text=name)
                session.flush()
                if after:
                    after.set()
                    threading.Event().wait(0.5)  # hold the transaction open while the other one tries
                order.append((name, event.id))
        except Exception as exc:  # reported by the assertion below
            errors.append(f"{name}: {exc!r}")

    threads = [
        threading.Thread(target=writer, args=("early",), kwargs={"after": appended}),
        threading.Thread(target=writer, args=("late",), kwargs={"before": appended}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    events = chains(app)[first]
    assert_linked(events, first)
    assert [e.actor for e in events[-2:]] == ["early", "late"], [(e.id, e.actor) for e in events]


def test_concurrent_comments_on_one_incident_keep_one_chain(app, references):
    first, _ = references
    barrier, errors, per_thread = threading.Barrier(2), [], 12

    def commenter(who):
        try:
            barrier.wait(10)
            for n in range(per_thread):
                with session_scope(app) as session:
                    user = session.scalar(select(User).where(User.username == who))
                    handling.comment(session, first, user, utcnow(), f"{who} {n}")
        except Exception as exc:  # reported by the assertion below
            errors.append(f"{who}: {exc!r}")

    threads = [threading.Thread(target=commenter, args=(who,)) for who in ("liaison", "supervisor")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    events = chains(app)[first]
    assert_linked(events, first)
    assert sum(e.kind is EventKind.COMMENTED for e in events) == 1 + 2 * per_thread
    assert verify(app).exit_code == 0


def test_admins_may_verify_through_the_api(app, client, world, references):
    first, _ = references
    url = "/api/v1/audit/verify"
    answer = client.get(url, headers=world.auth("admin"))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["intact"], body["incidents"], body["broken"]) == (True, 2, None), body
    assert client.get(url, headers=world.auth("supervisor")).status_code == 403
    assert client.get(f"{url}?incident=INC-1999-99999", headers=world.auth("admin")).status_code == 404
    event = chains(app)[first][0]
    tamper(app, update(EVENTS).where(EVENTS.c.id == event.id).values(actor="someone else"))
    body = client.get(f"{url}?incident={first}", headers=world.auth("admin")).get_json()
    assert body["intact"] is False, body
    broken = body["broken"]
    assert (broken["event_id"], broken["incident"], broken["problem"]) == (event.id, first, "content"), broken


def test_the_migration_chains_existing_events_as_the_application_does(app, references):
    url = app.config["DATABASE_URL"]
    before = {e.id: (e.prev_hash, e.hash) for events in chains(app).values() for e in events}
    engine_of(app).dispose()
    config = alembic_config(url)
    try:
        command.downgrade(config, "0005")
        assert current(url) == "0005"
    finally:
        upgrade(url)
    assert current(url) == head() == "0006"
    command.check(config)  # raises when the models and the migrated schema differ
    after = {e.id: (e.prev_hash, e.hash) for events in chains(app).values() for e in events}
    assert after == before, "the migration's backfill should give the same hashes as the application"
    assert verify(app).exit_code == 0
    with pytest.raises(DBAPIError, match="append-only"):
        with session_scope(app) as session:
            session.execute(update(TimelineEvent).values(actor="someone else"))
