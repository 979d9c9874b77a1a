"""Faults: a scheduler killed mid-sweep, a scheduler whose database connections are cut or refused,
and acknowledgements from many clients racing the sweep.

The process tests run real `flask --app wsgi scheduler` processes (tests/schedulers.py). The kill
test runs on SQLite too (fewer incidents); the connection test is about PostgreSQL backends.
"""

import contextlib
import os
import random
import signal
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.schedulers import all_beating, copy_incidents, file_many, runner_of, start_scheduler, stop, wait_until
from tests.support import build_world, outbox_files
from tracker import dispatch
from tracker.db import session_scope
from tracker.models import (
    AttemptOutcome,
    DeliveryAttempt,
    EventKind,
    Incident,
    IncidentStatus,
    Notification,
    NotificationStatus,
    Runner,
    TimelineEvent,
)
from tracker.services.engine import escalation
from tracker.timeutil import UTC, utcnow

# Killed and cut-off schedulers: what each engine does with a transaction left half done.
pytestmark = [pytest.mark.slow, pytest.mark.both_databases]
LATER = datetime(2100, 1, 1, tzinfo=UTC)
# A two-step ladder run to its end: escalated to step 2, then exhausted (the supervisors are told).
TWO_STEPS = [(1, 0, 2, 0), "exhausted"]
TERMINATE = text(
    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND application_name = :name AND pid <> pg_backend_pid()"
)


def on_postgresql(app) -> bool:
    return app.config["DATABASE_URL"].startswith("postgresql")


def named(url: str, name: str, **parts) -> str:
    """The URL with an application_name (PostgreSQL shows it in pg_stat_activity) and other parts."""
    if not url.startswith("postgresql"):
        return url
    return make_url(url).set(**parts).update_query_dict({"application_name": name}).render_as_string(False)


def set_deadlines(app, at: datetime) -> None:
    with session_scope(app) as session:
        session.execute(update(Incident).where(Incident.status == IncidentStatus.OPEN).values(next_escalation_at=at))


def escalations_by(app, runner: str) -> int:
    with session_scope(app) as session:
        return session.scalar(
            select(func.count()).where(
                TimelineEvent.kind == EventKind.ESCALATED, TimelineEvent.details["runner"].as_string() == runner
            )
        )


def finished(app) -> bool:
    """Every incident at the end of its ladder and every message sent."""
    with session_scope(app) as session:
        open_left = session.scalar(select(func.count()).where(Incident.status != IncidentStatus.EXHAUSTED))
        unsent = session.scalar(select(func.count()).where(Notification.status != NotificationStatus.SENT))
    return open_left == 0 and unsent == 0


def advances(app) -> tuple[dict[int, list], Counter]:
    """Each incident's escalations and exhaustion in order, and how many escalations each runner made."""
    steps, runners = defaultdict(list), Counter()
    with session_scope(app) as session:
        for kind, incident_id, d in session.execute(
            select(TimelineEvent.kind, TimelineEvent.incident_id, TimelineEvent.details)
            .where(TimelineEvent.kind.in_((EventKind.ESCALATED, EventKind.EXHAUSTED)))
            .order_by(TimelineEvent.id)
        ):
            if kind is EventKind.ESCALATED:
                steps[incident_id].append((d["from_step"], d["from_loop"], d["step"], d["loop"]))
                runners[d["runner"]] += 1
            else:
                steps[incident_id].append("exhausted")
    return steps, runners


def assert_each_deadline_acted_on_once(app, ids: list[int], expected: list) -> Counter:
    steps, runners = advances(app)
    wrong = {i: s for i, s in steps.items() if s != expected}
    assert not wrong, f"{len(wrong)} incidents advanced wrongly, e.g. {list(wrong.items())[:3]}"
    assert sorted(steps) == sorted(ids), "every incident advanced"
    return runners


def assert_each_message_delivered_once(app, per_incident: Counter) -> Counter:
    """One outbox row per message, each sent once: one "notified" event, one sent attempt, one file."""
    with session_scope(app) as session:
        rows = session.execute(
            select(Notification.id, Notification.incident_id, Notification.kind, Notification.status)
            .add_columns(Notification.step, Notification.loop, Notification.channel_id, Notification.user_id)
            .add_columns(Notification.attempts)
        ).all()
        notified = Counter(
            session.scalars(
                select(TimelineEvent.details["notification_id"].as_integer()).where(
                    TimelineEvent.kind == EventKind.NOTIFIED
                )
            )
        )
        sent_attempts = Counter(
            session.scalars(
                select(DeliveryAttempt.notification_id).where(DeliveryAttempt.outcome == AttemptOutcome.SENT)
            )
        )
    assert Counter(r.incident_id for r in rows) == per_incident, "the expected messages, no more"
    keys = Counter((r.incident_id, r.kind, r.step, r.loop, r.channel_id, r.user_id) for r in rows)
    assert max(keys.values()) == 1, "no outbox row duplicated"
    assert {r.status for r in rows} == {NotificationStatus.SENT}, "nothing left pending or claimed"
    ids = {r.id for r in rows}
    assert set(notified) == ids and set(notified.values()) == {1}, "one notified event per message"
    assert set(sent_attempts) == ids and set(sent_attempts.values()) == {1}, "one sent attempt per message"
    # The outbox transport names each file after its message: a message sent again replaces its own file.
    assert len(outbox_files(app)) == len(ids)
    return Counter(r.attempts for r in rows)


def backend_in_transaction(app, name: str) -> bool:
    with session_scope(app) as session:
        return bool(
            session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
                    "AND state IN ('active', 'idle in transaction')"
                ),
                {"name": name},
            )
        )


def backend_alive(app, name: str) -> bool:
    with session_scope(app) as session:
        return bool(
            session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"), {"name": name})
        )


def test_a_scheduler_killed_mid_sweep_loses_and_doubles_nothing(app, tmp_path):
    postgresql = on_postgresql(app)
    if not postgresql:
        pytest.skip(
            "PostgreSQL only: on SQLite this test's own reads queue behind the schedulers' write lock, so it "
            "cannot see a sweep half done and strike then (seen in CI: the victim had finished all 1,000)"
        )
    count = 800  # the victim is struck after its first 100 escalations: most of the work is still ahead
    build_world(app, steps=(("L1",), ("L2",)), ack_seconds=1, repeat=0)
    [template] = file_many(app, 1)
    ids = [template, *copy_incidents(app, template, count - 1)]
    set_deadlines(app, LATER)  # held back until both schedulers run
    url, logs = app.config["DATABASE_URL"], [tmp_path / f"scheduler-{n}.log" for n in range(3)]
    # Claims last the default 120 s: the killed scheduler's are taken over when its heartbeat stops, here
    # after 8 s of silence (PostgreSQL only: no beat queues behind a database-wide write lock). 3 s was too
    # short on a loaded 2-core machine (the suite's other worker beside three schedulers): a live one,
    # starved that long, had its claims taken over mid-send, and a message was sent twice.
    names, dead = ["scheduler-0", "scheduler-1"], {"RUNNER_DEAD_INTERVALS": 40}
    processes = [start_scheduler(app, logs[n], DATABASE_URL=named(url, names[n]), **dead) for n in range(2)]
    try:
        # Both running their jobs (heartbeats on record), then two intervals more: a fixed second after
        # "sweep every" was mostly waiting on nothing.
        wait_until(lambda: all_beating(app, processes), 30, "both beating", logs, 0.05)
        time.sleep(0.4)
        set_deadlines(app, utcnow())
        # Strike the one that has started advancing (SQLite's write lock may favour one process).
        victim = wait_until(lambda: advancing(app, processes, 100), 60, "escalating", logs, 0.05) - 1
        killed, survivor = processes[victim], processes[1 - victim]
        if postgresql:  # inside one of its transactions (a sweep batch, a delivery claim)
            with contextlib.suppress(AssertionError):
                wait_until(lambda: backend_in_transaction(app, names[victim]), 2, "in a transaction", every=0.01)
        struck_at = utcnow()
        killed.send_signal(signal.SIGKILL)
        assert killed.wait(10) == -signal.SIGKILL
        # A COMMIT the victim sent just before it died still lands: count once its backends are gone
        # (counted at once, 100 escalations became 150).
        wait_until(lambda: not backend_alive(app, names[victim]), 10, "its backends gone", logs, 0.05)
        by_killed = escalations_by(app, runner_of(killed))
        assert by_killed < count, "killed before the work was done"
        time.sleep(1)
        restarted = start_scheduler(app, logs[2], DATABASE_URL=named(url, "scheduler-2"), **dead)
        processes.append(restarted)
        wait_until(lambda: finished(app), 90, "finished", logs, 0.5)
        assert survivor.poll() is None and restarted.poll() is None, "the others run on"
        survivor.send_signal(signal.SIGTERM)  # as systemd stops it
        assert survivor.wait(30) == 0, "a clean stop"
    finally:
        for process in processes:
            stop(process)

    with session_scope(app) as session:
        left = set(session.scalars(select(Runner.name)))
    assert left == {runner_of(killed)}, "the schedulers stopped cleanly removed their heartbeats"

    runners = assert_each_deadline_acted_on_once(app, ids, TWO_STEPS)
    assert runners[runner_of(killed)] == by_killed, "what the killed scheduler committed stands; the rest vanished"
    # One message for step 2 and one to the supervisor per incident; the filed one also notified step 1.
    try:
        attempts = assert_each_message_delivered_once(app, Counter({**dict.fromkeys(ids, 2), template: 3}))
    except AssertionError as failed:
        who = {runner_of(p): f"scheduler-{n}" for n, p in enumerate(processes)}
        raise AssertionError(f"{failed}\n{sent_twice(app, struck_at, who, logs)}") from None
    assert set(attempts) <= {1, 2}, f"a message is claimed again only after its claim lapsed: {attempts}"


def sent_twice(app, struck_at: datetime, who: dict[str, str], logs) -> str:
    """What tells a message sent twice by a live scheduler starved past the takeover time (its heartbeat
    late on a loaded machine) from one the killed scheduler sent and recorded before another sent it
    again: each such message's sent attempts against the moment of the kill, its last claimer, and
    the warnings of every scheduler's log."""
    with session_scope(app) as session:
        twice = (
            session.execute(
                select(DeliveryAttempt.notification_id)
                .where(DeliveryAttempt.outcome == AttemptOutcome.SENT)
                .group_by(DeliveryAttempt.notification_id)
                .having(func.count() > 1)
            )
            .scalars()
            .all()
        )
        lines = [f"struck at {struck_at:%H:%M:%S.%f}; runners {who}; {len(twice)} messages sent twice"]
        for notification_id in twice[:5]:
            row = session.get(Notification, notification_id)
            times = session.scalars(
                select(DeliveryAttempt.at)
                .where(DeliveryAttempt.notification_id == notification_id)
                .order_by(DeliveryAttempt.id)
            ).all()
            lines.append(
                f"message {notification_id} ({row.kind.value}, claims {row.attempts}, last by "
                f"{who.get(row.claimed_by or '', row.claimed_by)}): sent at {[f'{t:%H:%M:%S.%f}' for t in times]}"
            )
    for log in logs:
        said = [line for line in log.read_text(errors="replace").splitlines() if "WARNING" in line or "ERROR" in line]
        lines.append(f"{log.name}: " + (" | ".join(said[-15:]) or "no warnings"))
    return "\n".join(lines)


def advancing(app, processes, at_least: int) -> int:
    """1 + the index of the process that escalated the most incidents, once that is at least at_least."""
    with session_scope(app) as session:
        done = dict(
            session.execute(
                select(TimelineEvent.details["runner"].as_string(), func.count())
                .where(TimelineEvent.kind == EventKind.ESCALATED)
                .group_by(text("1"))  # by position: the two JSON paths would get two bound parameters
            ).all()
        )
    most, index = max((done.get(runner_of(p), 0), n) for n, p in enumerate(processes))
    return index + 1 if most >= at_least else 0


@contextlib.contextmanager
def scheduler_role(url: str):
    """A login role of the scheduler's own, so the test can refuse it the database and nobody else."""
    role = f"tracker_scheduler_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
            connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
            connection.exec_driver_sql(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
            connection.exec_driver_sql(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    except DBAPIError as error:
        admin.dispose()
        pytest.skip(f"the test database's user may not create roles: {error.orig}")
    try:
        yield role, admin
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'ALTER ROLE "{role}" NOLOGIN')
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role"), {"role": role}
            )
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def sweep_health(app) -> str:
    return app.test_client().get("/api/v1/health").get_json()["sweep"]


def test_a_scheduler_cut_off_its_database_recovers_by_itself_and_health_says_stale_meanwhile(app, tmp_path):
    if not on_postgresql(app):
        pytest.skip("about PostgreSQL backends: pg_terminate_backend, and a role refused at login")
    build_world(app, steps=(("L1",), ("L2",)), ack_seconds=1, repeat=0)
    log, name = tmp_path / "scheduler.log", "scheduler-cut"
    with scheduler_role(app.config["DATABASE_URL"]) as (role, admin):
        url = named(app.config["DATABASE_URL"], name, username=role)
        scheduler = start_scheduler(app, log, DATABASE_URL=url, DELIVERY_CLAIM_SECONDS=2)
        try:
            wait_until(lambda: sweep_health(app) == "ok", 30, "sweeping", [log])
            ids = file_many(app, 20)

            # 1. Its connections are terminated again and again while incidents keep coming due.
            terminated, started = 0, time.monotonic()
            while time.monotonic() - started < 4:
                with admin.connect() as connection:
                    terminated += connection.execute(TERMINATE, {"name": name}).scalar()
                if len(ids) < 80 and time.monotonic() - started > len(ids) / 20:
                    ids += file_many(app, 20)
                time.sleep(random.uniform(0.05, 0.3))
            cut_at = utcnow()
            assert terminated >= 5, f"only {terminated} of its connections were terminated"
            ids += file_many(app, 20)  # fresh work, due after the cuts: the earlier work may all be done
            wait_until(lambda: escalated_since(app, cut_at), 15, "escalating again after the cuts", [log])
            assert scheduler.poll() is None, "the scheduler survived its connections' loss"

            # 2. The database refuses it: no sweep finishes, and health says so.
            with admin.connect() as connection:
                connection.exec_driver_sql(f'ALTER ROLE "{role}" NOLOGIN')
                connection.execute(TERMINATE, {"name": name})
            ids += file_many(app, 20)
            wait_until(lambda: sweep_health(app) == "stale", 15, "reported stale", [log])
            assert scheduler.poll() is None
            with admin.connect() as connection:
                connection.exec_driver_sql(f'ALTER ROLE "{role}" LOGIN')
            wait_until(lambda: sweep_health(app) == "ok", 15, "healthy again", [log])
            wait_until(lambda: finished(app), 60, "finished", [log], 0.5)
            assert scheduler.poll() is None, "the same process, never restarted"
        finally:
            stop(scheduler)

    assert "sweep failed" in log.read_text() or "delivery failed" in log.read_text(), "the cuts were felt"
    assert_each_deadline_acted_on_once(app, ids, TWO_STEPS)
    assert_each_message_delivered_once(app, Counter(dict.fromkeys(ids, 3)))


def escalated_since(app, at: datetime) -> int:
    with session_scope(app) as session:
        return session.scalar(
            select(func.count()).where(TimelineEvent.kind == EventKind.ESCALATED, TimelineEvent.at > at)
        )


def test_twenty_clients_acknowledging_while_the_sweep_escalates_get_one_200_each_and_nothing_after(app):
    world = build_world(app, steps=(("L1",), ("L2",)), ack_seconds=0, repeat=100_000)
    ids = file_many(app, 120)  # each client takes some 15 of them: every acknowledgement races a sweep
    with session_scope(app) as session:
        references = session.scalars(select(Incident.reference).where(Incident.id.in_(ids))).all()
    # Each incident goes to two or three of the 20 clients, in a different order for each client.
    clients = defaultdict(list)
    for reference in references:
        for client in random.sample(range(20), random.choice((2, 3))):
            clients[client].append(reference)
    stop_sweeping, sweeps, errors, outcomes = threading.Event(), Counter(), [], defaultdict(list)
    links = dispatch.ack_links(app)

    def sweeper(name):
        while not stop_sweeping.is_set():
            try:
                with session_scope(app) as session:
                    sweeps[name] += escalation.sweep_batch(session, utcnow(), 50, name, links)
            except Exception as exc:  # reported by the assertion below
                errors.append(repr(exc))
                return
            time.sleep(random.uniform(0, 0.01))

    def acknowledger(n, batch):
        client, who = app.test_client(), ("liaison", "supervisor", "admin")[n % 3]
        for reference in random.sample(batch, len(batch)):
            response = client.post(f"/api/v1/incidents/{reference}/acknowledge", headers=world.auth(who))
            outcomes[reference].append(response.status_code)
            time.sleep(random.uniform(0, 0.02))

    sweepers = [threading.Thread(target=sweeper, args=(f"sweeper-{n}",)) for n in range(2)]
    for thread in sweepers:
        thread.start()
    time.sleep(0.3)
    ackers = [threading.Thread(target=acknowledger, args=(n, batch)) for n, batch in clients.items()]
    for thread in ackers:
        thread.start()
    for thread in ackers:
        thread.join()
    time.sleep(0.3)
    stop_sweeping.set()
    for thread in sweepers:
        thread.join()
    assert not errors, errors
    assert sum(sweeps.values()) > 2 * len(references), f"the sweeps should have raced the acks: {sweeps}"
    assert sorted(outcomes) == sorted(references)
    for reference, codes in outcomes.items():
        assert sorted(codes) == [200] + [409] * (len(codes) - 1), f"{reference}: one acknowledgement wins: {codes}"

    with session_scope(app) as session:
        assert escalation.sweep_batch(session, utcnow(), 1000, "late", links) == 0, "nothing is due any more"
        for incident in session.scalars(select(Incident).where(Incident.id.in_(ids))):
            assert incident.status is IncidentStatus.ACKNOWLEDGED
            [ack] = [e for e in incident.events if e.kind is EventKind.ACKNOWLEDGED]
            at_ack = (ack.details["step"], ack.details["loop"])
            assert (incident.current_step, incident.loop) == at_ack, incident.reference
            escalations = [e for e in incident.events if e.kind is EventKind.ESCALATED]
            assert all(e.id < ack.id for e in escalations), f"{incident.reference}: escalated after the ack"
            assert all((e.details["step"], e.details["loop"]) <= at_ack for e in escalations)
            calls = [n for n in incident.notifications if n.kind.calls_for_action]
            later = [n for n in calls if (n.step, n.loop) > at_ack]
            assert not later, f"{incident.reference}: calls to act queued after the acknowledgement: {later}"
            pending = [n for n in calls if n.status is NotificationStatus.PENDING]
            assert not pending, f"{incident.reference}: calls to act still pending after the acknowledgement"
