"""Scheduler heartbeats (issue 12, item 16): a live scheduler takes over the messages a dead one had
claimed at once instead of waiting out DELIVERY_CLAIM_SECONDS, never a live one's; and a call to act
that goes out after its incident left its step says so first.

The kill -9 of a real scheduler process is in test_faults.py (its claims are taken over by the
heartbeat: that test leaves DELIVERY_CLAIM_SECONDS at 120 s)."""

import re
import signal
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from tests.schedulers import start_scheduler, stop, stop_once_beating, stopped_or_stacks
from tests.support import file_incident
from tracker import dispatch, jobs
from tracker.db import session_scope
from tracker.models import (
    EventKind,
    Incident,
    IncidentStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
    Runner,
)
from tracker.services.engine import delivery, escalation
from tracker.timeutil import utcnow

ELSEWHERE = "other-host:4242"


def claim_for(app, runner: str, beat_seconds_ago: float | None, claimed_seconds_ago: float = 60) -> int:
    """Leave the filed incident's message claimed by runner claimed_seconds_ago, as a claim is made (for
    DELIVERY_CLAIM_SECONDS), whose last heartbeat was beat_seconds_ago (None: its row is gone), as a
    scheduler that died mid-delivery leaves it."""
    now = utcnow()
    claimed_at = now - timedelta(seconds=claimed_seconds_ago)
    with session_scope(app) as session:
        if beat_seconds_ago is not None:
            beat = now - timedelta(seconds=beat_seconds_ago)
            session.execute(insert(Runner).values(name=runner, started_at=beat, last_beat_at=beat))
        [notification_id] = session.scalars(select(Notification.id)).all()
        session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(
                status=NotificationStatus.SENDING,
                attempts=1,
                claimed_until=claimed_at + timedelta(seconds=dispatch.retry_policy(app).claim_seconds),
                claimed_by=runner,
            )
        )
    return notification_id


def message(app, notification_id: int) -> Notification:
    with session_scope(app) as session:
        return session.get_one(Notification, notification_id)


@pytest.mark.both_databases  # the takeover is a condition on times and a correlated EXISTS in SQL
@pytest.mark.parametrize("heartbeat", ["silent for a minute", "gone"])
def test_a_dead_schedulers_claim_is_taken_over_at_once(app, client, world, heartbeat):
    file_incident(client, world)
    notification_id = claim_for(app, ELSEWHERE, 60 if heartbeat != "gone" else None)
    assert jobs.deliver(app) == 1, "sent now, not when the claim lapses in a minute"
    row = message(app, notification_id)
    assert (row.status, row.attempts, row.claimed_by) == (NotificationStatus.SENT, 2, jobs.runner_id())
    with session_scope(app) as session:
        mine = session.get(Runner, jobs.runner_id())
        assert mine is not None and mine.last_beat_at > utcnow() - timedelta(seconds=60), "the taker beat"


@pytest.mark.both_databases
@pytest.mark.parametrize("heartbeat", ["beating", "not seen yet"])
def test_a_live_schedulers_claim_is_left_to_it(app, client, world, heartbeat):
    """Not seen yet: a scheduler that has just started claims in the transaction that first writes its
    heartbeat. On PostgreSQL another scheduler's claim, running as that commits, re-checks the message on
    its new row but looks for the heartbeat in its own older snapshot, where it is not yet: the fresh claim
    was taken as a dead one's and the message sent twice (seen in CI, twice). A claim younger than the
    takeover time is never a dead scheduler's."""
    file_incident(client, world)
    notification_id = claim_for(app, ELSEWHERE, 0 if heartbeat == "beating" else None, claimed_seconds_ago=0)
    assert jobs.deliver(app) == 0
    row = message(app, notification_id)
    assert (row.status, row.attempts, row.claimed_by) == (NotificationStatus.SENDING, 1, ELSEWHERE)


def test_a_scheduler_beats_and_leaves(app):
    jobs.beat(app)
    with session_scope(app) as session:
        assert session.scalars(select(Runner.name)).all() == [jobs.runner_id()]
    jobs.leave(app)
    with session_scope(app) as session:
        assert session.scalars(select(Runner.name)).all() == [], "a clean stop removes its heartbeat"


@pytest.mark.slow
def test_a_scheduler_started_with_sigint_ignored_still_stops_cleanly_on_it(app, tmp_path):
    """A background job of a shell (or the child of a process that ignores SIGINT) inherits SIGINT ignored:
    Python then raises no KeyboardInterrupt, so the scheduler handles SIGINT itself, as it does SIGTERM."""
    log = tmp_path / "scheduler.log"
    inherited = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        process = start_scheduler(app, log)
    finally:
        signal.signal(signal.SIGINT, inherited)
    stop_once_beating(app, process, log, signal.SIGINT)
    assert "scheduler stopped" in log.read_text()
    with session_scope(app) as session:
        assert session.scalars(select(Runner.name)).all() == [], "a clean stop removes its heartbeat"


def claim_all(app, at) -> dict[tuple[str, int], delivery.Claimed]:
    """Claim every deliverable message at the time at, by (recipient, step)."""
    policy = dispatch.retry_policy(app)
    with session_scope(app) as session:
        claimed = delivery.claim_messages(session, at, 100, policy, dispatch.composer(app))
        steps = dict(session.execute(select(Notification.id, Notification.step)).tuples().all())
    return {(c.message.recipient, steps[c.notification_id]): c for c in claimed}


def sweep(app, at) -> None:
    with session_scope(app) as session:
        escalation.sweep_batch(session, at, 100, "test", dispatch.ack_links(app))


def stored(app, notification_id: int) -> tuple[str, str]:
    row = message(app, notification_id)
    return row.subject, row.body


MARKED = "UNCLASSIFIED // REL TO EASTLAND"  # the test incidents' marking (tests.support.incident_payload)


def first_said(text: str) -> str:
    """The first line a message says under the marking line that opens it (and closes it)."""
    lines = text.split("\n")
    assert lines[0] == MARKED and text.rstrip("\n").endswith(f"\n{MARKED}"), f"marked first and last:\n{text}"
    return next(line for line in lines[1:] if line)


def test_a_late_call_to_act_whose_subject_fills_its_column_still_ends_late(app, client, world):
    """A subject is cut at its column's 255 characters (a long marking, category or line name): LATE put after
    it was then cut off, and the message list showed a late call to act as one on time."""
    file_incident(client, world)
    now = utcnow()
    sweep(app, now + timedelta(seconds=601))  # escalated to step 2: L1's call to act is late
    full = f"{MARKED} - " + "FLASH INC " * 30
    full = full[:255]
    with session_scope(app) as session:
        session.execute(update(Notification).where(Notification.step == 1).values(subject=full))

    late = claim_all(app, now + timedelta(seconds=602))[("L1", 1)]
    said = late.message.subject
    assert said.endswith(" LATE") and len(said) <= 255, f"{len(said)} characters: {said!r}"
    assert said.startswith(f"{MARKED} - FLASH INC"), f"the marking still opens it: {said!r}"


def test_a_call_to_act_sent_after_its_step_was_left_says_so_first(app, client, world):
    # The ladder: L1, then L2, 600 s each. Nothing is delivered until the incident has moved on.
    reference = file_incident(client, world)["reference"]
    now = utcnow()
    sweep(app, now + timedelta(seconds=601))  # escalated to step 2: L1's call to act is late

    late, on_time = claim_all(app, now + timedelta(seconds=602)).values()
    assert (late.message.recipient, on_time.message.recipient) == ("L1", "L2")
    subject, body = stored(app, late.notification_id)
    first_line = first_said(late.message.text)
    assert first_line.startswith("LATE: queued at ") and " for step 1, sent only now." in first_line, first_line
    assert "Since then the incident escalated to step 2. It still needs acknowledging." in first_line
    assert late.message.text == body.replace(f"{MARKED}\n\n", f"{MARKED}\n\n{first_line}\n\n", 1), "only the line added"
    assert late.message.subject == f"{subject} LATE", late.message.subject
    assert "LATE: queued at " in late.message.html and "/links/ack/" in late.message.html, "the button stays"
    assert re.search(f"<pre[^>]*>{MARKED}\n\nLATE: queued at ", late.message.html), late.message.html
    assert late.message.payload["late"] == {
        "notice": first_line,
        "queued_at": late.message.payload["late"]["queued_at"],
        "step": 1,
        "loop": 0,
        "incident_step": 2,
        "incident_loop": 0,
        "status": "open",
    }
    assert late.message.payload["text"] == late.message.text and late.message.payload["subject"].endswith(" LATE")
    assert (on_time.message.subject, on_time.message.text) == stored(app, on_time.notification_id), "L2 is on time"
    assert "late" not in on_time.message.payload

    # Claimed but never recorded; the ladder runs out meanwhile: both go again, saying it is exhausted.
    sweep(app, now + timedelta(seconds=1300))
    with session_scope(app) as session:
        assert session.scalar(select(Incident.status).where(Incident.reference == reference)) == (
            IncidentStatus.EXHAUSTED
        )
    again = claim_all(app, now + timedelta(days=1))
    for recipient, step in (("L1", 1), ("L2", 2)):
        text = first_said(again[(recipient, step)].message.text)
        assert text.startswith("LATE: queued at ") and f" for step {step}, sent only now." in text, text
        assert "every step of the ladder passed unacknowledged (exhausted)" in text, text
        assert again[(recipient, step)].message.key == (late if step == 1 else on_time).message.key, "same message"


def scheduler_patched(app, tmp_path, patch: str) -> tuple[int, str]:
    """Run the scheduler in a Python that first runs patch (source changing APScheduler), until it ends
    (30 s at the most); its exit code and its log."""
    script = tmp_path / "patched_scheduler.py"
    script.write_text(
        f"{patch}\nimport sys\nsys.argv = ['flask', '--app', 'wsgi', 'scheduler']\nfrom flask.cli import main\nmain()\n"
    )
    log = tmp_path / "scheduler.log"
    process = start_scheduler(app, log, command=(str(script),))
    try:
        return stopped_or_stacks(process, 30, log), log.read_text()
    finally:
        stop(process)


# Its thread pool made to signal the process itself (as systemd's stop would, at that moment) while it
# hands its first job to a worker thread.
STOPPED_WHILE_SUBMITTING = """
import os, signal
from apscheduler.executors import pool

real, signalled = pool.BasePoolExecutor._do_submit_job, []

def submit(self, job, run_times):
    if not signalled:
        signalled.append(job.id)
        print(f"SIGTERM while submitting {job.id}", flush=True)
        os.kill(os.getpid(), signal.SIGTERM)
    return real(self, job, run_times)

pool.BasePoolExecutor._do_submit_job = submit
"""


@pytest.mark.slow
def test_a_stop_signal_while_a_job_is_handed_to_a_worker_still_stops_the_scheduler(app, tmp_path):
    """The stop signal's SystemExit is raised in the main thread. Run there, the scheduler's loop caught it
    as a job it failed to submit ("Error submitting job") and ran on until killed, leaving its heartbeat
    (seen when the kill -9 test stopped a scheduler just started); the loop now runs in a thread of its own."""
    code, said = scheduler_patched(app, tmp_path, STOPPED_WHILE_SUBMITTING)
    assert code == 0, said[-3000:]
    assert "SIGTERM while submitting" in said and "scheduler stopped" in said, said[-3000:]
    assert "Error submitting job" not in said, said[-3000:]
    with session_scope(app) as session:
        assert session.scalars(select(Runner.name)).all() == [], "a clean stop removes its heartbeat"


# Its loop made to fail once its jobs have run for a second, as an error of APScheduler's own (a trigger
# that raises) would: the loop's thread ends.
LOOP_FAILS = """
import time
from apscheduler.schedulers import base

real, started = base.BaseScheduler._process_jobs, time.monotonic()

def process_jobs(self):
    if time.monotonic() - started > 1:
        raise RuntimeError("a trigger that cannot say when it fires next")
    return real(self)

base.BaseScheduler._process_jobs = process_jobs
"""


@pytest.mark.slow
def test_a_scheduler_whose_loop_fails_exits_with_an_error_and_leaves(app, tmp_path):
    """Its loop runs in a thread of its own: when that thread ends on an error, the process does not stay
    up doing nothing; it removes its heartbeat and exits non-zero, for systemd to start it again."""
    code, said = scheduler_patched(app, tmp_path, LOOP_FAILS)
    assert code == 1, said[-3000:]
    assert "a trigger that cannot say when it fires next" in said, said[-3000:]
    assert "the scheduler's loop stopped on an error" in said, said[-3000:]
    with session_scope(app) as session:
        assert session.scalars(select(Runner.name)).all() == [], "it removed its heartbeat"


def test_a_raised_precedence_told_after_its_step_was_left_says_so_first(app, client, world):
    """PRECEDENCE RAISED tells L1 the incident rests with it on step 1 and the deadline: sent after the
    incident escalated to step 2 (a retried webhook, a backlog), it must say so first, as a call to act
    does; its row's loop is only the key of the raise, not the round it was told on."""
    reference = file_incident(client, world, precedence="R")["reference"]
    version = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()["version"]
    raised = client.patch(
        f"/api/v1/incidents/{reference}", json={"version": version, "precedence": "Z"}, headers=world.auth("duty")
    )
    assert raised.status_code == 200 and raised.get_json()["amendment"]["told"] == ["L1"], raised.get_json()
    now = utcnow()
    sweep(app, now + timedelta(seconds=601))  # escalated to step 2 before the raise was delivered

    policy = dispatch.retry_policy(app)
    with session_scope(app) as session:
        claimed = delivery.claim_messages(session, now + timedelta(seconds=602), 100, policy, dispatch.composer(app))
    [told] = [c for c in claimed if c.message.event == "incident.upgraded"]
    first_line = first_said(told.message.text)
    assert first_line.startswith("LATE: queued at ") and " for step 1, sent only now." in first_line, first_line
    assert "Since then the incident escalated to step 2." in first_line, first_line
    assert told.message.subject.endswith(" LATE"), told.message.subject
    late = told.message.payload["late"]
    assert (late["step"], late["loop"], late["incident_step"]) == (1, 0, 2), late


def test_a_raised_precedence_given_up_on_names_the_round_it_told_not_its_key(app, client, world):
    """A PRECEDENCE RAISED dead-lettered (the line refused it for good): the supervisors' DEAD LETTER and the
    timeline name the step and round it was told on, not its row's loop, which only keys the raise."""
    reference = file_incident(client, world, precedence="R")["reference"]
    version = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()["version"]
    raised = client.patch(
        f"/api/v1/incidents/{reference}", json={"version": version, "precedence": "Z"}, headers=world.auth("duty")
    )
    assert raised.get_json()["amendment"]["told"] == ["L1"], raised.get_json()
    with session_scope(app) as session:
        row = session.scalars(select(Notification).where(Notification.kind == NotificationKind.UPGRADED)).one()
        assert row.loop >= 1, "keyed by the amended version"
        row.last_error = "HTTP 410 gone"
        delivery.dead_letter(session, row, utcnow())
    with session_scope(app) as session:
        told = session.scalars(select(Notification).where(Notification.kind == NotificationKind.DEAD_LETTER)).one()
        assert "Ladder step:  1 of 2\n" in told.body, told.body
        assert (told.step, told.loop) == (1, 0)
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).one()
        [event] = [e for e in incident.events if e.kind is EventKind.DEAD_LETTERED]
        assert (event.details["step"], event.details["loop"], event.details["message"]) == (1, 0, "upgraded")
