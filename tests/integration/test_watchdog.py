"""The watchdog: an incident whose deadline no sweep processed raises one alert per missed deadline."""

import threading
from datetime import datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from tests.schedulers import file_many
from tests.support import build_world, outbox_files, sign_in
from tracker import jobs, metrics
from tracker.db import session_scope
from tracker.models import (
    EventKind,
    Incident,
    JobRun,
    Notification,
    NotificationKind,
    NotificationStatus,
    TimelineEvent,
)
from tracker.services.engine import heartbeat
from tracker.timeutil import format_dtg, utcnow

# The watchdog's claims and its deadline arithmetic are SQL.
pytestmark = pytest.mark.both_databases


def alerts_raised() -> float:
    return REGISTRY.get_sample_value("tracker_watchdog_alerts_total") or 0.0


def miss_deadlines(app, ids, by: timedelta) -> None:
    """Put the incidents' deadlines in the past, as if no sweep had run since."""
    with session_scope(app) as session:
        session.execute(update(Incident).where(Incident.id.in_(ids)).values(next_escalation_at=utcnow() - by))


def watchdog_rows(app, incident_id: int):
    """The incident's watchdog events and messages, each oldest first."""
    with session_scope(app) as session:
        events = session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == incident_id, TimelineEvent.kind == EventKind.WATCHDOG_ALERT)
            .order_by(TimelineEvent.id)
        ).all()
        messages = session.scalars(
            select(Notification)
            .where(Notification.incident_id == incident_id, Notification.kind == NotificationKind.WATCHDOG)
            .options(selectinload(Notification.user))
            .order_by(Notification.id)  # PostgreSQL returns an updated row after newer ones when unordered
        ).all()
        return events, messages


def missed_gauge(app) -> float:
    jobs.refresh_metrics(app)  # the scheduler's metrics job; GET /metrics serves what it counted
    with session_scope(app, reads_only=True) as session:
        body, _ = metrics.exposition(session)
    [line] = [line for line in body.decode().splitlines() if line.startswith("tracker_incidents_missed_deadline ")]
    return float(line.split()[1])


def test_an_incident_no_sweep_processed_raises_one_alert_per_missed_deadline(app):
    build_world(app, steps=(("L1",), ("L2",)), ack_seconds=600)
    [incident_id] = file_many(app, 1)
    miss_deadlines(app, [incident_id], timedelta(hours=1))
    with session_scope(app) as session:
        missed = session.get(Incident, incident_id).next_escalation_at
    before = alerts_raised()
    assert missed_gauge(app) == 1

    assert jobs.watch(app) == 1
    assert alerts_raised() == before + 1
    [event], [message] = watchdog_rows(app, incident_id)
    assert event.actor == "watchdog"
    assert datetime.fromisoformat(event.details["deadline"]) == missed
    assert event.details["late_seconds"] >= 3600
    assert (event.details["step"], event.details["loop"]) == (1, 0)
    assert event.details["supervisors"] == ["supervisor"]
    assert message.user.username == "supervisor" and message.subject.endswith("WATCHDOG DEADLINE MISSED")

    assert jobs.watch(app) == 0, "the same missed deadline raises no second alert"
    assert alerts_raised() == before + 1
    assert [len(rows) for rows in watchdog_rows(app, incident_id)] == [1, 1]

    assert jobs.deliver(app) >= 1
    [text] = [f.read_text() for f in outbox_files(app) if "WATCHDOG" in f.read_text()]
    assert "no scheduler has escalated it" in text and format_dtg(missed) in text
    assert "Ladder step:  1 of 2" in text
    assert "Lines of step 1: L1\n" in text, "the lines the supervisor is to reach by other means, named"

    assert jobs.sweep(app) == 1, "the sweep, back, escalates it"
    assert missed_gauge(app) == 0
    miss_deadlines(app, [incident_id], timedelta(hours=1))  # and the next deadline is missed too
    assert jobs.watch(app) == 1
    events, messages = watchdog_rows(app, incident_id)
    assert [(e.details["step"], e.details["notification_loop"]) for e in events] == [(1, 1), (2, 2)]
    assert len(messages) == 2 and messages[0].status is NotificationStatus.SENT


def test_two_watchdogs_at_once_raise_each_alert_once(make_app):
    app = make_app(SWEEP_BATCH_SIZE=4)  # many small claims, so the two interleave
    build_world(app, ack_seconds=600)
    ids = file_many(app, 30)
    miss_deadlines(app, ids, timedelta(minutes=10))
    before = alerts_raised()
    start, counts, errors = threading.Barrier(2), [], []

    def watch():
        start.wait()
        try:
            counts.append(sum(jobs.watch(app) for _ in range(3)))
        except Exception as exc:  # reported by the assertion below
            errors.append(repr(exc))

    threads = [threading.Thread(target=watch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sum(counts) == len(ids), counts
    assert alerts_raised() == before + len(ids)
    with session_scope(app) as session:
        per_incident = dict(
            session.execute(
                select(TimelineEvent.incident_id, func.count())
                .where(TimelineEvent.kind == EventKind.WATCHDOG_ALERT)
                .group_by(TimelineEvent.incident_id)
            ).all()
        )
        messages = session.scalar(select(func.count()).where(Notification.kind == NotificationKind.WATCHDOG))
    assert per_incident == dict.fromkeys(ids, 1)
    assert messages == len(ids), "one message to the one supervisor per incident"


def test_incidents_swept_in_time_or_only_just_due_raise_no_alert(app):
    build_world(app, ack_seconds=600)
    swept, just_due = file_many(app, 2)
    miss_deadlines(app, [swept], timedelta(seconds=1))
    assert jobs.sweep(app) == 1
    # Six intervals of 0.2 s: a deadline 0.5 s ago is not yet the watchdog's business.
    miss_deadlines(app, [just_due], timedelta(seconds=0.5))
    assert jobs.watch(app) == 0
    assert watchdog_rows(app, swept) == ([], []) and watchdog_rows(app, just_due) == ([], [])


def test_the_incident_page_shows_the_alert(app, client):
    build_world(app, ack_seconds=600)
    [incident_id] = file_many(app, 1)
    miss_deadlines(app, [incident_id], timedelta(minutes=5))
    assert jobs.watch(app) == 1
    with session_scope(app) as session:
        reference = session.get(Incident, incident_id).reference
    sign_in(client, "supervisor")
    page = client.get(f"/incidents/{reference}")
    assert page.status_code == 200
    assert "watchdog alert" in page.text and "passed with no sweep; supervisors told" in page.text
    # A message to the supervisors belongs to no ladder step: its row names none ("step 0" said nothing true).
    assert "watchdog alert · step 0" not in page.text and ">watchdog alert</td>" in page.text, page.text


def test_a_sweep_error_quoting_a_signed_link_is_kept_and_told_masked(app):
    """An exception's text may quote the row it failed to write (SQLAlchemy's "[parameters: ...]": a message's facts
    with its signed link): the heartbeat keeps the sweep's error masked, and so the watchdog alert quoting it to the
    supervisors, and its timeline event, hold no link either."""
    build_world(app, ack_seconds=600)
    [incident_id] = file_many(app, 1)
    link = "https://tracker.example/links/ack/eyJsaW5rIjoxfQ.SIGNED1"
    facts = f'{{"acknowledge": {{"token": "eyJsaW5rIjoyfQ.SIGNED2", "url": "{link}"}}}}'
    with session_scope(app) as session:
        heartbeat.beat(
            session, "sweep", "test", utcnow(), utcnow(), f"deliver: IntegrityError [parameters: ('{facts}',)]"
        )
    miss_deadlines(app, [incident_id], timedelta(minutes=5))
    assert jobs.watch(app) == 1
    with session_scope(app) as session:
        kept = session.get(JobRun, "sweep").last_error
    [event], [message] = watchdog_rows(app, incident_id)
    told = event.details["last_sweep_error"]
    assert kept == told and '"token": "…"' in kept and "/links/ack/…" in kept, kept
    assert f"which failed: {kept}" in message.body, message.body
    assert "SIGNED" not in kept + message.body, message.body
