"""A delivery batch sends outside any transaction, for as long as its transports take: what it claimed may
be overtaken meanwhile. A call to act claimed before an acknowledgement is not sent once the batch looks
again (jobs.RECHECK_SECONDS); a message that fails after its incident was handled is cancelled, not
retried; a live scheduler's claims are renewed as it goes, and what it records never touches a claim
another scheduler took over. Time is driven by the moments handed to the claims."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support import build_world, file_incident, outbox_files
from tracker import dispatch, jobs
from tracker.channels import DeliveryError
from tracker.db import session_scope
from tracker.models import Incident, IncidentStatus, Notification, NotificationKind, NotificationStatus, User
from tracker.services.engine import delivery, escalation, heartbeat
from tracker.services.incidents import handling, ladder
from tracker.timeutil import utcnow

pytestmark = pytest.mark.both_databases  # claims and their records are conditional UPDATEs (arrays on PostgreSQL)


def claim(app, runner: str, now=None) -> list[delivery.Claimed]:
    now = now or utcnow()
    with session_scope(app) as session:
        heartbeat.beat_runner(session, runner, now)
        return delivery.claim_messages(session, now, 100, dispatch.retry_policy(app), dispatch.composer(app), runner)


def beat(app, runner: str, now) -> None:
    with session_scope(app) as session:
        heartbeat.beat_runner(session, runner, now)


def acknowledge(client, world, reference: str) -> None:
    answer = client.post(f"/api/v1/incidents/{reference}/acknowledge", headers=world.auth("liaison"))
    assert answer.status_code == 200, answer.get_json()


def rows(app) -> dict[int, tuple]:
    with session_scope(app) as session:
        return {n.id: (n.kind, n.status, n.last_error) for n in session.scalars(select(Notification))}


def test_a_call_to_act_claimed_before_an_acknowledgement_is_not_sent_after_it(app):
    world = build_world(app)
    client = app.test_client()
    reference = file_incident(client, world)["reference"]
    claimed_at = time.monotonic()
    claimed = claim(app, "A")
    assert [c.message.event for c in claimed] == ["incident.notified"]
    acknowledge(client, world, reference)  # while the batch is still busy with earlier messages
    time.sleep(jobs.RECHECK_SECONDS)

    sent = jobs._send_all(app, claimed, dispatch.retry_policy(app), "A", claimed_at)
    [(kind, status, reason)] = [v for k, v in rows(app).items() if k == claimed[0].notification_id]
    assert (sent, status) == (0, NotificationStatus.CANCELLED), rows(app)
    assert reason == "not sent: the incident was acknowledged after it was queued"
    assert not [p.name for p in outbox_files(app) if "notified" in p.read_text()], "the call to act went out"

    jobs.deliver(app)  # the acknowledged news still goes
    statuses = {k.value: s for k, s, _ in rows(app).values()}
    assert statuses == {"notified": NotificationStatus.CANCELLED, "acknowledged": NotificationStatus.SENT}, statuses


def test_a_call_to_act_that_fails_after_an_acknowledgement_is_cancelled_not_retried(app):
    world = build_world(app)
    client = app.test_client()
    reference = file_incident(client, world)["reference"]
    [call] = claim(app, "A")
    acknowledge(client, world, reference)
    with session_scope(app) as session:
        status = delivery.record_failure(
            session, call.notification_id, call.transport, DeliveryError("timed out"), utcnow(),
            dispatch.retry_policy(app), runner="A",
        )  # fmt: skip
    assert status is NotificationStatus.CANCELLED, rows(app)
    assert (
        rows(app)[call.notification_id][2] == "not sent: the incident was acknowledged after it was queued (timed out)"
    )


def test_a_decision_asked_that_fails_after_an_acknowledgement_is_not_asked_again(app):
    world = build_world(app)
    with session_scope(app) as session:  # step 2 is entered by a supervisor's decision
        steps = [
            {"channel_ids": [world.channels["L1"]], "ack_seconds": 60},
            {"channel_ids": [world.channels["L2"]], "ack_seconds": 60, "by_decision": True},
        ]
        ladder.save_policy(session, {"steps": steps}, ladder.get_policy(session, world.policy_id))
    client = app.test_client()
    reference = file_incident(client, world)["reference"]
    claim(app, "A")  # the call to act of step 1 (sent or not, it is not what this test is about)
    later = utcnow() + timedelta(seconds=61)
    with session_scope(app) as session:
        assert escalation.sweep_batch(session, later, 10, "sweeper", dispatch.ack_links(app)) == 1
    asks = [c for c in claim(app, "A", later) if c.message.event == "incident.decision_asked"]
    assert asks, rows(app)
    acknowledge(client, world, reference)
    with session_scope(app) as session:
        for ask in asks:
            delivery.record_failure(
                session, ask.notification_id, ask.transport, DeliveryError("timed out"), later,
                dispatch.retry_policy(app), runner="A",
            )  # fmt: skip
    past_backoff = later + timedelta(minutes=10)
    assert not [c for c in claim(app, "A", past_backoff) if c.message.event == "incident.decision_asked"]
    with session_scope(app) as session:
        assert session.scalar(select(Incident.status)) is IncidentStatus.ACKNOWLEDGED
    assert {rows(app)[a.notification_id][1] for a in asks} == {NotificationStatus.CANCELLED}


def test_a_raised_precedence_claimed_before_an_acknowledgement_that_began_earlier_is_not_sent(app):
    """PRECEDENCE RAISED is a call to act too: an acknowledgement that began before the raise and applied on top
    of it (handling._compare_and_set) keeps its earlier moment, and the raise's message must not go out after it."""
    world = build_world(app, ack_seconds=None)  # the steps take their time from the precedence
    client = app.test_client()
    reference = file_incident(client, world, precedence="R")["reference"]
    jobs.deliver(app)
    began = utcnow()  # the acknowledgement's request reads the incident, then the raise commits
    version = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("supervisor")).get_json()["version"]
    raised = client.patch(
        f"/api/v1/incidents/{reference}", json={"version": version, "precedence": "Z"}, headers=world.auth("supervisor")
    )
    assert raised.status_code == 200, raised.get_json()
    [call] = claim(app, "A", began + timedelta(seconds=1))
    assert call.message.event == "incident.upgraded"
    with session_scope(app) as session:
        liaison = session.scalar(select(User).where(User.username == "liaison"))
        handling.acknowledge(session, reference, liaison, began)
    with session_scope(app) as session:
        kept = delivery.hold_claims(session, [call.notification_id], "A", utcnow(), dispatch.retry_policy(app), False)
    assert kept == set(), "the raise would go out after the acknowledgement"
    assert rows(app)[call.notification_id][1:] == (
        NotificationStatus.CANCELLED,
        "not sent: the incident was acknowledged",
    ), rows(app)


def test_a_live_scheduler_keeps_its_claims_and_records_only_its_own(app):
    world = build_world(app)
    file_incident(app.test_client(), world)
    policy = dispatch.retry_policy(app)
    t0 = utcnow()
    [mine] = claim(app, "A", t0)
    # A's batch is still at work near the end of its claim (and A beats, as a live scheduler does): looking
    # again renews the claim, so B takes nothing of it.
    t1 = t0 + timedelta(seconds=policy.claim_seconds - 1)
    with session_scope(app) as session:
        heartbeat.beat_runner(session, "A", t1)
        assert delivery.hold_claims(session, [mine.notification_id], "A", t1, policy, True) == {mine.notification_id}
    beat(app, "A", t1 + timedelta(seconds=2))
    assert claim(app, "B", t1 + timedelta(seconds=2)) == [], "B took a claim A still holds"

    # A, alive, stalls past its renewed claim: B takes the message over, and A no longer counts it as its own.
    t2 = t1 + timedelta(seconds=policy.claim_seconds + 1)
    beat(app, "A", t2)
    [theirs] = claim(app, "B", t2)
    assert theirs.notification_id == mine.notification_id
    with session_scope(app) as session:
        assert delivery.hold_claims(session, [mine.notification_id], "A", t2, policy, False) == set()
        status = delivery.record_failure(
            session, mine.notification_id, mine.transport, DeliveryError("timed out"), t2, policy, runner="A"
        )
    assert status is NotificationStatus.SENDING, "A's failure threw B's claim back"
    with session_scope(app) as session:
        assert delivery.record_sent_many(session, [delivery.Sent(mine.notification_id, "outbox", t2)], "A") == []
        assert delivery.record_sent_many(session, [delivery.Sent(theirs.notification_id, "outbox", t2)], "B") == [
            theirs.notification_id
        ]
    assert rows(app)[theirs.notification_id][1] is NotificationStatus.SENT
    with session_scope(app) as session:
        assert session.scalar(select(Notification.kind)) is NotificationKind.NOTIFIED


def test_a_message_sent_after_another_scheduler_took_its_claim_is_logged_as_sent_twice(app, caplog):
    """A live scheduler starved past its claim sends what it holds before it looks again: the other one sends
    it too. That is the documented at-least-once window; an operator reads it in the log, by message."""
    world = build_world(app)
    file_incident(app.test_client(), world)
    policy = dispatch.retry_policy(app)
    t0 = utcnow()
    [mine] = claim(app, "A", t0)
    [theirs] = claim(app, "B", t0 + timedelta(seconds=policy.claim_seconds + 1))
    assert theirs.notification_id == mine.notification_id
    with caplog.at_level("WARNING", logger="tracker.jobs"):
        assert jobs._send_all(app, [mine], policy, "A", time.monotonic()) == 0, "B's claim is not A's to record"
    said = [r.getMessage() for r in caplog.records if "took over" in r.getMessage()]
    assert said == [
        f"messages [{mine.notification_id}] were sent after another scheduler took over their claims: "
        "they go out twice unless it cancels them"
    ]
    assert rows(app)[mine.notification_id][1] is NotificationStatus.SENDING, "still B's to send and record"


def test_a_check_between_renewals_writes_no_claim(app):
    """Checking is a read (and a cancel where one is due): a batch renews its claims only now and then, not
    every 0.2 s for every message it has left."""
    world = build_world(app, steps=(("L1", "L2"),))
    file_incident(app.test_client(), world)
    policy, now = dispatch.retry_policy(app), utcnow()
    claimed = claim(app, "A", now)
    ids = [c.notification_id for c in claimed]
    with session_scope(app) as session:
        before = dict(session.execute(select(Notification.id, Notification.claimed_until)).all())
        assert delivery.hold_claims(session, ids, "A", now + timedelta(seconds=5), policy, False) == set(ids)
    with session_scope(app) as session:
        assert dict(session.execute(select(Notification.id, Notification.claimed_until)).all()) == before


@pytest.mark.parametrize("status", [IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED])
def test_a_call_to_act_of_a_handled_incident_is_overtaken_whenever_it_was_queued(status):
    """An acknowledgement that raced an escalation keeps the moment it began: the escalation's message may be
    queued after it, and must not go out (nor be retried) all the same."""
    began, queued = utcnow(), utcnow() + timedelta(milliseconds=3)
    handled = {"acknowledged_at": began, "resolved_at": began if status is IncidentStatus.RESOLVED else None}
    reason = delivery.overtaken(NotificationKind.ESCALATED, queued, status, decision_step=None, **handled)
    assert reason == f"not sent: the incident was {status.value}"
    news = delivery.overtaken(NotificationKind.ACKNOWLEDGED, queued, status, decision_step=None, **handled)
    assert news is None, "the news of the handling itself still goes"
