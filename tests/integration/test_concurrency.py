"""Concurrency: two scheduler processes over the same due work, and acknowledgements racing sweeps.

Both run on SQLite and, when TRACKER_TEST_DATABASE_URL is set, on PostgreSQL.
"""

import random
import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import bindparam, func, select, update

from tests.schedulers import all_beating, file_many, start_scheduler, stop, wait_until
from tests.support import build_world
from tracker import dispatch
from tracker.db import session_scope
from tracker.models import EventKind, Incident, IncidentStatus, Notification, NotificationStatus, TimelineEvent
from tracker.services.engine import escalation
from tracker.timeutil import utcnow

# Claims decide who advances what: SKIP LOCKED on PostgreSQL, the write lock on SQLite.
pytestmark = [pytest.mark.slow, pytest.mark.both_databases]


def test_two_scheduler_processes_advance_each_incident_exactly_once_per_deadline(app, tmp_path):
    build_world(app, steps=(("L1",), ("L2",), ("L3",)), ack_seconds=1, repeat=1)
    # 400 deadlines and 500 messages in batches of 50 on PostgreSQL, where both schedulers work at once;
    # SQLite serializes its writers (the two queue on its lock), so a quarter of that shows as much there.
    count = 100 if app.config["DATABASE_URL"].startswith("postgresql") else 25
    ids = file_many(app, count)
    # Hold the work back until both schedulers are up. The filing checks too (related incidents, the exercise
    # link): not what this test is about, and the first sweep to take them was busy for seconds on CI while
    # the other escalated all 300 deadlines alone.
    with session_scope(app) as session:
        session.execute(update(Incident).values(next_escalation_at=utcnow().replace(year=2100), checks_due_at=None))
    logs = [tmp_path / "scheduler-a.log", tmp_path / "scheduler-b.log"]
    processes = [start_scheduler(app, log) for log in logs]
    try:
        # Both past their start-up, sweeping at their intervals: each one's heartbeat on record (its first jobs
        # ran), then two more intervals (a fixed second after "sweep every" was mostly waiting on nothing).
        wait_until(lambda: all_beating(app, processes), 30, "both beating", logs, 0.05)
        time.sleep(0.4)
        assert all(p.poll() is None for p in processes), [log.read_text() for log in logs]
        # Due over two seconds, a tenth of them each 0.2 s (the sweep interval): a sweep takes a batch of 50
        # in a few tens of milliseconds, so work all due at one instant may be gone before the other
        # scheduler's next tick; trickling in, it reaches both, at every deadline of the ladder.
        start, table = utcnow(), Incident.__table__
        due = [{"b_id": id_, "b_at": start + timedelta(seconds=0.2 * (n % 10))} for n, id_ in enumerate(ids)]
        with session_scope(app) as session:
            session.connection().execute(
                update(table).where(table.c.id == bindparam("b_id")).values(next_escalation_at=bindparam("b_at")), due
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with session_scope(app) as session:
                open_left = session.scalar(select(func.count()).where(Incident.status != IncidentStatus.EXHAUSTED))
                unsent = session.scalar(select(func.count()).where(Notification.status != NotificationStatus.SENT))
            if open_left == 0 and unsent == 0:
                break
            time.sleep(0.5)
        else:
            pytest.fail(
                f"not finished in 120 s: {open_left} not exhausted, {unsent} unsent; logs: "
                + " | ".join(log.read_text()[-2000:] for log in logs)
            )
    finally:
        for process in processes:
            stop(process)

    with session_scope(app) as session:
        events = session.scalars(select(TimelineEvent).order_by(TimelineEvent.id)).all()
        rows = session.scalars(select(Notification)).all()
        # What a message claimed twice went through, read now (the database is dropped after the run):
        # its attempts (a transient failure retried, or a claim taken over) and who claimed it last.
        twice = [
            f"notification {r.id} ({r.kind.value}, step {r.step}, {r.status.value}, created {r.created_at}, "
            f"sent {r.sent_at}, last claimed by {r.claimed_by}, last error {r.last_error!r}): "
            + "; ".join(f"{a.at} {a.transport} {a.outcome.value} {a.error!r}" for a in r.attempts_made)
            for r in rows
            if r.attempts != 1
        ]
    steps = defaultdict(list)
    runners = Counter()
    for event in events:
        if event.kind is EventKind.ESCALATED:
            d = event.details
            steps[event.incident_id].append((d["from_step"], d["from_loop"], d["step"], d["loop"]))
            runners[d["runner"]] += 1
        elif event.kind is EventKind.EXHAUSTED:
            steps[event.incident_id].append("exhausted")
    expected = [(1, 0, 2, 0), (2, 0, 3, 0), (3, 0, 3, 1), "exhausted"]
    wrong = {i: s for i, s in steps.items() if s != expected}
    assert not wrong, f"{len(wrong)} incidents advanced wrongly, e.g. {list(wrong.items())[:3]}"
    assert sorted(steps) == sorted(ids)
    if app.config["DATABASE_URL"].startswith("postgresql"):
        # SKIP LOCKED lets both work at once. SQLite serializes writers, and its lock may hand
        # every batch to the same process: still correct, so only PostgreSQL must show both.
        assert len(runners) == 2, (
            f"both schedulers should have escalated something: {runners}; messages sent by "
            f"{Counter(r.claimed_by for r in rows)}; logs: " + " | ".join(_told(log) for log in logs)
        )

    per_incident = Counter(row.incident_id for row in rows)
    assert set(per_incident.values()) == {5}, "1 + 3 channel messages + 1 supervisor message each"
    keys = Counter((r.incident_id, r.step, r.loop, r.channel_id, r.user_id) for r in rows)
    assert max(keys.values()) == 1, "no outbox row duplicated"
    assert not twice, (
        "no message claimed twice:\n"
        + "\n".join(twice[:5])
        + "\nlogs: "
        + " | ".join(log.read_text()[-3000:] for log in logs)
    )
    notified = Counter(e.details["notification_id"] for e in events if e.kind is EventKind.NOTIFIED)
    assert len(notified) == len(rows) == count * 5 and set(notified.values()) == {1}
    assert len(list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))) == count * 5


def test_no_escalation_or_notification_after_a_committed_acknowledgement(app):
    world = build_world(app, steps=(("L1",), ("L2",)), ack_seconds=0, repeat=100_000)
    ids = file_many(app, 40)
    with session_scope(app) as session:
        references = session.scalars(select(Incident.reference).where(Incident.id.in_(ids))).all()
    stop_sweeping, links = threading.Event(), dispatch.ack_links(app)
    sweeps, errors = Counter(), []

    def sweeper(name):
        while not stop_sweeping.is_set():
            try:
                with session_scope(app) as session:
                    sweeps[name] += escalation.sweep_batch(session, utcnow(), 25, name, links)
            except Exception as exc:  # reported by the assertion below
                errors.append(repr(exc))
                return
            time.sleep(random.uniform(0, 0.01))  # a real scheduler sweeps at intervals, not in a hot loop

    outcomes = defaultdict(list)

    def acknowledger(who, batch):
        client = app.test_client()
        for reference in batch:
            time.sleep(random.uniform(0, 0.03))
            response = client.post(f"/api/v1/incidents/{reference}/acknowledge", headers=world.auth(who))
            outcomes[reference].append(response.status_code)

    sweepers = [threading.Thread(target=sweeper, args=(f"sweeper-{n}",)) for n in range(2)]
    for thread in sweepers:
        thread.start()
    time.sleep(0.3)
    shuffled = random.sample(references, len(references))
    ackers = [
        threading.Thread(target=acknowledger, args=(who, shuffled[n::2]))
        for n in range(2)
        for who in ("liaison", "supervisor")
    ]
    for thread in ackers:
        thread.start()
    for thread in ackers:
        thread.join()
    time.sleep(0.3)
    stop_sweeping.set()
    for thread in sweepers:
        thread.join()
    assert not errors, errors
    assert sum(sweeps.values()) > len(references), f"the sweeps should have raced the acks: {sweeps}"
    for reference, codes in outcomes.items():
        assert sorted(codes) == [200, 409], f"{reference}: exactly one acknowledgement wins, got {codes}"

    with session_scope(app) as session:  # more sweeps after the fact change nothing
        assert escalation.sweep_batch(session, utcnow(), 1000, "late", links) == 0
    with session_scope(app) as session:
        for incident in session.scalars(select(Incident).where(Incident.id.in_(ids))):
            assert incident.status is IncidentStatus.ACKNOWLEDGED
            [ack] = [e for e in incident.events if e.kind is EventKind.ACKNOWLEDGED]
            at_ack = (ack.details["step"], ack.details["loop"])
            assert (incident.current_step, incident.loop) == at_ack, incident.reference
            later = [n for n in incident.notifications if (n.step, n.loop) > at_ack]
            assert not later, f"{incident.reference}: messages queued after the acknowledgement: {later}"
            escalations = [e for e in incident.events if e.kind is EventKind.ESCALATED]
            assert all(e.id < ack.id for e in escalations), f"{incident.reference}: escalated after the ack"
            assert all((e.details["step"], e.details["loop"]) <= at_ack for e in escalations)
            pending = [n for n in incident.notifications if n.status is NotificationStatus.PENDING]
            assert not pending, f"{incident.reference}: pending messages survived the acknowledgement"


def _told(log) -> str:
    """A scheduler's log, its last 60 lines."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-60:])
