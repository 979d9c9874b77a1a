"""The audit chain on a real database: the sweep seals every path's events, tampering in the database
itself is found and named, appends take no lock, late commits and concurrent sealers keep one chain,
and the migration seals existing events as the sweep does."""

import contextlib
import threading
import time
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import String, create_engine, delete, func, insert, select, type_coerce, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.audit_support import cli, is_sqlite, tamper
from tests.exchange_support import api
from tests.support import file_incident
from tracker import dispatch, jobs
from tracker.backup import anchor
from tracker.db import engine_of, session_scope
from tracker.migrate import alembic_config, current, head, upgrade
from tracker.models import AuditSeal, Counter, EventKind, Handover, Incident, TimelineEvent, User
from tracker.services.engine import escalation
from tracker.services.incidents import handling, timeline
from tracker.services.review import audit
from tracker.timeutil import utcnow

# The chain lives in the database: triggers, advisory locks, sequences, a migration.
pytestmark = pytest.mark.both_databases

EVENTS, SEALS = TimelineEvent.__table__, AuditSeal.__table__


def act(client, world, who, reference, action, body=None):
    response = client.post(f"/api/v1/incidents/{reference}/{action}", json=body or {}, headers=world.auth(who))
    assert response.status_code in (200, 201), f"{action} on {reference}: {response.status_code} {response.get_json()}"


@pytest.fixture
def references(app, client, world) -> tuple[str, str]:
    """Two incidents: filed, routed, acknowledged (the first), commented, escalated (the second); then a
    sweep, which seals them."""
    first = file_incident(client, world)["reference"]
    second = file_incident(client, world, precedence="Z", narrative="Second pass, lower this time.")["reference"]
    act(client, world, "liaison", first, "acknowledge", {"note": "calling Eastland"})
    for reference in (first, second):
        act(client, world, "duty", reference, "comments", {"text": f"Radar track of {reference} attached."})
    links, later = dispatch.ack_links(app), utcnow() + timedelta(hours=1)
    with session_scope(app) as session:
        assert escalation.sweep_batch(session, later, 100, "test", links) == 1, "second escalates"
    act(client, world, "supervisor", second, "comments", {"text": "Watching it."})
    jobs.sweep(app)
    return first, second


def sealed_events(app) -> list[tuple[AuditSeal, TimelineEvent, str]]:
    """Every seal in seq order with its event and the event's incident reference."""
    with session_scope(app) as session:
        query = (
            select(AuditSeal, TimelineEvent, Incident.reference)
            .join(TimelineEvent, TimelineEvent.id == AuditSeal.event_id)
            .join(TimelineEvent.incident)
            .order_by(AuditSeal.seq)
        )
        return [tuple(row) for row in session.execute(query)]


def events_of(app, reference: str) -> list[tuple[AuditSeal, TimelineEvent]]:
    return [(s, e) for s, e, r in sealed_events(app) if r == reference]


def comment(app, reference: str, who: str, text: str) -> int:
    with session_scope(app) as session:
        user = session.scalar(select(User).where(User.username == who))
        return handling.comment(session, reference, user, utcnow(), text).id


def test_the_sweep_seals_every_path_and_verify_finds_the_chain_intact(app, references):
    found = sealed_events(app)
    assert {r for _, _, r in found} == set(references)
    with session_scope(app) as session:
        ids = session.scalars(select(TimelineEvent.id).order_by(TimelineEvent.id)).all()
    assert [s.event_id for s, _, _ in found] == ids, "everything committed before the sweep: sealed in id order"
    assert [s.seq for s, _, _ in found] == list(range(1, len(found) + 1)), "seq runs 1, 2, 3 ... without a gap"
    kinds = {e.kind for _, e, _ in found}
    expected = {EventKind.FILED, EventKind.ROUTED, EventKind.ACKNOWLEDGED, EventKind.COMMENTED, EventKind.ESCALATED}
    assert expected <= kinds, f"paths not exercised: {expected - kinds}"
    result = cli(app, "verify")
    last = found[-1][0]
    assert (result.exit_code, result.output) == (
        0,
        f"audit chain intact: {len(found)} seals over 2 incidents, 0 events not yet sealed\n"
        f"latest seal {last.seq}: {last.hash}\n",
    )


def test_a_new_event_waits_unsealed_until_the_next_seal(app, references):
    first, _ = references
    event_id = comment(app, first, "liaison", "One more thing.")
    assert "1 event not yet sealed" in cli(app, "verify").output
    sealing = cli(app, "seal")
    assert (sealing.exit_code, sealing.output) == (0, "sealed 1 events\n")
    assert events_of(app, first)[-1][1].id == event_id
    assert "0 events not yet sealed" in cli(app, "verify").output
    with session_scope(app) as session:
        assert session.get(Counter, audit.WATERMARK).value == event_id, "nothing is in flight: all settled"
    assert cli(app, "seal").output == "sealed 0 events\n"


# A trigger refusing every seal, and what takes it away again (on PostgreSQL the worker's database is refilled
# between tests, not made anew: a trigger left there would refuse the next test's seals).
REFUSE_SEALS = {
    "sqlite": (
        ["CREATE TRIGGER refuse_seals BEFORE INSERT ON audit_seals BEGIN SELECT RAISE(ABORT, 'no room for it'); END"],
        ["DROP TRIGGER refuse_seals"],
    ),
    "postgresql": (
        [
            "CREATE FUNCTION refuse_seals() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
            "'no room for it'; END $$",
            "CREATE TRIGGER refuse_seals BEFORE INSERT ON audit_seals FOR EACH ROW EXECUTE FUNCTION refuse_seals()",
        ],
        ["DROP TRIGGER refuse_seals ON audit_seals", "DROP FUNCTION refuse_seals()"],
    ),
}


@contextlib.contextmanager
def seals_refused(app):
    made, undo = REFUSE_SEALS["sqlite" if is_sqlite(app) else "postgresql"]
    run_statements(app, made)
    try:
        yield
    finally:
        run_statements(app, undo)


def run_statements(app, statements: list[str]) -> None:
    with engine_of(app).begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


@pytest.mark.both_databases  # the seals go in by COPY on PostgreSQL, whose errors are the driver's own
def test_a_seal_the_database_refuses_is_said_in_one_line_and_the_seals_before_it_kept(app, references):
    """`audit seal` let the database's refusal out as a traceback (a trigger, a full disk, a connection cut): the
    operator read SQLAlchemy's or psycopg's frames, not what failed, nor that the seals made before it stood."""
    first, _ = references
    comment(app, first, "liaison", "One more thing.")
    with seals_refused(app):
        sealing = cli(app, "seal")
    assert sealing.exit_code == 1, sealing.output
    assert isinstance(sealing.exception, SystemExit), sealing.exception
    assert sealing.output.startswith("Error: sealing stopped: no room for it"), sealing.output
    assert "the seals made before it stand" in sealing.output and len(sealing.output.splitlines()) == 1
    assert cli(app, "verify").exit_code == 0, "the chain sealed before is intact"


@pytest.mark.parametrize(
    "column, value",
    [
        ("actor", "someone else"),
        ("details", {"text": "Nothing happened."}),
        ("at", "an hour later"),
        ("kind", "resolved"),
        ("incident_id", "the other incident"),
    ],
)
def test_an_event_edited_in_the_database_is_named(app, references, column, value):
    first, second = references
    seal, event = next((s, e) for s, e in events_of(app, first) if e.kind is EventKind.COMMENTED)
    if value == "an hour later":
        value = event.at + timedelta(hours=1)
    elif value == "the other incident":
        value = events_of(app, second)[0][1].incident_id
    tamper(app, update(EVENTS).where(EVENTS.c.id == event.id).values({column: value}))
    result = cli(app, "verify")
    assert result.exit_code == 1, result.output
    assert f"broken at event {event.id} of " in result.output and f", seal {seal.seq}: " in result.output
    changed = f"sealed as an event of {first} and has been moved" if column == "incident_id" else "content changed"
    assert changed in result.output, result.output
    assert f"({seal.seq - 1} seals checked intact before it)" in result.output


def test_an_event_moved_to_another_incident_is_named_by_the_verify_of_either(app, client, world, references):
    """One incident's verify found its seals through their events' incident: an event moved off it in the
    database was simply not among them, and `verify --incident` said the incident was intact."""
    first, second = references
    seal, event = next((s, e) for s, e in events_of(app, first) if e.kind is EventKind.ACKNOWLEDGED)
    assert seal.incident_id == event.incident_id, "the seal names the incident its event was sealed under"
    other = events_of(app, second)[0][1].incident_id
    tamper(app, update(EVENTS).where(EVENTS.c.id == event.id).values(incident_id=other))
    for reference in (first, second):
        result = cli(app, "verify", "--incident", reference)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"audit chain broken at event {event.id} of {second} (acknowledged), "), (
            result.output
        )
        assert f"it was sealed as an event of {first} and has been moved to another incident" in result.output
    url = f"/api/v1/audit/verify?incident={first}"
    broken = client.get(url, headers=world.auth("admin")).get_json()["broken"]
    assert (broken["seq"], broken["event_id"], broken["problem"], broken["incident"]) == (
        seal.seq,
        event.id,
        "moved",
        second,
    ), broken


def signed_handover(client, world) -> dict:
    """duty starts a watch and hands it to liaison, who signs for it."""
    watch = api(client, world, "POST", "/watches", {}, who="duty", status=201)
    body = {"incoming": "liaison", "notes": "Eastland's hotline is slow to answer."}
    prepared = api(client, world, "POST", f"/watches/{watch['id']}/handover", body, who="duty", status=201)
    api(client, world, "POST", f"/handovers/{prepared['id']}/sign", {"digest": prepared["digest"]}, who="liaison")
    return prepared


@pytest.mark.parametrize(
    "column, value",
    [
        ("notes", "Nothing to hand over."),
        ("brief", {"open_incidents": []}),
        ("signed_at", "an hour earlier"),
        ("incoming_officer_id", "duty"),
    ],
)
def test_a_signed_handover_is_sealed_and_an_edit_of_it_is_named(app, client, world, references, column, value):
    """A handover was an account record outside the chain: its brief, notes, officers or times edited in
    the database, audit verify still said intact."""
    first, _ = references
    waiting = api(client, world, "POST", "/watches", {"desk": "Hotline desk"}, who="supervisor", status=201)
    unsigned = {"incoming": "admin"}
    api(client, world, "POST", f"/watches/{waiting['id']}/handover", unsigned, who="supervisor", status=201)
    handover = signed_handover(client, world)
    before = cli(app, "verify")
    assert (before.exit_code, "1 event not yet sealed" in before.output) == (0, True), before.output
    jobs.sweep(app)
    with session_scope(app) as session:
        sealed = session.scalars(select(AuditSeal).where(AuditSeal.handover_id.is_not(None))).all()
        signed_at = session.get(Handover, handover["id"]).signed_at
        duty = session.scalar(select(User.id).where(User.username == "duty"))
    assert [s.handover_id for s in sealed] == [handover["id"]], "the signed one only: not one to be signed"
    [seal] = sealed
    with session_scope(app) as session:
        last = audit.head(session)
    assert (last.seq, last.event_id, last.handover_id) == (seal.seq, None, handover["id"]), "sealed last"
    # The head kept outside the database (the anchor; a backup's manifest) names the handover.
    assert anchor.read(anchor.path_for(app.config, app.instance_path)) == last
    assert audit.ChainHead(**anchor.body(last)) == last, "as restore reads a manifest's chain"
    intact = cli(app, "verify")
    assert (intact.exit_code, f"latest seal {seal.seq}: {seal.hash}") == (0, intact.output.splitlines()[1])
    assert "0 events not yet sealed" in intact.output, intact.output

    if value == "an hour earlier":
        value = signed_at - timedelta(hours=1)
    elif value == "duty":
        value = duty
    engine = create_engine(app.config["DATABASE_URL"])  # handovers have no trigger to get out of the way
    try:
        with engine.begin() as connection:
            handovers = Handover.__table__
            connection.execute(update(handovers).where(handovers.c.id == handover["id"]).values({column: value}))
    finally:
        engine.dispose()
    result = cli(app, "verify")
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"audit chain broken at handover {handover['id']}, seal {seal.seq}: "), (
        result.output
    )
    assert "its content changed after it was sealed" in result.output, result.output
    assert cli(app, "verify", "--incident", first).exit_code == 0, "a handover is no incident's"
    broken = client.get("/api/v1/audit/verify", headers=world.auth("admin")).get_json()["broken"]
    assert (broken["seq"], broken["event_id"], broken["handover_id"], broken["problem"]) == (
        seal.seq,
        None,
        handover["id"],
        "content",
    ), broken


@pytest.mark.parametrize("column, text", [("details", '{"text": "Nothing happ'), ("at", "the day before")])
def test_an_event_edited_into_what_cannot_be_read_is_named(app, references, column, text):
    if not is_sqlite(app):
        pytest.skip("PostgreSQL stores only valid JSON and times in these columns")
    first, _ = references
    seal, event = events_of(app, first)[1]
    tamper(app, update(EVENTS).where(EVENTS.c.id == event.id).values({column: type_coerce(text, String)}))
    result = cli(app, "verify")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), repr(result.exception)
    where = f"broken at event {event.id} of {first} ({event.kind.value}), seal {seal.seq}: "
    assert where in result.output, result.output
    assert "changed after it was sealed" in result.output and "cannot be read" in result.output, result.output


def test_a_sealed_event_is_held_by_its_seal_even_with_the_append_only_trigger_off(app, references):
    first, _ = references
    event = events_of(app, first)[1][1]
    with pytest.raises(IntegrityError):
        tamper(app, delete(EVENTS).where(EVENTS.c.id == event.id))


def test_a_deleted_event_is_found(app, references):
    first, _ = references
    seal, event = events_of(app, first)[1]
    tamper(app, delete(EVENTS).where(EVENTS.c.id == event.id), foreign_keys=False)
    for args in ((), ("--incident", first)):  # the seal names its incident: found there too
        result = cli(app, "verify", *args)
        assert result.exit_code == 1, result.output
        assert f"broken at event {event.id}, seal {seal.seq}: the event is gone" in result.output, result.output
        assert f"(an event of {first}, its seal is {seal.hash})" in result.output, result.output


def test_a_deleted_seal_leaves_a_gap(app, references):
    seal = sealed_events(app)[3][0]
    tamper(app, delete(SEALS).where(SEALS.c.seq == seal.seq))
    result = cli(app, "verify")
    assert result.exit_code == 1, result.output
    assert f", seal {seal.seq + 1}: seal {seal.seq} before it is missing" in result.output, result.output


def test_an_event_inserted_below_the_sealed_ones_is_named(app, references):
    first, _ = references
    sealed = sealed_events(app)
    incident_id = next(e.incident_id for _, e, r in sealed if r == first)
    # No trigger to get out of the way: an INSERT with an id of one's choosing, back-dated.
    engine = create_engine(app.config["DATABASE_URL"])
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(EVENTS).values(
                    id=0,
                    incident_id=incident_id,
                    kind="commented",
                    actor="duty",
                    at=sealed[0][1].at - timedelta(days=30),
                    details={"text": "Eastland was warned."},
                )
            )
    finally:
        engine.dispose()
    jobs.sweep(app)
    assert cli(app, "seal").output == "sealed 0 events\n", "below the watermark: never sealed"
    for args in ((), ("--incident", first)):
        result = cli(app, "verify", *args)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"audit chain broken at event 0 of {first} (commented): "), result.output
        assert "inserted into timeline_events behind the application's back" in result.output, result.output


@pytest.mark.parametrize("change", ["update", "delete"])
def test_seals_are_append_only_in_the_database(app, references, change):
    statement = update(AuditSeal).values(hash="0" * 64) if change == "update" else delete(AuditSeal)
    with pytest.raises(DBAPIError, match="append-only"):
        with session_scope(app) as session:
            session.execute(statement)


def test_one_incident_is_verified_alone_with_each_seal_still_linked_to_the_one_before(app, references):
    first, second = references
    escalated = next(e for _, e in events_of(app, second) if e.kind is EventKind.ESCALATED)
    tamper(app, update(EVENTS).where(EVENTS.c.id == escalated.id).values(actor="someone else"))
    alone = cli(app, "verify", "--incident", first.lower())
    assert alone.exit_code == 0 and "seals over 1 incident, 0 events not yet sealed" in alone.output, alone.output
    assert cli(app, "verify", "--incident", second).exit_code == 1
    unknown = cli(app, "verify", "--incident", "INC-1999-99999")
    assert unknown.exit_code == 2 and "no incident" in unknown.output, unknown.output

    found = sealed_events(app)
    pairs = zip(found, found[1:], strict=False)
    before_first = next(s for (s, _, r), (_, _, next_r) in pairs if (r, next_r) == (second, first))
    tamper(app, delete(SEALS).where(SEALS.c.seq == before_first.seq))
    gap = cli(app, "verify", "--incident", first)
    assert gap.exit_code == 1 and f"seal {before_first.seq} before it is missing" in gap.output, gap.output


def test_concurrent_appends_are_all_sealed_in_one_intact_chain(app, references):
    first, second = references
    barrier, errors, per_thread = threading.Barrier(3), [], 10

    def commenter(who, reference):
        try:
            barrier.wait(10)
            for n in range(per_thread):
                comment(app, reference, who, f"{who} {n}")
        except Exception as exc:  # reported by the assertion below
            errors.append(f"{who}: {exc!r}")

    threads = [
        threading.Thread(target=commenter, args=args)
        for args in (("liaison", first), ("supervisor", first), ("duty", second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert audit.seal_all(lambda: session_scope(app)) == 3 * per_thread
    result = cli(app, "verify")
    assert result.exit_code == 0 and "0 events not yet sealed" in result.output, result.output


def postgresql_only(app):
    if is_sqlite(app):
        pytest.skip("SQLite has one writer at a time: no append runs beside a sealer, none commits late")


def test_an_append_takes_no_lock_a_sealer_holds(app, references):
    postgresql_only(app)
    first, _ = references
    comment(app, first, "duty", "sealed by the slow sealer")
    done = threading.Event()

    def append():
        comment(app, first, "liaison", "meanwhile")
        done.set()

    with session_scope(app) as sealer:
        assert audit.seal(sealer) == 1  # holds the sealer lock and its new seal until the end of the block
        writer = threading.Thread(target=append)
        writer.start()
        assert done.wait(10), "the append waited for the sealer"
    writer.join(10)
    assert audit.seal_all(lambda: session_scope(app)) == 1
    assert cli(app, "verify").exit_code == 0


def test_a_late_commit_with_a_lower_id_is_sealed_by_a_later_seal(app, references):
    postgresql_only(app)
    first, _ = references
    factory = app.extensions["tracker.db"]
    with factory() as late:
        incident = handling.get_incident(late, first)
        slow = timeline.record(late, incident, EventKind.COMMENTED, "duty", utcnow(), text="drafted first")
        late.flush()  # its id is drawn now; it commits last
        quick = [comment(app, first, "liaison", f"quick {n}") for n in range(3)]
        assert slow.id < min(quick)
        assert audit.seal_all(lambda: session_scope(app)) == 3, "the uncommitted event is not seen"
        with session_scope(app) as session:
            assert session.get(Counter, audit.WATERMARK).value < slow.id, "an insert is in flight below"
        late.commit()
    assert audit.seal_all(lambda: session_scope(app)) == 1, "the late event is found below the sealed ones"
    seqs = {e.id: s.seq for s, e in events_of(app, first)}
    assert seqs[slow.id] > max(seqs[q] for q in quick), seqs
    result = cli(app, "verify")
    assert result.exit_code == 0 and "0 events not yet sealed" in result.output, result.output


def test_two_sealers_at_once_never_fork_the_chain(app, references):
    first, _ = references
    writing, errors, appended = threading.Event(), [], []

    def writer():
        try:
            for n in range(30):
                appended.append(comment(app, first, "duty", f"n={n}"))
        except Exception as exc:  # reported by the assertion below
            errors.append(f"writer: {exc!r}")
        finally:
            writing.set()

    def sealer(wait):
        try:
            while not writing.is_set():
                with session_scope(app) as session:
                    audit.seal(session, 3, wait)
                time.sleep(0.005)  # let the writer have SQLite's write lock now and then
        except Exception as exc:  # reported by the assertion below
            errors.append(f"sealer: {exc!r}")

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=sealer, args=(w,)) for w in (True, True, False)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    audit.seal_all(lambda: session_scope(app))
    with session_scope(app) as session:
        seqs = session.scalars(select(AuditSeal.seq).order_by(AuditSeal.seq)).all()
        events = session.scalar(select(func.count()).select_from(TimelineEvent))
    assert seqs == list(range(1, events + 1)), "one seal per event, seq without gap or fork"
    assert cli(app, "verify").exit_code == 0


def test_the_api_says_when_the_anchor_could_not_be_checked(app, client, world, references):
    """An anchor file that is no anchor stops the CLI, naming the file; the API checked the chain without it
    and answered intact, so a chain rewritten together with its anchor spoiled read as sound there."""
    path = anchor.path_for(app.config, app.instance_path)
    path.write_text("not an anchor")
    body = client.get("/api/v1/audit/verify", headers=world.auth("admin")).get_json()
    assert (body["intact"], body["anchor"]) == (True, "unreadable"), body
    assert cli(app, "verify").exit_code == 1, "the CLI names the file"
    path.unlink()
    body = client.get("/api/v1/audit/verify", headers=world.auth("admin")).get_json()
    assert (body["intact"], body["anchor"]) == (True, "none"), body


def test_admins_may_verify_through_the_api(app, client, world, references):
    first, _ = references
    url = "/api/v1/audit/verify"
    answer = client.get(url, headers=world.auth("admin"))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    last = sealed_events(app)[-1][0]
    assert (body["intact"], body["incidents"], body["unsealed"], body["broken"]) == (True, 2, 0, None), body
    assert body["latest"] == {"seq": last.seq, "hash": last.hash} and body["seals"] == last.seq, body
    assert body["anchor"] == "checked", body
    assert client.get(url, headers=world.auth("supervisor")).status_code == 403
    assert client.get(f"{url}?incident=INC-1999-99999", headers=world.auth("admin")).status_code == 404
    seal, event = events_of(app, first)[0]
    tamper(app, update(EVENTS).where(EVENTS.c.id == event.id).values(actor="someone else"))
    body = client.get(f"{url}?incident={first}", headers=world.auth("admin")).get_json()
    assert body["intact"] is False, body
    broken = body["broken"]
    assert (broken["seq"], broken["event_id"], broken["incident"], broken["problem"]) == (
        seal.seq,
        event.id,
        first,
        "content",
    ), broken
    assert broken["expected"] == seal.hash and broken["message"].startswith("audit chain broken at event "), broken


def test_the_migration_seals_existing_events_as_the_sweep_does(app, references):
    url = app.config["DATABASE_URL"]
    before = [(s.seq, s.event_id, s.incident_id, s.prev_hash, s.hash) for s, _, _ in sealed_events(app)]
    engine_of(app).dispose()
    config = alembic_config(url)
    try:
        command.downgrade(config, "0005")
        assert current(url) == "0005"
    finally:
        upgrade(url)
    assert current(url) == head()
    command.check(config)  # raises when the models and the migrated schema differ
    after = [(s.seq, s.event_id, s.incident_id, s.prev_hash, s.hash) for s, _, _ in sealed_events(app)]
    assert after == before, "the migration should seal existing events as the sweep did"
    assert cli(app, "verify").exit_code == 0
    for model, values in ((TimelineEvent, {"actor": "someone else"}), (AuditSeal, {"hash": "0" * 64})):
        with pytest.raises(DBAPIError, match="append-only"):
            with session_scope(app) as session:
                session.execute(update(model).values(values))
