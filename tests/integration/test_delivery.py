"""The delivery job with the embedded outbox transport: files, retries, crash recovery."""

import os
import re
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from tests.support import file_incident, outbox_files
from tracker import dispatch, jobs
from tracker.channels import DeliveryError
from tracker.db import session_scope
from tracker.models import (
    ContactChannel,
    EventKind,
    Incident,
    Notification,
    NotificationKind,
    NotificationStatus,
    TimelineEvent,
    User,
)
from tracker.services.engine import delivery
from tracker.timeutil import utcnow

# Delivery claims, their expiry and retries are conditional UPDATEs; locking differs per engine.
pytestmark = pytest.mark.both_databases

POLICY = delivery.RetryPolicy(max_attempts=3, base_seconds=10, claim_seconds=60)


def notifications(app):
    with session_scope(app) as session:
        return session.scalars(select(Notification).order_by(Notification.id)).all()


def test_delivery_writes_one_file_per_message_and_records_it(app, client, world):
    reference = file_incident(client, world)["reference"]
    assert jobs.deliver(app) == 1
    assert jobs.deliver(app) == 0, "a sent message is never sent again"
    [row] = notifications(app)
    assert row.status is NotificationStatus.SENT and row.attempts == 1 and row.sent_at is not None
    [path] = outbox_files(app)
    assert path.name == f"{reference}-{delivery.message_key(row.id, row.created_at)}.eml"
    text = path.read_text()
    assert f"Subject: UNCLASSIFIED // REL TO EASTLAND - IMMEDIATE {reference}" in text, text[:400]
    assert "X-Tracker-Key: notification-" in text
    with session_scope(app) as session:
        [event] = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.NOTIFIED)).all()
        assert event.details["recipient"] == "L1" and event.details["transport"] == "outbox"


def test_a_claim_lapsed_by_a_crash_is_sent_again_into_the_same_file(app, client, world):
    file_incident(client, world)
    now = utcnow()
    with session_scope(app) as session:
        [claimed] = delivery.claim_messages(session, now, 10, POLICY, dispatch.composer(app))
    # The process "dies" here: the message was never recorded as sent.
    with session_scope(app) as session:
        held = delivery.claim_messages(session, now + timedelta(seconds=30), 10, POLICY, dispatch.composer(app))
        assert held == [], "the claim is still held"
    with session_scope(app) as session:
        [again] = delivery.claim_messages(session, now + timedelta(seconds=61), 10, POLICY, dispatch.composer(app))
    assert again.notification_id == claimed.notification_id
    transport = app.extensions["tracker.transports"]["outbox"]
    transport.send(again.message)
    transport.send(again.message)
    transport.settle()
    with session_scope(app) as session:
        assert delivery.record_sent(session, again.notification_id, "outbox", utcnow())
    with session_scope(app) as session:
        assert not delivery.record_sent(session, again.notification_id, "outbox", utcnow())
    assert len(outbox_files(app)) == 1
    [row] = notifications(app)
    assert row.attempts == 2 and row.status is NotificationStatus.SENT


def test_a_message_is_settled_on_disk_before_it_is_recorded_as_sent(app, client, world, monkeypatch):
    file_incident(client, world)
    transport = app.extensions["tracker.transports"]["outbox"]
    at_settle: list[tuple[list[str], list[NotificationStatus]]] = []
    real_settle = transport.settle

    def settle() -> None:
        at_settle.append(([p.name for p in outbox_files(app)], [row.status for row in notifications(app)]))
        real_settle()

    monkeypatch.setattr(transport, "settle", settle)
    assert jobs.deliver(app) == 1
    [(files, statuses)] = at_settle
    assert len(files) == 1 and statuses == [NotificationStatus.SENDING], (files, statuses)
    assert [row.status for row in notifications(app)] == [NotificationStatus.SENT]


def test_a_file_drop_that_cannot_be_settled_records_nothing_and_the_message_goes_out_again(
    app, client, world, monkeypatch
):
    file_incident(client, world)
    transport = app.extensions["tracker.transports"]["outbox"]

    def cannot(self) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(type(transport), "settle", cannot)
    counted = REGISTRY.get_sample_value("tracker_notifications_total", {"transport": "outbox", "outcome": "sent"}) or 0
    assert jobs.deliver(app) == 0, "written but not on disk for sure: not recorded as sent"
    assert (
        REGISTRY.get_sample_value("tracker_notifications_total", {"transport": "outbox", "outcome": "sent"}) or 0
    ) == counted, "nor counted as sent: it is sent, and counted, again"
    [row] = notifications(app)
    assert row.status is NotificationStatus.SENDING and row.sent_at is None and row.attempts == 1
    monkeypatch.undo()
    assert jobs.deliver(app) == 0, "the claim still holds"
    with session_scope(app) as session:  # the claim lapses
        session.execute(update(Notification).values(claimed_until=utcnow() - timedelta(seconds=1)))
    assert jobs.deliver(app) == 1
    [row] = notifications(app)
    assert row.status is NotificationStatus.SENT and row.attempts == 2
    assert len(outbox_files(app)) == 1, "sent again into its own file"


def test_a_delivery_run_that_fails_between_its_messages_leaves_no_file_open(app, client, world, monkeypatch):
    file_incident(client, world)
    file_incident(client, world)
    monkeypatch.setattr(jobs, "RECHECK_SECONDS", 0)  # the claims are checked before each message
    real_hold, holds = delivery.hold_claims, []

    def hold_once(*args, **kwargs):
        holds.append(1)
        if len(holds) > 1:
            raise RuntimeError("the database went away")
        return real_hold(*args, **kwargs)

    monkeypatch.setattr(delivery, "hold_claims", hold_once)
    opened = len(os.listdir("/proc/self/fd"))
    assert jobs.deliver(app) == 0
    assert len(outbox_files(app)) == 1, "the first message was written before the run failed"
    assert len(os.listdir("/proc/self/fd")) == opened, "its file was synced and closed all the same"
    assert {row.status for row in notifications(app)} == {NotificationStatus.SENDING}, "and nothing recorded"


def test_transient_failures_back_off_then_fail(app, client, world):
    file_incident(client, world)
    now = utcnow()
    for attempt in range(1, 4):
        with session_scope(app) as session:
            [claimed] = delivery.claim_messages(session, now, 10, POLICY, dispatch.composer(app))
        with session_scope(app) as session:
            status = delivery.record_failure(
                session, claimed.notification_id, "outbox", DeliveryError("connection refused"), now, POLICY
            )
        row = notifications(app)[0]
        if attempt < 3:
            assert status is NotificationStatus.PENDING
            delay = (row.next_attempt_at - now).total_seconds()
            expected = 10 * 2 ** (attempt - 1)
            assert 0.8 * expected <= delay <= 1.2 * expected, (attempt, delay)
            now = row.next_attempt_at
        else:
            assert status is NotificationStatus.DEAD and row.last_error == "connection refused"
    with session_scope(app) as session:
        ordered = session.scalars(select(Notification).order_by(Notification.id)).all()
        dead_letters = [(n.kind.value, n.recipient) for n in ordered[1:]]
        assert dead_letters == [("dead_letter", "supervisor")], "supervisors are told"
        incident = session.scalars(select(Incident)).one()
        assert incident.next_escalation_at == now, "the step escalates at once instead of waiting out its timer"
        [event] = [e for e in incident.events if e.kind is EventKind.DEAD_LETTERED]
        assert event.details["recipient"] == "L1" and event.details["escalates_at_once"] is True
        assert [a.outcome.value for a in incident.notifications[0].attempts_made] == ["transient"] * 3
        claimed = delivery.claim_messages(session, now + timedelta(days=1), 10, POLICY, dispatch.composer(app))
        assert [c.message.recipient for c in claimed] == ["supervisor"], "only the supervisors' message is left"


def test_a_permanent_failure_is_not_retried(app, client, world):
    file_incident(client, world)
    with session_scope(app) as session:
        [claimed] = delivery.claim_messages(session, utcnow(), 10, POLICY, dispatch.composer(app))
    with session_scope(app) as session:
        status = delivery.record_failure(
            session,
            claimed.notification_id,
            "outbox",
            DeliveryError("550 no such mailbox", transient=False),
            utcnow(),
            POLICY,
        )
    assert status is NotificationStatus.DEAD


def test_the_supervisors_hear_of_each_line_a_step_gave_up_on_not_only_the_first(app, client, world):
    """Step 1 calls L1 and L2. L1 is given up on first (L2 may still be reached: nothing escalates), then L2
    (the step reached nobody: it escalates at once). Each is news to the supervisors; before, the second was
    swallowed by the first's message, so they went on trusting L2."""
    both = {"steps": [{"channel_ids": [world.channels["L1"], world.channels["L2"]], "ack_seconds": 600}]}
    changed = client.patch(f"/api/v1/policies/{world.policy_id}", json=both, headers=world.auth("admin"))
    assert changed.status_code == 200, changed.get_json()
    file_incident(client, world)
    now = utcnow()
    with session_scope(app) as session:
        claimed = delivery.claim_messages(session, now, 10, POLICY, dispatch.composer(app))
    assert sorted(c.message.recipient for c in claimed) == ["L1", "L2"], claimed
    for message in sorted(claimed, key=lambda c: c.message.recipient):
        with session_scope(app) as session:
            gone = DeliveryError(f"550 no such mailbox ({message.message.recipient})", transient=False)
            status = delivery.record_failure(session, message.notification_id, "outbox", gone, now, POLICY)
        assert status is NotificationStatus.DEAD, (message.message.recipient, status)
    with session_scope(app) as session:
        told = session.scalars(
            select(Notification).where(Notification.kind == NotificationKind.DEAD_LETTER).order_by(Notification.id)
        ).all()
        said = [(row.recipient, re.search(r"DEAD LETTER: .* delivered to (\S+)\.", row.body)) for row in told]
        assert [(who, found and found[1]) for who, found in said] == [("supervisor", "L1"), ("supervisor", "L2")], [
            row.body for row in told
        ]
        assert "Nothing escalates because of it" in told[0].body, told[0].body
        assert "The step reached nobody: it escalates at once" in told[1].body, told[1].body
        assert session.scalars(select(Incident)).one().next_escalation_at == now


def test_an_unwritable_outbox_is_recorded_as_a_failed_attempt(app, client, world, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    monkeypatch.setattr(app.extensions["tracker.transports"]["outbox"], "directory", blocker / "outbox")
    file_incident(client, world)
    assert jobs.deliver(app) == 0
    [row] = notifications(app)
    assert row.status is NotificationStatus.PENDING and row.attempts == 1 and "cannot write" in row.last_error


def test_messages_sent_together_are_recorded_each_at_its_time_to_its_recipient_and_only_if_still_ours(
    app, client, world
):
    """record_sent_many marks and reads in one statement (arrays on PostgreSQL, a CASE elsewhere): a line's
    message and a person's each get their own sent_at and timeline event; one no longer sending is left."""
    file_incident(client, world)
    file_incident(client, world, narrative="A second report.")
    now = utcnow()
    with session_scope(app) as session:
        line, other = delivery.claim_messages(session, now, 10, POLICY, dispatch.composer(app))
        supervisor = session.scalars(select(User).where(User.username == "supervisor")).one()
        row = session.get(Notification, line.notification_id)
        personal = Notification(
            incident_id=row.incident_id, kind=NotificationKind.DEAD_LETTER, step=1, loop=0, user_id=supervisor.id,
            status=NotificationStatus.SENDING, subject="s", body="b", next_attempt_at=now,
        )  # fmt: skip
        session.add(personal)
        session.get(Notification, other.notification_id).status = NotificationStatus.PENDING  # taken back
        session.flush()
        personal_id = personal.id
    first, second, third = now + timedelta(seconds=1), now + timedelta(seconds=2), now + timedelta(seconds=3)
    with session_scope(app) as session:
        ours = delivery.record_sent_many(
            session,
            [
                delivery.Sent(personal_id, "email", second, 12, "250"),
                delivery.Sent(line.notification_id, "outbox", first),
                delivery.Sent(other.notification_id, "outbox", third),
            ],
        )
    assert ours == sorted([line.notification_id, personal_id])
    with session_scope(app) as session:
        rows = {n.id: n for n in session.scalars(select(Notification))}
        assert (rows[line.notification_id].status, rows[line.notification_id].sent_at) == (
            NotificationStatus.SENT,
            first,
        )
        assert (rows[personal_id].status, rows[personal_id].sent_at) == (NotificationStatus.SENT, second)
        assert (
            rows[other.notification_id].status is NotificationStatus.PENDING
            and rows[other.notification_id].sent_at is None
        )
        events = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.NOTIFIED)).all()
        got = sorted(
            (e.details["notification_id"], e.details["recipient"], e.details["transport"], e.at) for e in events
        )
        assert got == sorted(
            [(line.notification_id, "L1", "outbox", first), (personal_id, "supervisor", "email", second)]
        ), got
        assert [e.details["response_code"] for e in events if e.details["notification_id"] == personal_id] == ["250"]


def _composing_fails_for(monkeypatch, failing) -> None:
    """Make composing raise for the rows failing(row) picks, as a fault the code meets on them would."""
    real = delivery.Composer.compose

    def compose(self, session, row, now, roots=None):
        if failing(row):
            raise ValueError("a stored message no code path expected")
        return real(self, session, row, now, roots)

    monkeypatch.setattr(delivery.Composer, "compose", compose)


def test_a_message_that_cannot_be_composed_is_retried_then_dead_lettered_and_holds_up_no_other(
    app, client, world, monkeypatch
):
    """Claimed in id order, a message the code fails to compose every time would fail every batch that
    claims it and stop all delivery behind it: it fails alone instead, is retried as a transport's
    failure is, and dead-lettered once out of attempts (its step escalates at once, as for any call to
    act that cannot go out); the batch goes on, and so does the run: batches of 2, the poison and the
    first sound one in the first, the second sound one in the next."""
    poison = file_incident(client, world)["reference"]
    sound = [file_incident(client, world)["reference"] for _ in range(2)]
    app.config["DELIVERY_BATCH_SIZE"] = 2
    _composing_fails_for(
        monkeypatch, lambda row: row.incident.reference == poison and row.kind is NotificationKind.NOTIFIED
    )
    policy = dispatch.retry_policy(app)

    def poison_row(session):
        query = select(Notification).join(Incident).where(Incident.reference == poison)
        return session.scalar(query.where(Notification.kind == NotificationKind.NOTIFIED))

    assert jobs.deliver(app) == 2, "one run: a batch short of what it composed is not the last"
    assert [path.name.split("-notification")[0] for path in outbox_files(app)] == sound
    error = "cannot compose the message: ValueError: a stored message no code path expected"
    with session_scope(app) as session:
        row = poison_row(session)
        assert (row.status, row.attempts, row.last_error) == (NotificationStatus.PENDING, 1, error)
        assert row.next_attempt_at > utcnow(), "retried after the policy's backoff"
        session.execute(
            update(Notification)
            .where(Notification.id == row.id)
            .values(attempts=policy.max_attempts - 1, next_attempt_at=utcnow())
        )
    file_incident(client, world)  # alone in a batch, it would be the code's fault: nothing spent
    sent = jobs.deliver(app)
    with session_scope(app) as session:
        row = poison_row(session)
        assert (row.status, row.last_error) == (NotificationStatus.DEAD, error), row.status
        [event] = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == EventKind.DEAD_LETTERED)).all()
        assert event.incident.reference == poison and event.details["escalates_at_once"] is True
        incident = session.scalar(select(Incident).where(Incident.reference == poison))
        assert incident.next_escalation_at <= utcnow(), "its step reached no one: it escalates at the next sweep"
        told = session.scalars(select(Notification).where(Notification.kind == NotificationKind.DEAD_LETTER)).all()
        assert told, "the supervisors are told"
    assert sent == 1 + len(told), "the new message, then the supervisors' in the same run"


def test_when_no_message_of_a_batch_can_be_composed_nothing_is_spent(app, client, world, monkeypatch):
    """A fault every message meets is the code's, not the messages': the batch fails and is tried again
    at the next run, no attempt spent, no message dead-lettered (once the fault is fixed, all go out)."""
    for _ in range(2):
        file_incident(client, world)
    _composing_fails_for(monkeypatch, lambda row: True)
    assert jobs.deliver(app) == 0
    rows = notifications(app)
    assert {(r.status, r.attempts) for r in rows} == {(NotificationStatus.PENDING, 0)}, rows
    monkeypatch.undo()
    assert jobs.deliver(app) == 2


def test_a_dead_letter_that_cannot_be_made_either_marks_the_message_dead_and_spares_the_batch(
    app, client, world, monkeypatch
):
    """Out of attempts, a message that cannot be composed is dead-lettered, which tells the supervisors
    about it from the same incident: when that fails too, the message is marked dead as it is and the
    rest of the batch goes out (before, the batch rolled back on every run, holding up everything)."""
    poison = file_incident(client, world)["reference"]
    sound = file_incident(client, world)["reference"]
    _composing_fails_for(monkeypatch, lambda row: row.incident.reference == poison)
    with session_scope(app) as session:
        session.execute(update(Notification).values(attempts=dispatch.retry_policy(app).max_attempts - 1))

    def dead_letter(*args, **kwargs):
        raise ValueError("a supervisors' message the code cannot make")

    monkeypatch.setattr(delivery, "dead_letter", dead_letter)
    assert jobs.deliver(app) == 1
    assert [path.name.split("-notification")[0] for path in outbox_files(app)] == [sound]
    [row, _sent] = notifications(app)
    assert row.incident_id != _sent.incident_id and row.status is NotificationStatus.DEAD, row.status
    assert row.last_error == "cannot compose the message: ValueError: a stored message no code path expected"
    assert row.claimed_until is None


def test_what_a_failed_composing_changed_is_not_kept(app, client, world, monkeypatch):
    """Composing may change the row (a message queued before migration 0010 is rendered at its first
    sending) and read more of its incident before it fails: the reads write nothing, so the row keeps
    what it held."""
    file_incident(client, world)
    file_incident(client, world)
    [first, _] = notifications(app)
    real = delivery.Composer.compose

    def compose(self, session, row, now, roots=None):
        if row.id == first.id:
            row.subject = "HALF MADE"
            assert row.incident.narrative  # not among the columns the claim loads: a lazy load
            raise ValueError("failed after changing the row")
        return real(self, session, row, now, roots)

    monkeypatch.setattr(delivery.Composer, "compose", compose)
    assert jobs.deliver(app) == 1
    [kept, _] = notifications(app)
    assert kept.subject == first.subject and kept.status is NotificationStatus.PENDING, (kept.subject, kept.status)


def deactivate(app, name: str) -> None:
    with session_scope(app) as session:
        session.execute(update(ContactChannel).where(ContactChannel.name == name).values(active=False))


def test_a_call_to_act_on_a_line_deactivated_after_it_was_queued_is_dead_lettered_and_its_step_escalates(
    app, client, world
):
    """The admin took L1 out of service (wrong address, desk moved) after the step's message was queued:
    it is not sent there; as with a transport that refuses it, the supervisors are told and the step,
    which reached nobody, escalates at once instead of waiting out its acknowledgement time."""
    reference = file_incident(client, world)["reference"]
    deactivate(app, "L1")
    before = utcnow()
    jobs.deliver(app)
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        rows = session.scalars(select(Notification).where(Notification.incident_id == incident.id)).all()
        call = next(row for row in rows if row.kind is NotificationKind.NOTIFIED)
        assert call.status is NotificationStatus.DEAD, (call.status, call.last_error)
        assert "the line L1 was deactivated" in call.last_error, call.last_error
        told = [row for row in rows if row.kind is NotificationKind.DEAD_LETTER]
        assert [row.user.username for row in told] == ["supervisor"], [(r.kind, r.recipient) for r in rows]
        assert "The step reached nobody: it escalates at once" in told[0].body, told[0].body
        events = session.scalars(select(TimelineEvent.kind).where(TimelineEvent.incident_id == incident.id)).all()
        assert EventKind.DEAD_LETTERED in events and EventKind.NOTIFIED not in events, events
        assert incident.next_escalation_at <= utcnow() and incident.next_escalation_at >= before - timedelta(
            seconds=1
        ), (incident.next_escalation_at, before)
    jobs.deliver(app)  # the supervisors' dead letter, queued by the run before
    written = [path.read_text(errors="replace") for path in outbox_files(app)]
    assert not [text for text in written if "To: l1@test.example" in text], "nothing went to the line taken out"
    assert any("To: supervisor <supervisor@test.example>" in text for text in written), written


def test_news_on_a_line_deactivated_after_it_was_queued_is_cancelled_without_a_dead_letter(app, client, world):
    reference = file_incident(client, world)["reference"]
    jobs.deliver(app)
    answer = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("liaison"))
    assert answer.status_code == 200, answer.get_json()
    deactivate(app, "L1")
    jobs.deliver(app)
    with session_scope(app) as session:
        rows = session.execute(
            select(Notification.kind, Notification.status, Notification.last_error).order_by(Notification.id)
        ).all()
    news = [row for row in rows if row.kind is NotificationKind.ACKNOWLEDGED]
    assert news and all(row.status is NotificationStatus.CANCELLED for row in news), rows
    assert all("the line L1 was deactivated" in row.last_error for row in news), rows
    assert not [row for row in rows if row.kind is NotificationKind.DEAD_LETTER], rows
